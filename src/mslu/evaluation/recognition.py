"""ISLR metrics: per-instance and per-class top-k accuracy (paper Sec. V, "Metrics")."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["topk_accuracy"]


def _to_numpy(x: Any) -> np.ndarray:
    if hasattr(x, "detach"):  # torch.Tensor
        x = x.detach().cpu()
        x = x.double() if x.is_floating_point() else x
        x = x.numpy()
    return np.asarray(x)


def topk_accuracy(
    scores: Any, labels: Any, ks: Sequence[int] = (1, 5), ties: str = "pessimistic"
) -> dict[str, float]:
    """Per-instance and per-class top-k accuracy, in percent.

    Args:
        scores: ``(N, C)`` logits, probabilities or any scores (higher = more likely).
        labels: ``(N,)`` integer class of each instance.
        ks: the k values to report.
        ties: ``"pessimistic"`` (default): an instance is correct at k when fewer than k *other* classes
            score ``>=`` its true class; ``"optimistic"``: fewer than k other classes score strictly
            ``>``. The rule only matters for tied scores (e.g. all-equal logits score 0 pessimistically).

    Returns:
        ``{"per_instance_top{k}": ..., "per_class_top{k}": ...}``. Per-instance = mean over all instances;
        per-class = mean over the classes present in ``labels`` of each class' accuracy.
    """
    s = _to_numpy(scores).astype(np.float64)
    y = _to_numpy(labels)
    if s.ndim != 2:
        raise ValueError(f"scores must have shape (N, C), got {s.shape}")
    if y.shape != (s.shape[0],):
        raise ValueError(f"labels must have shape ({s.shape[0]},), got {y.shape}")
    if s.shape[0] == 0:
        raise ValueError("no instances to score")
    if not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"labels must be integers, got dtype {y.dtype}")
    if y.min() < 0 or y.max() >= s.shape[1]:
        raise ValueError(f"labels must lie in [0, {s.shape[1]}), got range [{y.min()}, {y.max()}]")
    if np.isnan(s).any():
        raise ValueError("scores contain NaN")
    if ties not in ("pessimistic", "optimistic"):
        raise ValueError(f"ties must be 'pessimistic' or 'optimistic', got {ties!r}")
    true = s[np.arange(len(y)), y][:, None]
    ahead = (s >= true).sum(1) - 1 if ties == "pessimistic" else (s > true).sum(1)
    _, inverse = np.unique(y, return_inverse=True)
    out: dict[str, float] = {}
    for k in ks:
        if k < 1:
            raise ValueError(f"k must be >= 1, got {k}")
        correct = (ahead < k).astype(np.float64)
        per_class = np.bincount(inverse, weights=correct) / np.bincount(inverse)
        out[f"per_instance_top{k}"] = 100.0 * float(correct.mean())
        out[f"per_class_top{k}"] = 100.0 * float(per_class.mean())
    return out
