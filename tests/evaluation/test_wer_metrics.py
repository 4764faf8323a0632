import jiwer
import numpy as np
import pytest

from mslu.evaluation import (
    clean_glosses,
    clean_phoenix_glosses,
    read_ctm,
    read_stm,
    wer_report,
    write_ctm,
    write_stm,
)


def _edit_distance(a, b):
    d = np.arange(len(b) + 1)
    for i in range(1, len(a) + 1):
        prev, d[0] = d[0], i
        for j in range(1, len(b) + 1):
            prev, d[j] = d[j], min(d[j] + 1, d[j - 1] + 1, prev + (a[i - 1] != b[j - 1]))
    return int(d[-1])


def test_phoenix_clean_up_rules():
    raw = "__ON__ loc-REGEN WIND WIND __PU__ poss-SEIN cl-KOMMEN lh-DA qu-WAS __EMOTION__ __LEFTHAND__"
    assert clean_phoenix_glosses(raw) == ["REGEN", "WIND", "SEIN", "KOMMEN", "DA", "WAS"]
    # repeats are collapsed after markers are dropped
    assert clean_phoenix_glosses(["A", "__EPENTHESIS__", "A", "B", "A"]) == ["A", "B", "A"]
    assert clean_phoenix_glosses("__ON__ __OFF__") == []
    # extra official rules are opt-in
    extra = "WIE AUSSEHEN S0NNE HABEN2 ZEIGEN A B SCH REGEN-PLUSPLUS WALDRAUM"
    assert clean_phoenix_glosses(extra) == extra.split()
    assert clean_phoenix_glosses(extra, extra_rules=True) == [
        "WIE-AUSSEHEN", "SONNE", "HABEN", "ZEIGEN-BILDSCHIRM", "A+B+SCH", "REGEN", "WALD"
    ]


def test_dataset_variants():
    assert clean_glosses("__ON__ A A", "phoenix2014") == ["A"]
    assert clean_glosses("__ON__ A A", "phoenix2014t") == ["A"]
    assert clean_glosses("他 今天 今天", "csl-daily") == ["他", "今天", "今天"]
    with pytest.raises(ValueError, match="unknown dataset"):
        clean_glosses("A", "wlasl")


def test_wer_hand_computed():
    r = wer_report(["A B C D"], ["A X C"])
    assert (r["n_sub"], r["n_del"], r["n_ins"], r["n_ref"]) == (1, 1, 0, 4)
    assert r["wer"] == pytest.approx(50.0)
    assert r["sub"] == pytest.approx(25.0) and r["del"] == pytest.approx(25.0) and r["ins"] == 0.0
    r = wer_report(["A B", "C"], [["A", "B", "Z"], "C"])
    assert r["n_ins"] == 1 and r["wer"] == pytest.approx(100 / 3)


def test_empty_hypothesis_becomes_empty_token():
    for hyp in ("", "__ON__ __PU__"):
        r = wer_report(["A B C"], [hyp], dataset="phoenix2014")
        assert (r["n_sub"], r["n_del"], r["n_ins"]) == (1, 2, 0)
        assert r["wer"] == pytest.approx(100.0)


def test_cleaning_applies_to_refs_and_hyps():
    refs = ["__ON__ loc-REGEN REGEN WIND __OFF__"]
    hyps = ["REGEN cl-WIND"]
    assert wer_report(refs, hyps, dataset="phoenix2014")["wer"] == 0.0
    r = wer_report(refs, hyps, dataset="phoenix2014", clean_refs=False)
    assert r["n_ref"] == 5 and r["wer"] == pytest.approx(60.0)


def test_wer_matches_jiwer_and_edit_distance_on_random_corpus():
    rng = np.random.default_rng(0)
    vocab = list("ABCDEFG")
    refs = [list(rng.choice(vocab, size=rng.integers(1, 9))) for _ in range(40)]
    hyps = [list(rng.choice(vocab, size=rng.integers(1, 9))) for _ in range(40)]
    r = wer_report(refs, hyps)
    errors = sum(_edit_distance(a, b) for a, b in zip(refs, hyps))
    n = sum(len(a) for a in refs)
    assert r["wer"] == pytest.approx(100 * errors / n)
    joined = [" ".join(x) for x in refs], [" ".join(x) for x in hyps]
    assert r["wer"] == pytest.approx(100 * jiwer.wer(*joined))
    assert r["wer"] == pytest.approx(r["sub"] + r["del"] + r["ins"])


def test_ctm_stm_round_trip(tmp_path):
    ids = ["v1", "v2"]
    write_ctm(tmp_path / "h.ctm", ids, ["A B", []])
    lines = (tmp_path / "h.ctm").read_text().splitlines()
    assert lines == ["v1 1 0.000 0.010 A", "v1 1 0.010 0.010 B", "v2 1 0.000 0.010 [EMPTY]"]
    assert read_ctm(tmp_path / "h.ctm") == {"v1": ["A", "B"], "v2": []}
    write_stm(tmp_path / "r.stm", ids, ["X Y", ["Z"]], speakers=["Signer01", "Signer02"])
    assert (tmp_path / "r.stm").read_text() == (
        "v1 1 Signer01 0.0 1.79769e+308 X Y\nv2 1 Signer02 0.0 1.79769e+308 Z\n"
    )
    entries = read_stm(tmp_path / "r.stm")
    assert [e.tokens for e in entries] == [("X", "Y"), ("Z",)]
    with pytest.raises(ValueError, match="whitespace"):
        write_ctm(tmp_path / "bad.ctm", ["a b"], ["A"])


def test_read_stm_error_names_file_and_line(tmp_path):
    p = tmp_path / "bad.stm"
    p.write_text("v1 1 s 0.0 1.0 A\nbroken line\n")
    with pytest.raises(ValueError, match=r"bad.stm:2"):
        read_stm(p)


STM_FILES = {
    "phoenix-2014t/evaluation/phoenix2014-T-groundtruth-{}.stm": (519, 642, 7096),
    "phoenix-2014/evaluation/phoenix2014-groundtruth-{}.stm": (540, 629, 5671),
    "csl-daily/evaluation/CSL-Daily-groundtruth-{}.stm": (1077, 1176, 18401),
}


@pytest.mark.shared
def test_real_stm_files_read_and_rewrite(shared_datasets, tmp_path):
    for pattern, counts in STM_FILES.items():
        for split, n in zip(("dev", "test", "train"), counts):
            path = shared_datasets / pattern.format(split)
            entries = read_stm(path)
            assert len(entries) == n, path
            assert all(e.tokens for e in entries)
            if split == "dev":  # the writer reproduces the official lines
                out = tmp_path / "out.stm"
                ids, refs, speakers = zip(*[(e.id, e.tokens, e.speaker) for e in entries])
                write_stm(out, ids, refs, speakers)
                assert out.read_text(encoding="utf-8").splitlines() == path.read_text(
                    encoding="utf-8"
                ).splitlines()


@pytest.mark.shared
def test_real_phoenix_references_score_zero_against_themselves(shared_datasets):
    entries = read_stm(shared_datasets / "phoenix-2014/evaluation/phoenix2014-groundtruth-dev.stm")
    refs = [e.tokens for e in entries]
    assert any("__ON__" in r for r in refs)
    cleaned = [clean_phoenix_glosses(r) for r in refs]
    assert not any("__ON__" in r or "__OFF__" in r for r in cleaned)
    assert wer_report(refs, refs, dataset="phoenix2014")["wer"] == 0.0
    # dropping the first gloss of each sentence is one error per sentence (a deletion, or a substitution
    # by [EMPTY] for one-gloss sentences): WER = sentences / cleaned words
    hyps = [r[1:] for r in cleaned]
    r = wer_report(cleaned, hyps, dataset="phoenix2014")
    expected = len(cleaned) / sum(len(c) for c in cleaned)
    assert r["wer"] == pytest.approx(100 * expected)
