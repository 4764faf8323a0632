"""Decoders for sequence outputs (CTC greedy and prefix beam search)."""

from mslu.decoding.ctc import CTCHypothesis, ctc_greedy_decode, ctc_prefix_beam_search

__all__ = ["CTCHypothesis", "ctc_greedy_decode", "ctc_prefix_beam_search"]
