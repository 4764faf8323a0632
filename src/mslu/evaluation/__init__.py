"""Downstream metrics: ISLR top-k accuracy, CSLR WER (+ CTM/STM), GF-SLT BLEU/ROUGE-L, SL-RT recall@K."""

from mslu.evaluation.recognition import topk_accuracy
from mslu.evaluation.retrieval import query_ranks, rank_metrics, retrieval_metrics
from mslu.evaluation.translation import DEFAULT_ROUGE_BETA, bleu_scores, rouge_l, translation_metrics
from mslu.evaluation.wer import (
    EMPTY_HYPOTHESIS,
    StmEntry,
    clean_glosses,
    clean_phoenix_glosses,
    get_gloss_cleaner,
    read_ctm,
    read_stm,
    wer_report,
    write_ctm,
    write_stm,
)

__all__ = [
    "DEFAULT_ROUGE_BETA",
    "bleu_scores",
    "rouge_l",
    "translation_metrics",
    "EMPTY_HYPOTHESIS",
    "StmEntry",
    "clean_glosses",
    "clean_phoenix_glosses",
    "get_gloss_cleaner",
    "read_ctm",
    "query_ranks",
    "rank_metrics",
    "read_stm",
    "retrieval_metrics",
    "topk_accuracy",
    "wer_report",
    "write_ctm",
    "write_stm",
]
