import math

import pytest
import sacrebleu

from mslu.evaluation import bleu_scores, rouge_l, translation_metrics


def test_identical_is_100():
    hyps = ["am tag wird es sonnig", "im norden regen"]
    r = translation_metrics(hyps, hyps, "de")
    for n in range(1, 5):
        assert r[f"bleu{n}"] == pytest.approx(100.0)
    assert r["rouge_l"] == pytest.approx(100.0)
    assert r["rouge_beta"] == 1.2


def test_bleu_hand_computed():
    hyps, refs = ["the cat sat on mat"], ["the cat sat on the mat"]
    r = bleu_scores(hyps, refs)
    bp = math.exp(1 - 6 / 5)
    assert r["bleu1"] == pytest.approx(100 * bp)
    assert r["bleu2"] == pytest.approx(100 * bp * math.sqrt(1 * 3 / 4))
    assert r["bleu3"] == pytest.approx(100 * bp * (1 * 3 / 4 * 2 / 3) ** (1 / 3))
    assert r["bleu4"] == pytest.approx(100 * bp * (1 * 3 / 4 * 2 / 3 * 1 / 2) ** (1 / 4))
    assert "tok:none" in r["signature"] and "smooth:floor[0.00]" in r["signature"]


def test_bleu4_matches_sacrebleu_corpus_bleu():
    hyps = ["es regnet im norden heute", "morgen wird es sonnig und warm", "der wind weht schwach"]
    refs = ["heute regnet es im norden", "morgen wird es sonnig und sehr warm", "schwacher wind"]
    expected = sacrebleu.corpus_bleu(hyps, [refs], tokenize="none", smooth_method="floor", smooth_value=0.0)
    assert bleu_scores(hyps, refs, "de")["bleu4"] == pytest.approx(expected.score)


def test_empty_hypothesis():
    assert bleu_scores([""], ["a b"])["bleu1"] == 0.0
    assert rouge_l([""], ["a b"])["rouge_l"] == 0.0
    r = bleu_scores(["", "a b c"], ["x y", "a b c"])
    assert r["bleu1"] == pytest.approx(100 * math.exp(1 - 5 / 3))
    assert rouge_l(["", "a b c"], ["x y", "a b c"])["rouge_l"] == pytest.approx(50.0)


def test_chinese_on_characters():
    hyp, ref = "今天天气好", "今天 天气 很 好"
    b = bleu_scores([hyp], [ref], "zh")
    assert "Chinese scored on characters" in b["tokenization"]
    assert b["bleu1"] == pytest.approx(100 * math.exp(1 - 6 / 5))
    p, r = 1.0, 5 / 6  # LCS = 5 characters
    f = (1 + 1.44) * p * r / (r + 1.44 * p)
    rl = rouge_l([hyp], [ref], "zh")
    assert rl["rouge_l"] == pytest.approx(100 * f)
    assert "Chinese scored on characters" in rl["tokenization"]
    # without character splitting, the sentence is one unmatched token
    assert bleu_scores([hyp], [ref])["bleu1"] == 0.0


def test_rouge_beta_and_umlauts():
    hyps, refs = ["über straße"], ["über die straße"]
    p, r = 1.0, 2 / 3
    assert rouge_l(hyps, refs, beta=1.0)["rouge_l"] == pytest.approx(100 * 2 * p * r / (p + r))
    assert rouge_l(hyps, refs)["rouge_l"] == pytest.approx(100 * 2.44 * p * r / (r + 1.44 * p))
    from rouge_score import rouge_scorer

    ascii_h, ascii_r = "a b c d", "a c b d e"
    expected = rouge_scorer.RougeScorer(["rougeL"]).score(ascii_r, ascii_h)["rougeL"].fmeasure
    assert rouge_l([ascii_h], [ascii_r], beta=1.0)["rouge_l"] == pytest.approx(100 * expected)


def test_bad_input():
    with pytest.raises(ValueError, match="hypotheses"):
        bleu_scores(["a"], ["a", "b"])
    with pytest.raises(TypeError, match="expected str"):
        rouge_l([["a"]], ["a"])
