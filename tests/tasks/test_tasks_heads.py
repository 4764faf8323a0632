"""Unit tests of the task heads, frame sampling, schedules, optimiser groups and beam search."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from mslu.decoding.beam_search import beam_search
from mslu.models import PretrainConfig, SignPoseEncoder
from mslu.tasks import CSLRModel, ISLRModel, RetrievalModel, SLTModel, sample_frame_indices, uniform_indices
from mslu.tasks.cslr import tcn_output_lengths
from mslu.tasks.tokenizer import TextTokenizer
from mslu.training.schedules import optimizer_groups, schedule_factor


@pytest.fixture()
def encoder():
    torch.manual_seed(0)
    return SignPoseEncoder(PretrainConfig.preset("tiny").encoder).eval()


def batch(b=3, t=40, lengths=(40, 31, 22)):
    g = torch.Generator().manual_seed(1)
    pose = torch.rand(b, t, 79, 3, generator=g)
    mask = torch.arange(t)[None] < torch.tensor(lengths)[:, None]
    return pose * mask[..., None, None], mask


# ---- frame sampling ----
def test_islr_frame_sampling_random_vs_centre_and_short_clips():
    centre = sample_frame_indices(100, 32, train=False)
    assert centre.tolist() == list(range(34, 66))
    starts = {int(sample_frame_indices(100, 32, True, np.random.default_rng(s))[0]) for s in range(30)}
    assert len(starts) > 5 and min(starts) >= 0 and max(starts) <= 68
    w = sample_frame_indices(100, 32, True, np.random.default_rng(3))
    assert np.array_equal(w, np.arange(w[0], w[0] + 32))
    assert sample_frame_indices(10, 32, True, np.random.default_rng(0), short="pad").tolist() == list(
        range(10)
    )
    rep = sample_frame_indices(10, 32, False, short="repeat")
    assert len(rep) == 32 and rep.tolist()[:12] == [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]


def test_uniform_subsampling_and_temporal_scale():
    assert uniform_indices(100, 256).tolist() == list(range(100))
    idx = uniform_indices(512, 256)
    assert len(idx) == 256 and idx[0] == 0 and idx[-1] == 510 and np.all(np.diff(idx) == 2)
    lens = {len(uniform_indices(100, 256, True, np.random.default_rng(s), (0.8, 1.2))) for s in range(20)}
    assert min(lens) >= 80 and max(lens) <= 120 and len(lens) > 3


# ---- heads ----
def test_islr_head_shapes_and_label_smoothed_loss(encoder):
    pose, mask = batch()
    model = ISLRModel(encoder, num_classes=7).eval()
    logits = model(pose, mask)
    assert logits.shape == (3, 7)
    y = torch.tensor([0, 3, 6])
    eps = 0.2
    logp = logits.log_softmax(-1)
    manual = -((1 - eps) * logp[torch.arange(3), y] + eps / 7 * logp.sum(-1)).mean()
    assert torch.allclose(F.cross_entropy(logits, y, label_smoothing=eps), manual, atol=1e-6)
    # padding frames do not change the prediction
    pose2 = pose.clone()
    pose2[2, 30:] = 5.0
    assert torch.allclose(model(pose2, mask)[2], logits[2], atol=1e-5)


def test_cslr_output_lengths_and_ctc(encoder):
    # K5-P2-K5-P2: 31 -> 27 -> 13 -> 9 -> 4; 22 -> 18 -> 9 -> 5 -> 2
    assert tcn_output_lengths(torch.tensor([40, 31, 22, 10])).tolist() == [
        7,
        4,
        2,
        0,
    ]
    assert tcn_output_lengths(torch.tensor([40]), padding=2).tolist() == [10]
    pose, mask = batch()
    model = CSLRModel(encoder, vocab_size=5, tcn_hidden=8, lstm_hidden=8).eval()
    lp, lens = model(pose, mask)
    assert lens.tolist() == [7, 4, 2]
    assert lp.shape == (3, 7, 6)
    assert torch.allclose(lp.exp().sum(-1), torch.ones(3, 7), atol=1e-5)
    tgt = torch.tensor([1, 2, 3, 4, 5, 2])
    loss = F.ctc_loss(lp.transpose(0, 1), tgt, lens, torch.tensor([3, 2, 1]), zero_infinity=True)
    assert torch.isfinite(loss) and loss > 0
    # a target longer than the output cannot be aligned: zero_infinity gives 0, not inf
    inf = F.ctc_loss(
        lp.transpose(0, 1)[:, 2:],
        torch.tensor([1, 2, 1, 2]),
        lens[2:],
        torch.tensor([4]),
        zero_infinity=True,
        reduction="sum",
    )
    assert inf.item() == 0.0


def test_slt_decoder_shapes_and_causality(encoder):
    pose, mask = batch()
    model = SLTModel(encoder, vocab_size=11, d_model=16, heads=2, ffn_dim=32, max_len=10).eval()
    tokens = torch.randint(3, 11, (3, 5))
    logits = model(pose, mask, tokens)
    assert logits.shape == (3, 5, 11)
    changed = tokens.clone()
    changed[:, 4] = 1
    assert torch.allclose(model(pose, mask, changed)[:, :4], logits[:, :4], atol=1e-5)
    assert model.output.weight is model.embed.weight  # tied by default


def test_retrieval_similarity_matrix_shape(encoder):
    from mslu.models.similarity import fine_similarity
    from mslu.tasks import RetrievalTask

    pose, mask = batch()
    model = RetrievalModel(encoder, text_dim=8, embed_dim=12).eval()
    sign = model.embed_sign(pose, mask)
    feats, tmask = torch.randn(3, 6, 8), torch.tensor([[1] * 6, [1] * 4 + [0] * 2, [1] * 2 + [0] * 4]).bool()
    text = model.embed_text(feats, tmask)
    task = RetrievalTask({"model": {"head": {"eval_chunk": 2}}})
    sim = task.similarity_matrix(model, sign, text)
    assert sim.shape == (3, 3)
    ref = fine_similarity(sign[0], sign[1], text[0], text[1]).T
    assert torch.allclose(sim, ref, atol=1e-6)
    assert math.isclose(float(model.scale().detach()), 1 / 0.07, rel_tol=1e-5)


# ---- optimisation ----
def test_encoder_lr_is_finetune_rate_times_head_lr(encoder):
    model = ISLRModel(encoder, 4)
    o = {"lr": 1e-3, "finetune_rate": 0.1, "weight_decay": 1e-4}
    groups = optimizer_groups(model, o, pretrained=True)
    lrs = {g["name"]: g["lr"] for g in groups}
    assert lrs == {"encoder": pytest.approx(1e-4), "head": pytest.approx(1e-3)}
    enc_ids = {id(p) for p in encoder.parameters()}
    for g in groups:
        assert all((id(p) in enc_ids) == (g["name"] == "encoder") for p in g["params"])
        assert g["weight_decay"] == (1e-4 if all(p.ndim >= 2 for p in g["params"]) else 0.0)
    n = sum(p.numel() for g in groups for p in g["params"])
    assert n == sum(p.numel() for p in model.parameters())
    scratch = {g["name"]: g["lr"] for g in optimizer_groups(model, o, pretrained=False)}
    assert scratch["encoder"] == scratch["head"] == pytest.approx(1e-3)


def test_schedules():
    step = schedule_factor({"schedule": "step", "milestones": [2, 3], "gamma": 0.1}, 10, 50)
    assert [step(s) for s in (0, 19, 20, 29, 30, 49)] == pytest.approx([1, 1, 0.1, 0.1, 0.01, 0.01])
    every = schedule_factor({"schedule": "step", "step_size": 20, "gamma": 0.1}, 1, 60)
    assert [every(s) for s in (19, 20, 40)] == pytest.approx([1, 0.1, 0.01])
    cos = schedule_factor({"schedule": "cosine", "warmup": 0.1}, 10, 100)
    assert cos(0) == pytest.approx(0.1) and cos(9) == pytest.approx(1.0)
    assert cos(10) == pytest.approx(1.0) and cos(55) == pytest.approx(0.5) and cos(100) == pytest.approx(0.0)


# ---- beam search ----
def table_step(vocab: int, seed: int):
    """Deterministic next-token log-probs depending on (batch row, prefix)."""

    def logp(row: int, prefix: tuple[int, ...]) -> torch.Tensor:
        g = torch.Generator().manual_seed(hash((seed, row, prefix)) % (2**31))
        return (2 * torch.randn(vocab, generator=g)).log_softmax(-1)

    def step(tokens: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
        return torch.stack([logp(int(r), tuple(t.tolist())) for t, r in zip(tokens, rows)])

    return step, logp


def exhaustive(logp, row: int, vocab: int, bos: int, eos: int, max_len: int, alpha: float) -> list[int]:
    best, best_seq = -math.inf, None
    words = [c for c in range(vocab) if c != eos]
    for n in range(1, max_len + 1):
        endings = [(eos,)] + ([(w,) for w in words] if n == max_len else [])
        for body in itertools.product(words, repeat=n - 1):
            for end in endings:
                seq = body + end
                lp = sum(float(logp(row, (bos, *seq[:i]))[seq[i]]) for i in range(n))
                score = lp / n**alpha
                if score > best + 1e-9:
                    best, best_seq = score, [c for c in seq if c != eos]
    return best_seq


@pytest.mark.parametrize("alpha", [0.0, 1.0])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_beam_search_equals_exhaustive_search(alpha, seed):
    vocab, bos, eos, max_len = 4, 0, 1, 4
    step, logp = table_step(vocab, seed)
    got = beam_search(step, 2, bos, eos, beam_size=vocab**max_len, max_len=max_len, length_penalty=alpha)
    want = [exhaustive(logp, r, vocab, bos, eos, max_len, alpha) for r in range(2)]
    assert got == want


def test_beam_one_is_greedy():
    vocab, bos, eos, max_len = 5, 0, 1, 6
    step, logp = table_step(vocab, 7)
    prefix: list[int] = []
    for _ in range(max_len):
        nxt = int(logp(0, (bos, *prefix)).argmax())
        if nxt == eos:
            break
        prefix.append(nxt)
    # with beam 1 and no length penalty the only alive hypothesis follows the greedy path; the result is
    # the best of the greedy path's own eos-terminated prefixes, which includes the greedy output
    got = beam_search(step, 1, bos, eos, beam_size=1, max_len=max_len, length_penalty=0.0)[0]
    assert got == prefix[: len(got)]


# ---- tokenizer ----
def test_tokenizers_roundtrip(tmp_path):
    word = TextTokenizer.train(["Der Hund isst.", "Die Katze schläft heute."], kind="word")
    assert word.decode(word.encode("Der Hund schläft.")) == "Der Hund schläft ."
    assert word.decode(word.encode("Der Elefant")) == "Der <unk>"
    assert (word.pad_id, word.bos_id, word.eos_id) == (0, 1, 2)
    char = TextTokenizer.train(["我爱北京", "天安门"], kind="auto", language="zh")
    assert char.kind == "char" and len(char.encode("我爱 北京")) == 4
    assert char.decode(char.encode("北京天安门")) == "北京天安门"
    word.save(tmp_path)
    again = TextTokenizer.load(tmp_path)
    assert again.encode("Die Katze") == word.encode("Die Katze") and again.vocab_size == word.vocab_size
