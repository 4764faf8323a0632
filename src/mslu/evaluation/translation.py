"""GF-SLT metrics as published SLT code computes them (signjoey, GFSLT-VLP): corpus BLEU-1..4 with
sacrebleu and sentence-averaged ROUGE-L F.

Inputs are pre-tokenised text (Phoenix-2014-T translations are already lower-cased and tokenised), scored
with ``tokenize='none'`` i.e. split on whitespace. Chinese (``language="zh"``) is scored on characters:
whitespace is removed and every character becomes one token, for BLEU and ROUGE-L alike.
"""

from __future__ import annotations

from collections.abc import Sequence

from rouge_score import rouge_scorer
from sacrebleu.metrics import BLEU

__all__ = ["DEFAULT_ROUGE_BETA", "bleu_scores", "rouge_l", "tokenize_for_metrics", "translation_metrics"]

# signjoey's ROUGE-L (reused by GFSLT-VLP) weights recall with beta = 1.2; rouge_score's own F uses beta = 1.
DEFAULT_ROUGE_BETA = 1.2
CHARACTER_LANGUAGES = frozenset({"zh", "zh-cn", "zh-tw", "zh-hans", "zh-hant", "cmn"})


def _is_character_level(language: str | None) -> bool:
    return language is not None and language.lower().replace("_", "-") in CHARACTER_LANGUAGES


def tokenize_for_metrics(text: str, language: str | None = None) -> list[str]:
    """Tokens the metrics score: characters (whitespace removed) for Chinese, whitespace tokens otherwise."""
    if _is_character_level(language):
        return [ch for ch in text if not ch.isspace()]
    return text.split()


def _tokenization_note(language: str | None) -> str:
    if _is_character_level(language):
        return "characters (Chinese scored on characters)"
    return "whitespace (pre-tokenised input, sacrebleu tokenize='none')"


def _check(hyps: Sequence[str], refs: Sequence[str]) -> None:
    if len(hyps) != len(refs):
        raise ValueError(f"got {len(hyps)} hypotheses but {len(refs)} references")
    if not refs:
        raise ValueError("no sentences to score")
    for what, texts in (("hypothesis", hyps), ("reference", refs)):
        bad = [i for i, t in enumerate(texts) if not isinstance(t, str)]
        if bad:
            raise TypeError(f"{what} {bad[0]} is {type(texts[bad[0]]).__name__}, expected str")


def bleu_scores(
    hyps: Sequence[str], refs: Sequence[str], language: str | None = None, max_order: int = 4
) -> dict[str, float | str]:
    """Corpus BLEU-1..``max_order`` (0-100) with one reference per hypothesis.

    BLEU-n is sacrebleu's ``BLEU(tokenize='none', smooth_method='floor', smooth_value=0.0,
    effective_order=True, max_ngram_order=n)``: brevity penalty times the geometric mean of the modified
    1..n-gram precisions (a zero precision makes the score 0; effective order only drops orders of which the
    whole hypothesis side has no n-grams).
    Returns ``{"bleu1": .., ..., "tokenization": ..., "signature": ..}``.
    """
    _check(hyps, refs)
    sys = [" ".join(tokenize_for_metrics(h, language)) for h in hyps]
    ref = [" ".join(tokenize_for_metrics(r, language)) for r in refs]
    out: dict[str, float | str] = {}
    signature = ""
    for n in range(1, max_order + 1):
        metric = BLEU(  # force: inputs are pre-tokenised on purpose (silences the "detokenize" warning)
            tokenize="none", smooth_method="floor", smooth_value=0.0, effective_order=True, max_ngram_order=n,
            force=True,
        )
        out[f"bleu{n}"] = float(metric.corpus_score(sys, [ref]).score)
        signature = str(metric.get_signature())
    out["tokenization"] = _tokenization_note(language)
    out["signature"] = signature
    return out


class _Tokenizer:
    """rouge_score tokenizer that keeps non-ASCII text (its default one drops umlauts and Chinese)."""

    def __init__(self, language: str | None) -> None:
        self.language = language

    def tokenize(self, text: str) -> list[str]:
        return tokenize_for_metrics(text, self.language)


def rouge_l(
    hyps: Sequence[str], refs: Sequence[str], language: str | None = None, beta: float = DEFAULT_ROUGE_BETA
) -> dict[str, float | str]:
    """Sentence-averaged ROUGE-L F_beta x 100.

    Per sentence, rouge_score gives the LCS precision ``P = LCS/len(hyp)`` and recall ``R = LCS/len(ref)``;
    ``F_beta = (1 + beta^2) P R / (R + beta^2 P)`` (0 when P = R = 0, e.g. an empty hypothesis). Default
    beta = 1.2 as in signjoey / GFSLT-VLP (beta = 1 gives rouge_score's own F-measure). Tokens are
    whitespace tokens, or characters for Chinese; case is kept.
    Returns ``{"rouge_l": .., "beta": .., "tokenization": ..}``.
    """
    _check(hyps, refs)
    if beta <= 0:
        raise ValueError(f"beta must be > 0, got {beta}")
    scorer = rouge_scorer.RougeScorer(["rougeL"], tokenizer=_Tokenizer(language))
    b2 = beta * beta
    total = 0.0
    for h, r in zip(hyps, refs):
        s = scorer.score(r, h)["rougeL"]
        p, rec = s.precision, s.recall
        total += (1 + b2) * p * rec / (rec + b2 * p) if p > 0 and rec > 0 else 0.0
    note = _tokenization_note(language)
    return {"rouge_l": 100.0 * total / len(refs), "beta": float(beta), "tokenization": note}


def translation_metrics(
    hyps: Sequence[str], refs: Sequence[str], language: str | None = None, beta: float = DEFAULT_ROUGE_BETA
) -> dict[str, float | str]:
    """BLEU-1..4 and ROUGE-L in one dict (keys of ``bleu_scores`` and ``rouge_l``, plus ``rouge_beta``)."""
    out = bleu_scores(hyps, refs, language)
    rouge = rouge_l(hyps, refs, language, beta)
    out["rouge_l"] = rouge["rouge_l"]
    out["rouge_beta"] = rouge["beta"]
    return out
