import itertools
from collections import defaultdict

import numpy as np
import pytest
import torch

from mslu.decoding import ctc_greedy_decode, ctc_prefix_beam_search


def _collapse(path, blank=0):
    out = []
    prev = None
    for c in path:
        if c != prev and c != blank:
            out.append(c)
        prev = c
    return tuple(out)


def _exhaustive(lp, blank=0):
    """Sum the probability of every path per collapsed label sequence (brute force)."""
    t, c = lp.shape
    probs = defaultdict(float)
    p = np.exp(lp)
    for path in itertools.product(range(c), repeat=t):
        probs[_collapse(path, blank)] += float(np.prod(p[np.arange(t), path]))
    return probs


def _random_log_probs(rng, t, c):
    x = rng.normal(size=(t, c)) * 2.0
    return x - np.log(np.exp(x).sum(-1, keepdims=True))


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("blank", [0, 2])
def test_beam_search_equals_exhaustive_search(seed, blank):
    rng = np.random.default_rng(seed)
    lp = _random_log_probs(rng, 5, 3)
    truth = _exhaustive(lp, blank)
    hyps = ctc_prefix_beam_search(lp, beam_width=1000, blank=blank)
    assert len(hyps) == len(truth)
    for h in hyps:
        assert h.score == pytest.approx(np.log(truth[h.labels]), abs=1e-9)
    best = max(truth, key=truth.get)
    assert hyps[0].labels == best
    assert sum(np.exp(h.score) for h in hyps) == pytest.approx(1.0)


def test_narrow_beam_still_finds_argmax_on_peaked_input():
    rng = np.random.default_rng(7)
    lp = _random_log_probs(rng, 6, 4)
    best = max((truth := _exhaustive(lp)), key=truth.get)
    assert ctc_prefix_beam_search(lp, beam_width=8)[0].labels == best


def test_repeated_label_needs_blank_between():
    # frames: a, blank, a  -> "a a" ; frames: a, a -> "a"
    eps = 1e-6
    lp = np.log(np.array([[eps, 1 - eps], [1 - eps, eps], [eps, 1 - eps]]))
    assert ctc_prefix_beam_search(lp, beam_width=5)[0].labels == (1, 1)
    assert ctc_greedy_decode(lp) == [1, 1]
    lp2 = np.log(np.array([[eps, 1 - eps], [eps, 1 - eps]]))
    assert ctc_prefix_beam_search(lp2, beam_width=5)[0].labels == (1,)
    assert ctc_greedy_decode(lp2) == [1]


def test_beam_differs_from_greedy_when_paths_sum():
    # Greedy picks blank,blank ("") with p=0.36; label 1 collects 0.4*0.6*2 + 0.4*0.4 = 0.64.
    lp = np.log(np.array([[0.6, 0.4], [0.6, 0.4]]))
    assert ctc_greedy_decode(lp) == []
    hyps = ctc_prefix_beam_search(lp, beam_width=4)
    assert hyps[0].labels == (1,)
    assert np.exp(hyps[0].score) == pytest.approx(0.64)
    assert hyps[1].labels == ()
    assert np.exp(hyps[1].score) == pytest.approx(0.36)


def test_greedy_hand_made():
    ids = [0, 1, 1, 0, 1, 2, 2, 0, 0, 3]
    lp = np.log(np.full((len(ids), 4), 0.1))
    lp[np.arange(len(ids)), ids] = np.log(0.7)
    assert ctc_greedy_decode(lp) == [1, 1, 2, 3]
    assert ctc_greedy_decode(lp, blank=1) == [0, 0, 2, 0, 3]


def test_batch_with_lengths_and_torch_input():
    rng = np.random.default_rng(3)
    a = _random_log_probs(rng, 6, 4)
    b = _random_log_probs(rng, 4, 4)
    batch = np.zeros((2, 6, 4))
    batch[0] = a
    batch[1, :4] = b
    batch[1, 4:] = np.log([0.01, 0.97, 0.01, 0.01])  # padding that would add label 1 if decoded
    lengths = torch.tensor([6, 4])
    greedy = ctc_greedy_decode(torch.from_numpy(batch), lengths)
    assert greedy == [ctc_greedy_decode(a), ctc_greedy_decode(b)]
    beams = ctc_prefix_beam_search(torch.from_numpy(batch), beam_width=6, lengths=lengths, nbest=3)
    assert len(beams) == 2 and all(len(x) == 3 for x in beams)
    assert beams[1] == ctc_prefix_beam_search(b, beam_width=6, nbest=3)
    assert beams[0] == ctc_prefix_beam_search(a, beam_width=6, nbest=3)


def test_bad_input():
    with pytest.raises(ValueError, match="shape"):
        ctc_greedy_decode(np.zeros(5))
    with pytest.raises(ValueError, match="lengths"):
        ctc_greedy_decode(np.zeros((2, 3, 4)), lengths=[3, 4])
    with pytest.raises(ValueError, match="blank"):
        ctc_prefix_beam_search(np.zeros((3, 4)), blank=4)


def _textbook_prefix_beam_search(lp, beam_width, blank=0):
    """Straightforward dict-based prefix beam search (independent reference for narrow beams)."""
    beams = {(): (0.0, -np.inf)}
    for frame in lp:
        nxt = defaultdict(lambda: [-np.inf, -np.inf])
        for prefix, (pb, pnb) in beams.items():
            tot = np.logaddexp(pb, pnb)
            nxt[prefix][0] = np.logaddexp(nxt[prefix][0], tot + frame[blank])
            for c in range(lp.shape[1]):
                if c == blank:
                    continue
                new = prefix + (c,)
                if prefix and prefix[-1] == c:
                    nxt[prefix][1] = np.logaddexp(nxt[prefix][1], pnb + frame[c])
                    nxt[new][1] = np.logaddexp(nxt[new][1], pb + frame[c])
                else:
                    nxt[new][1] = np.logaddexp(nxt[new][1], tot + frame[c])
        ranked = sorted(nxt.items(), key=lambda kv: -np.logaddexp(*kv[1]))[:beam_width]
        beams = {p: tuple(v) for p, v in ranked}
    scored = [(p, float(np.logaddexp(*v))) for p, v in beams.items()]
    return sorted(scored, key=lambda ps: -ps[1])


@pytest.mark.parametrize("beam_width", [1, 2, 3, 5])
def test_narrow_beam_matches_textbook_implementation(beam_width):
    rng = np.random.default_rng(beam_width)
    lp = _random_log_probs(rng, 12, 4)
    got = ctc_prefix_beam_search(lp, beam_width=beam_width)
    ref = _textbook_prefix_beam_search(lp, beam_width)
    assert [h.labels for h in got] == [p for p, _ in ref]
    assert [h.score for h in got] == pytest.approx([s for _, s in ref])


def test_ties_are_deterministic():
    lp = np.log(np.full((2, 3), 1 / 3))
    a = ctc_prefix_beam_search(lp, beam_width=2)
    assert a == ctc_prefix_beam_search(lp, beam_width=2)
    # frame 1 keeps "" and (1,) (stable among three ties); then (1,) has 3/9 and "", (2,), (1, 2) tie at
    # 1/9: the kept prefix "" comes before the new extensions
    assert [h.labels for h in a] == [(1,), ()]
    assert np.exp([h.score for h in a]) == pytest.approx([3 / 9, 1 / 9])
