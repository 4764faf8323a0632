"""SL-RT metrics: text-to-video (T2V) and video-to-text (V2T) R@K, MedR and MeanR.

Rules (also in docs/metrics.md):
- Ground truth: by default by *sentence identity*: text query ``i`` is answered correctly by every video
  whose sentence equals text ``i``'s (Phoenix-2014-T and CSL-Daily contain duplicate sentences), and
  likewise for video queries. ``match="strict"`` keeps only the paired item ``i`` <-> ``i``.
- Rank of a query: 0-based position of its best-scoring correct item among the *incorrect* items; with
  ``ties="pessimistic"`` (default) every incorrect item scoring ``>=`` that correct item counts ahead of it,
  with ``ties="optimistic"`` only those scoring strictly ``>``. Other correct items never count.
- R@K = % of queries with rank < K; MedR = median of (rank + 1) (NumPy median: mean of the two middle
  values for an even count); MeanR = mean of (rank + 1).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np

__all__ = ["query_ranks", "rank_metrics", "retrieval_metrics"]

TIE_RULES = ("pessimistic", "optimistic")


def _to_numpy(x: Any) -> np.ndarray:
    if hasattr(x, "detach"):  # torch.Tensor
        x = x.detach().cpu().double().numpy()
    return np.asarray(x, dtype=np.float64)


def query_ranks(scores: Any, relevant: Any, ties: str = "pessimistic") -> np.ndarray:
    """0-based rank of each query's best correct item.

    Args:
        scores: ``(Q, G)`` similarity of every query to every gallery item (higher = closer).
        relevant: ``(Q, G)`` bool, True where the gallery item is a correct answer; every row needs one.
        ties: ``"pessimistic"`` or ``"optimistic"`` (see module docstring).
    """
    s = _to_numpy(scores)
    rel = np.asarray(relevant, dtype=bool)
    if s.ndim != 2 or rel.shape != s.shape:
        raise ValueError(f"scores and relevant must be 2-D with one shape, got {s.shape} and {rel.shape}")
    if np.isnan(s).any():
        raise ValueError("scores contain NaN")
    if ties not in TIE_RULES:
        raise ValueError(f"ties must be one of {TIE_RULES}, got {ties!r}")
    missing = np.flatnonzero(~rel.any(1))
    if missing.size:
        raise ValueError(f"queries {missing[:5].tolist()} have no correct gallery item")
    best = np.where(rel, s, -np.inf).max(1, keepdims=True)
    ahead = s >= best if ties == "pessimistic" else s > best
    return (ahead & ~rel).sum(1)


def rank_metrics(ranks: np.ndarray, ks: Sequence[int] = (1, 5, 10)) -> dict[str, float]:
    """``{"R@k": %, ..., "MedR": median(rank + 1), "MeanR": mean(rank + 1)}`` from 0-based ranks."""
    r = np.asarray(ranks)
    if r.size == 0:
        raise ValueError("no queries")
    out = {f"R@{k}": 100.0 * float((r < k).mean()) for k in ks}
    out["MedR"] = float(np.median(r + 1))
    out["MeanR"] = float(np.mean(r + 1))
    return out


def retrieval_metrics(
    sim: Any,
    sentences: Sequence[Hashable] | None = None,
    match: str = "sentence",
    ties: str = "pessimistic",
    ks: Sequence[int] = (1, 5, 10),
) -> dict[str, float]:
    """T2V and V2T retrieval metrics for ``N`` paired (video, text) items.

    Args:
        sim: ``(N, N)`` similarity, ``sim[i, j]`` = text ``i`` vs video ``j``; item ``i`` is a pair.
        sentences: the sentence (or any key) of each pair; with ``match="sentence"`` (default) items with
            equal sentences are all correct answers for each other. ``None`` means strict matching.
        match: ``"sentence"`` or ``"strict"`` (only the pair ``i`` <-> ``i`` is correct).
        ties: ``"pessimistic"`` (default) or ``"optimistic"`` rank rule for tied scores.
        ks: the K of R@K.

    Returns ``{"t2v_R@1", "t2v_R@5", "t2v_R@10", "t2v_MedR", "t2v_MeanR", "v2t_...": ...}`` (R@K in %).
    """
    s = _to_numpy(sim)
    if s.ndim != 2 or s.shape[0] != s.shape[1]:
        raise ValueError(f"sim must be square (N texts, N videos), got {s.shape}")
    n = s.shape[0]
    if match not in ("sentence", "strict"):
        raise ValueError(f"match must be 'sentence' or 'strict', got {match!r}")
    if match == "sentence" and sentences is not None:
        if len(sentences) != n:
            raise ValueError(f"got {len(sentences)} sentences for {n} pairs")
        index: dict[Hashable, int] = {}
        key = np.array([index.setdefault(x, len(index)) for x in sentences])
        relevant = key[:, None] == key[None, :]
    else:
        relevant = np.eye(n, dtype=bool)
    out: dict[str, float] = {}
    for name, scores, rel in (("t2v", s, relevant), ("v2t", s.T, relevant.T)):
        for k, v in rank_metrics(query_ranks(scores, rel, ties), ks).items():
            out[f"{name}_{k}"] = v
    return out
