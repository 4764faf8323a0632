"""Tests of the synthetic sign language corpus (mslu.data.synth)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from mslu.data.schema import validate_sample
from mslu.data.synth import (
    SynthConfig,
    animate,
    animate_body,
    build_benchmark,
    build_language,
    generate_samples,
    get_signer,
    make_sample,
    mirror_body,
    sign_timeline,
)
from mslu.data.synth.grammar import Grammar, Proposition, realise, sign_order
from mslu.data.synth.kinematics import MIRROR
from mslu.data.synth.lexicon import CONCEPTS
from mslu.pose.layouts import SL79

CFG = SynthConfig(seed=3, num_samples=60)
MANUAL = np.asarray(SL79.groups["manual"])
NON_MANUAL = np.asarray(SL79.groups["non_manual"])


@pytest.fixture(scope="module")
def samples():
    return list(generate_samples(CFG))


def _same(a, b) -> bool:
    return (
        a.id == b.id
        and np.array_equal(a.pose, b.pose)
        and (a.text, a.gloss, a.label, a.signer, a.split, a.paired, a.sign_language)
        == (b.text, b.gloss, b.label, b.signer, b.split, b.paired, b.sign_language)
    )


def test_deterministic_and_independent_of_chunking(samples):
    again = list(generate_samples(CFG))
    assert all(_same(a, b) for a, b in zip(samples, again, strict=True))
    assert _same(make_sample(CFG, 17), samples[17])
    chunk = list(generate_samples(CFG, start=40, stop=45))
    assert all(_same(a, b) for a, b in zip(chunk, samples[40:45], strict=True))
    # a different stream seed gives different data
    other = make_sample(dataclasses.replace(CFG, seed=4), 17)
    assert other.pose.shape != samples[17].pose.shape or not np.array_equal(other.pose, samples[17].pose)


def test_samples_are_valid(samples):
    for s in samples:
        validate_sample(s)
        assert s.pose.shape[1:] == (79, 3) and s.pose.dtype == np.float32
        assert 20 <= s.num_frames <= 260
        conf = s.pose[..., 2]
        assert conf.min() >= 0 and conf.max() <= 1
        assert np.all(s.pose[conf == 0][:, :2] == 0)  # storage form of a missing joint
        xy = s.pose[conf > 0][:, :2]
        assert xy.min() >= 0 and xy.max() <= 1
        assert (conf > 0.5).mean() > 0.7  # mostly confident
        assert s.split == "pretrain" and s.fps == 25.0 and s.width > 0 and s.height > 0
    kinds = {s.source for s in samples}
    assert kinds == {"synth-isolated", "synth-continuous", "synth-unpaired"}
    assert {s.sign_language for s in samples} == {"syn-en", "syn-de", "syn-zh"}
    assert any((s.pose[..., 2] == 0).any() for s in samples)  # some dropped joints


def test_sample_kinds(samples):
    templates = {"en": "This word is ", "de": "Dieses Wort ist ", "zh": "这个词是"}
    for s in samples:
        lang = build_language(s.sign_language, CFG.vocab_size, CFG.world_seed, CFG.confusing_fraction)
        if s.source == "synth-isolated":
            assert s.paired and s.gloss is None and 0 <= s.label < lang.vocab_size
            assert s.text == templates[s.text_language] + lang.words[s.label] + (
                "。" if s.text_language == "zh" else "."
            )
        elif s.source == "synth-continuous":
            assert s.paired and s.label is None and s.gloss and s.text
            assert all(g in lang.glosses for g in s.gloss)
            assert s.text_language == {"syn-en": "en", "syn-de": "de", "syn-zh": "zh"}[s.sign_language]
        else:
            assert not s.paired and s.text is None and s.text_language is None and s.label is None


def test_vocabulary_shares_concepts_across_languages():
    en, de, zh = (build_language(c, 40) for c in ("syn-en", "syn-de", "syn-zh"))
    assert len(set(en.concepts)) == 40 == len(set(en.glosses)) == len(en.concept_ids)
    full = build_language("syn-zh", 114)
    assert len(set(full.glosses)) == len(set(full.words)) == 114  # gloss names are unique
    assert en.glosses[en.label("mother")] == "MOTHER" if "mother" in en.concepts else True
    both = set(en.concepts) & set(de.concepts)
    assert both  # a shared concept space
    k = sorted(both)[0]
    # same concept, different signs in different sign languages
    assert not np.allclose(en.protos[en.label(k)], de.protos[de.label(k)])
    assert zh.text_language == "zh" and all(not g.isascii() for g in zh.glosses)
    # cognates: the same concepts in every language, with alike hand shapes and nearby wrist paths
    cog_en = {k for k, d in zip(en.concepts, en.info, strict=True) if d.get("cognate")}
    cog_de = {k for k, d in zip(de.concepts, de.info, strict=True) if d.get("cognate")}
    paired = {lang.concepts[i] for lang in (en, de) for pair in lang.confusing_pairs for i in pair}
    assert cog_en and (cog_en & both) - paired == (cog_de & both) - paired
    for k in cog_en & cog_de:
        a, b = en.protos[en.label(k)], de.protos[de.label(k)]
        np.testing.assert_array_equal(a[:, 4:46], b[:, 4:46])  # dominant hand shape
        assert np.abs(a[:, :2] - b[:, :2]).max() < 0.25


def test_confusing_pairs_differ_only_in_non_manual_points():
    lang = build_language("syn-en", 100, 1234, 0.2)
    assert len(lang.confusing_pairs) == 10
    signer = get_signer(1234, 0)
    for a, b in lang.confusing_pairs[:4]:
        pa = animate(sign_timeline(lang, [a], signer, np.random.default_rng(5)), signer, None, noise=False)
        pb = animate(sign_timeline(lang, [b], signer, np.random.default_rng(5)), signer, None, noise=False)
        assert pa.shape == pb.shape
        np.testing.assert_array_equal(pa[:, MANUAL], pb[:, MANUAL])
        diff = np.abs(pa[:, NON_MANUAL, :2] - pb[:, NON_MANUAL, :2]).max()
        assert diff > 0.003  # visibly different face / mouth (frame units)
    # an ordinary pair of signs differs in the manual points
    in_pairs = {k for pair in lang.confusing_pairs for k in pair}
    a, b = [k for k in range(lang.vocab_size) if k not in in_pairs][:2]
    pa = animate(sign_timeline(lang, [a], signer, np.random.default_rng(5)), signer, None, noise=False)
    pb = animate(sign_timeline(lang, [b], signer, np.random.default_rng(5)), signer, None, noise=False)
    assert pa.shape != pb.shape or np.abs(pa[:, MANUAL] - pb[:, MANUAL]).max() > 0.01


def test_left_handed_signer_is_mirrored():
    assert np.array_equal(MIRROR[MIRROR], np.arange(79))
    lang = build_language("syn-de", 100)
    right = dataclasses.replace(get_signer(1234, 0), left_handed=False, head_roll=0.0)
    left = dataclasses.replace(right, left_handed=True)
    tl = sign_timeline(lang, [3, 7, 9], right, np.random.default_rng(0))
    r, lft = animate_body(tl, right), animate_body(tl, left)
    np.testing.assert_allclose(lft, mirror_body(r))
    lw, rw = SL79.names.index("left_wrist"), SL79.names.index("right_wrist")
    np.testing.assert_allclose(lft[:, lw, 0], -r[:, rw, 0])
    np.testing.assert_allclose(lft[:, lw, 1], r[:, rw, 1])
    # the dominant hand moves more than the other one
    path = lambda xy, k: np.abs(np.diff(xy[:, k], axis=0)).sum()  # noqa: E731
    assert path(r, rw) > path(r, lw) and path(lft, lw) > path(lft, rw)


def test_texts_and_word_orders():
    p = Proposition("trans", subj="mother", verb="eat", obj="bread", time="today")
    outs = {
        lang: {realise(p, lang, np.random.default_rng(i)) for i in range(40)} for lang in ("en", "de", "zh")
    }
    assert outs["en"] == {"Today the mother eats the bread.", "The mother eats the bread today."}
    assert outs["de"] == {"Heute isst die Mutter das Brot.", "Die Mutter isst heute das Brot."}
    assert outs["zh"] == {"今天妈妈吃面包。", "妈妈今天吃面包。", "面包，妈妈今天吃。"}
    sub = Proposition("trans", subj="father", verb="buy", obj="apple", say_subj="sister", say_verb="say")
    assert (
        realise(sub, "de", np.random.default_rng(0)) == "Die Schwester sagt, dass der Vater den Apfel kauft."
    )
    assert realise(sub, "en", np.random.default_rng(0)) == "The sister says that the father buys the apple."
    assert realise(sub, "zh", np.random.default_rng(1)) in {"姐姐说爸爸买苹果。", "姐姐说苹果，爸爸买。"}
    w = Proposition("weather", verb="rain", time="tomorrow")
    assert {realise(w, "de", np.random.default_rng(i)) for i in range(20)} == {
        "Morgen regnet es.", "Es regnet morgen."
    }  # fmt: skip
    # verbs take only fitting objects; sentences use only the vocabulary
    assert Grammar(["read", "car", "mother", "rain"]).verbs == []
    g = Grammar([c.key for c in CONCEPTS])
    props = [g.sample(np.random.default_rng(i)) for i in range(300)]
    assert all(q.obj in ("book", "letter") for q in props if q.verb == "read")
    assert {q.kind for q in props} == {"trans", "adj", "weather"} and any(q.say_subj for q in props)
    assert sign_order(p, "syn-en") == ["today", "mother", "eat", "bread"]
    assert sign_order(p, "syn-de") == ["today", "mother", "bread", "eat"]
    assert sign_order(p, "syn-zh") == ["today", "bread", "mother", "eat"]


def test_benchmarks_splits_and_signers():
    cfg = SynthConfig(vocab_size=20)
    isl = list(build_benchmark("islr", "syn-zh", num_train=40, num_dev=5, num_test=10, cfg=cfg))
    assert [s.split for s in isl].count("test") == 10 and len(isl) == 55
    assert [s.label for s in isl if s.split == "train"] == [i % 20 for i in range(40)]
    assert all(s.source == "synth-islr" and s.text.startswith("这个词是") for s in isl)
    train_signers = {s.signer for s in isl if s.split == "train"}
    test_signers = {s.signer for s in isl if s.split == "test"}
    assert not train_signers & test_signers
    pre = {s.signer for s in generate_samples(dataclasses.replace(cfg, num_samples=30))}
    assert not pre & test_signers
    slt = list(build_benchmark("slt", "syn-de", num_train=3, num_dev=1, num_test=1, cfg=cfg))
    assert all(s.gloss and s.text and s.text_language == "de" for s in slt)
    with pytest.raises(ValueError, match="benchmark kind"):
        next(build_benchmark("asr"))


def test_bad_config_is_rejected():
    with pytest.raises(ValueError, match="vocab_size"):
        SynthConfig(vocab_size=3)
    with pytest.raises(ValueError, match="syn-xx"):
        SynthConfig(languages=("syn-xx",))


def _fill_missing(x: np.ndarray) -> np.ndarray:
    """Replace missing joints (confidence 0) of (T, K, 3) by the last seen position (or the first)."""
    out = x.copy()
    for k in range(x.shape[1]):
        seen = x[:, k, 2] > 0
        if seen.any():
            last = np.maximum.accumulate(np.where(seen, np.arange(len(x)), 0))
            last[: int(np.argmax(seen))] = int(np.argmax(seen))
            out[:, k] = x[last, k]
    return out


def _features(pose: np.ndarray) -> np.ndarray:
    """Wrist paths relative to the shoulders (16 time steps) and the mouth opening."""
    names = SL79.names
    idx = [names.index(n) for n in ("left_shoulder", "right_shoulder", "left_wrist", "right_wrist")]
    mouth = list(SL79.groups["mouth"])
    p = _fill_missing(pose[:, idx + mouth])
    mid = (p[:, 0, :2] + p[:, 1, :2]) / 2
    width = np.median(np.linalg.norm(p[:, 0, :2] - p[:, 1, :2], axis=-1)) + 1e-6
    wr = (p[:, 2:4, :2] - mid[:, None]) / width
    opening = (p[:, 4:, 1].max(1) - p[:, 4:, 1].min(1)) / width
    t = np.linspace(0, len(pose) - 1, 16).astype(int)
    return np.concatenate([wr[t].ravel(), 3 * opening[t]])


def test_isolated_signs_are_learnable_but_not_trivial():
    cfg = SynthConfig(vocab_size=30)
    data = list(build_benchmark("islr", "syn-en", num_train=240, num_dev=0, num_test=90, cfg=cfg))
    x = np.stack([_features(s.pose) for s in data])
    y = np.array([s.label for s in data])
    train = np.array([s.split == "train" for s in data])
    centroids = np.stack([x[train & (y == c)].mean(0) for c in range(30)])
    d = ((x[~train][:, None] - centroids[None]) ** 2).sum(-1)
    acc = float((d.argmin(1) == y[~train]).mean())
    assert 6 / 30 < acc < 0.95, acc  # far above chance (1/30), not solved by a trivial classifier


def test_cli_writes_and_resumes_a_corpus(tmp_path):
    from mslu.cli import main
    from mslu.data.corpus import Corpus

    out = tmp_path / "corpus"
    args = ["synth", "--out", str(out), "--seed", "2", "--vocab-size", "20", "--shard-size", "8"]
    assert main([*args, "--num-samples", "12", "--benchmarks", "--bench-sizes", "2", "1", "1"]) == 0
    assert main([*args, "--num-samples", "20"]) == 0  # resume: only the 8 new samples are generated
    corpus = Corpus(out)
    assert len(corpus) == 20
    expected = make_sample(SynthConfig(seed=2, num_samples=20, vocab_size=20), 15)
    got = [corpus[i] for i in range(20) if corpus[i].id == expected.id][0]
    assert got.text == expected.text and got.label == expected.label
    np.testing.assert_allclose(got.pose, expected.pose, atol=2e-3)
    bench = Corpus(out / "benchmarks" / "islr-syn-zh")
    assert len(bench) == 4 and {bench[i].split for i in range(4)} == {"train", "dev", "test"}


def test_frame_step_keeps_every_nth_rendered_frame():
    full = make_sample(CFG, 5)
    half = make_sample(dataclasses.replace(CFG, frame_step=2), 5)
    assert half.fps == full.fps / 2 == 12.5
    np.testing.assert_array_equal(half.pose, full.pose[::2])
    assert half.pose.flags["C_CONTIGUOUS"]
    assert (half.id, half.text, half.label) == (full.id, full.text, full.label)
    sizes = {"num_train": 1, "num_dev": 0, "num_test": 0}
    isl = next(build_benchmark("islr", "syn-en", **sizes, cfg=SynthConfig(vocab_size=20, frame_step=3)))
    ref = next(build_benchmark("islr", "syn-en", **sizes, cfg=SynthConfig(vocab_size=20)))
    np.testing.assert_array_equal(isl.pose, ref.pose[::3])
    for bad in (0, 1.5):
        with pytest.raises(ValueError, match="frame_step"):
            SynthConfig(frame_step=bad)


def test_a_folder_of_other_settings_is_refused(tmp_path):
    from mslu.cli import main

    out = tmp_path / "corpus"
    args = ["synth", "--out", str(out), "--num-samples", "4", "--vocab-size", "20", "--shard-size", "8"]
    assert main(args) == 0
    before = sorted(p.name for p in out.iterdir())
    assert main([*args, "--frame-step", "2"]) == 2  # would mix 25- and 12.5-fps samples of the same ids
    assert main([*args[:-4], "--vocab-size", "30", "--shard-size", "8"]) == 2
    assert sorted(p.name for p in out.iterdir()) == before
    assert main([*args, "--num-samples", "6"]) == 0  # same settings: resumes


def test_a_folder_written_before_stamps_counts_as_full_rate(tmp_path):
    from mslu.data.synth.writer import STAMP, check_stamp

    old = tmp_path / "old"
    old.mkdir()
    (old / "shard-00000.parquet").write_bytes(b"")
    check_stamp(old, SynthConfig())  # frame step 1: accepted, and no stamp claims settings not known
    assert not (old / STAMP).exists()
    with pytest.raises(ValueError, match="frame_step 1"):
        check_stamp(old, SynthConfig(frame_step=2))
    for bad in ("{not json", "[1, 2]"):
        (old / STAMP).write_text(bad)
        with pytest.raises(ValueError, match="synth.json is not the JSON"):
            check_stamp(old, SynthConfig())


def test_a_benchmark_folder_of_other_settings_is_refused(tmp_path):
    from mslu.data.synth.writer import write_benchmark

    root, sizes = tmp_path / "islr", {"train": 2, "dev": 1, "test": 1}
    write_benchmark(root, "islr", "syn-en", sizes, 0, SynthConfig(vocab_size=20))
    before = sorted(p.name for p in root.iterdir())
    with pytest.raises(ValueError, match="frame_step 1 \\(this run: 2\\)"):
        write_benchmark(root, "islr", "syn-en", sizes, 0, SynthConfig(vocab_size=20, frame_step=2))
    assert sorted(p.name for p in root.iterdir()) == before
