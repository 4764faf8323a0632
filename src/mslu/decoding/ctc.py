"""CTC decoding: greedy (best path) and prefix beam search, both in log space with NumPy.

Inputs are per-frame log-probabilities (``log_softmax`` output), either one sequence ``(T, C)`` or a
batch ``(B, T, C)`` with optional ``lengths`` (valid frames per item). NumPy arrays and torch tensors
are accepted (tensors are detached and copied to CPU).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["CTCHypothesis", "ctc_greedy_decode", "ctc_prefix_beam_search"]


@dataclass(frozen=True)
class CTCHypothesis:
    """One decoded label sequence with its log-probability (summed over all CTC paths that collapse to it,
    restricted to the paths kept by the beam)."""

    labels: tuple[int, ...]
    score: float


def _as_numpy(log_probs: Any) -> np.ndarray:
    if hasattr(log_probs, "detach"):  # torch.Tensor, without importing torch
        log_probs = log_probs.detach().cpu().double().numpy()
    arr = np.asarray(log_probs, dtype=np.float64)
    if arr.ndim not in (2, 3):
        raise ValueError(f"log_probs must have shape (T, C) or (B, T, C), got {arr.shape}")
    if np.isnan(arr).any():
        raise ValueError("log_probs contains NaN")
    return arr


def _batch(log_probs: Any, lengths: Any, blank: int) -> tuple[np.ndarray, list[int], bool]:
    """Returns (B, T, C) array, per-item lengths and whether the input was a single sequence."""
    arr = _as_numpy(log_probs)
    single = arr.ndim == 2
    if single:
        arr = arr[None]
    b, t, c = arr.shape
    if not 0 <= blank < c:
        raise ValueError(f"blank={blank} is outside the {c} classes")
    if lengths is None:
        lens = [t] * b
    else:
        if hasattr(lengths, "detach"):
            lengths = lengths.detach().cpu().numpy()
        lens = [int(x) for x in np.atleast_1d(np.asarray(lengths))]
        if len(lens) != b:
            raise ValueError(f"got {len(lens)} lengths for a batch of {b}")
        bad = [x for x in lens if not 0 <= x <= t]
        if bad:
            raise ValueError(f"lengths must lie in [0, {t}], got {bad}")
    return arr, lens, single


def ctc_greedy_decode(log_probs: Any, lengths: Sequence[int] | None = None, blank: int = 0):
    """Best-path decoding: per-frame argmax, collapse immediate repeats, then remove blanks.

    Returns ``list[int]`` for a ``(T, C)`` input and ``list[list[int]]`` for a ``(B, T, C)`` input
    (only the first ``lengths[b]`` frames of item ``b`` are used). Ties in the argmax go to the lowest
    class index (NumPy's rule).
    """
    arr, lens, single = _batch(log_probs, lengths, blank)
    out: list[list[int]] = []
    for seq, n in zip(arr, lens):
        best = seq[:n].argmax(axis=-1)
        keep = np.ones(n, dtype=bool)
        keep[1:] = best[1:] != best[:-1]
        keep &= best != blank
        out.append(best[keep].tolist())
    return out[0] if single else out


def _top_indices(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` largest finite scores, best first; ties keep the lower index (stable)."""
    if scores.size > k:
        kth = np.partition(scores, scores.size - k)[scores.size - k]
        idx = np.flatnonzero(scores >= kth)  # every candidate tied with the k-th one, in index order
    else:
        idx = np.arange(scores.size)
    idx = idx[np.argsort(-scores[idx], kind="stable")][:k]
    return idx[np.isfinite(scores[idx])]


def _prefix_beam_search_one(lp: np.ndarray, beam_width: int, blank: int, nbest: int) -> list[CTCHypothesis]:
    """Prefix beam search over one (T, C) sequence of log-probabilities.

    Each prefix keeps two log-probabilities: paths ending in blank (``pb``) and in a label (``pnb``).
    At every frame all one-label extensions of all beam prefixes are scored at once; an extension that
    equals a prefix already in the beam is merged into it before the beam is cut, so the kept beam is
    exactly the ``beam_width`` best prefixes of the unpruned expansion of the previous beam.
    """
    neg_inf = -np.inf
    prefixes: list[tuple[int, ...]] = [()]
    pb = np.array([0.0])
    pnb = np.array([neg_inf])
    for frame in lp:
        ptot = np.logaddexp(pb, pnb)
        stay_b = ptot + frame[blank]
        stay_nb = np.full(len(prefixes), neg_inf)
        ext = ptot[:, None] + frame[None, :]
        ext[:, blank] = neg_inf
        for i, p in enumerate(prefixes):
            if p:
                last = p[-1]
                stay_nb[i] = pnb[i] + frame[last]  # repeated label without blank: same prefix
                ext[i, last] = pb[i] + frame[last]  # a repeat only extends after a blank
        index = {p: i for i, p in enumerate(prefixes)}
        for i, p in enumerate(prefixes):
            j = index.get(p[:-1]) if p else None
            if j is not None:  # extension of the parent that equals a beam prefix: merge
                stay_nb[i] = np.logaddexp(stay_nb[i], ext[j, p[-1]])
                ext[j, p[-1]] = neg_inf
        n = len(prefixes)
        scores = np.concatenate([np.logaddexp(stay_b, stay_nb), ext.ravel()])
        order = _top_indices(scores, beam_width)
        new_prefixes, new_pb, new_pnb = [], [], []
        for k in order.tolist():
            if k < n:
                new_prefixes.append(prefixes[k])
                new_pb.append(stay_b[k])
                new_pnb.append(stay_nb[k])
            else:
                i, c = divmod(k - n, lp.shape[1])
                new_prefixes.append(prefixes[i] + (c,))
                new_pb.append(neg_inf)
                new_pnb.append(ext[i, c])
        if not new_prefixes:  # every path has probability 0
            break
        prefixes, pb, pnb = new_prefixes, np.array(new_pb), np.array(new_pnb)
    total = np.logaddexp(pb, pnb)
    order = np.argsort(-total, kind="stable")[:nbest]
    return [CTCHypothesis(prefixes[k], float(total[k])) for k in order.tolist()]


def ctc_prefix_beam_search(
    log_probs: Any,
    beam_width: int = 10,
    blank: int = 0,
    lengths: Sequence[int] | None = None,
    nbest: int | None = None,
):
    """CTC prefix beam search (Hannun et al. 2014 style, log space, no language model).

    Args:
        log_probs: ``(T, C)`` or ``(B, T, C)`` log-probabilities (apply ``log_softmax`` first).
        beam_width: number of prefixes kept after each frame.
        blank: index of the CTC blank.
        lengths: valid frames per batch item (default: all ``T``).
        nbest: hypotheses returned per sequence (default ``beam_width``), best first.

    Returns:
        ``list[CTCHypothesis]`` (best first) for a ``(T, C)`` input, ``list[list[CTCHypothesis]]`` for a
        batch. A hypothesis' ``score`` is the log of the summed probability of all kept paths collapsing
        to its labels; with a beam as wide as the number of distinct prefixes the search is exact.
        Equal scores keep the earlier candidate (stable sort).
    """
    if beam_width < 1:
        raise ValueError(f"beam_width must be >= 1, got {beam_width}")
    nbest = beam_width if nbest is None else nbest
    if nbest < 1:
        raise ValueError(f"nbest must be >= 1, got {nbest}")
    arr, lens, single = _batch(log_probs, lengths, blank)
    out = [_prefix_beam_search_one(seq[:n], beam_width, blank, nbest) for seq, n in zip(arr, lens)]
    return out[0] if single else out
