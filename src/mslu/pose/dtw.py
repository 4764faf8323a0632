"""A non-neural ISLR baseline: 1-nearest-neighbour under dynamic time warping on normalised keypoints.

Features (:func:`dtw_features`): an SL79 pose in frame units (T, 79, 3) is resampled uniformly to
``length`` frames; per frame the keypoints are centred on the shoulder midpoint and divided by the clip's
median shoulder width (signer position and size removed); missing keypoints are masked. Frame distance:
the root mean squared distance over the keypoints present in both frames (frames sharing none are
``max_cost`` apart). DTW: the classic recurrence ``D[i, j] = c[i, j] + min(D[i-1, j], D[i, j-1],
D[i-1, j-1])`` without a window; a pair's distance is ``D[L, L] / (2 L)`` (1-based cells). The
frame-distance matrices of many pairs are one matrix product (the masked squared distance expands into
three terms), so a query batch against a gallery costs a few BLAS calls and one vectorised recurrence.
"""

from __future__ import annotations

import numpy as np

from mslu.pose.layouts import SL79

_LS, _RS = SL79.names.index("left_shoulder"), SL79.names.index("right_shoulder")


def resample(pose: np.ndarray, length: int) -> np.ndarray:
    """``length`` frames of ``pose`` (T, ...) at uniform positions (nearest frame)."""
    t = pose.shape[0]
    idx = np.clip(np.round(np.linspace(0, t - 1, length)).astype(np.int64), 0, t - 1)
    return pose[idx]


def dtw_features(pose: np.ndarray, length: int = 32,
                 joints: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(features (length, J, 2) float32, mask (length, J) bool) of one (T, 79, 3) frame-unit pose;
    ``joints``: the SL79 keypoints to keep (default all)."""
    p = resample(np.asarray(pose, dtype=np.float32), length)
    if joints is not None:
        sel = np.asarray(joints, dtype=np.int64)
    else:
        sel = np.arange(p.shape[1])
    present = p[..., 2] > 0
    shoulders = present[:, _LS] & present[:, _RS]
    if shoulders.any():
        centre = (p[:, _LS, :2] + p[:, _RS, :2]) / 2
        width = np.linalg.norm(p[shoulders, _LS, :2] - p[shoulders, _RS, :2], axis=-1)
        scale = float(np.median(width)) if np.median(width) > 1e-6 else 1.0
        fill = centre[shoulders].mean(0)
        centre[~shoulders] = fill
    else:  # no shoulders: centre on the mean of the present keypoints, no scaling
        fill = p[present][:, :2].mean(0) if present.any() else np.zeros(2, np.float32)
        centre = np.broadcast_to(fill, (p.shape[0], 2)).copy()
        scale = 1.0
    xy = (p[:, sel, :2] - centre[:, None, :]) / np.float32(scale)
    mask = present[:, sel]
    xy[~mask] = 0.0
    return xy.astype(np.float32), mask


def _frame_costs(qa: np.ndarray, qm: np.ndarray, ga: np.ndarray, gm: np.ndarray,
                 max_cost: float) -> np.ndarray:
    """(Nq, Ng, L, L) frame distances between every query and gallery frame: with m the masks, the masked
    squared distance sum_j mq mg |q - g|^2 = (mq |q|^2) . mg + mq . (mg |g|^2) - 2 (mq q) . (mg g) is one
    matrix product of concatenated features."""
    nq, length, j, _ = qa.shape
    ng = ga.shape[0]
    qm_f, gm_f = qm.reshape(-1, j).astype(np.float32), gm.reshape(-1, j).astype(np.float32)
    q2 = (qa ** 2).sum(-1).reshape(-1, j) * qm_f  # (Nq L, J)
    g2 = (ga ** 2).sum(-1).reshape(-1, j) * gm_f
    qx, gx = (qa * qm[..., None]).reshape(-1, j * 2), (ga * gm[..., None]).reshape(-1, j * 2)
    num = np.concatenate([q2, qm_f, -2.0 * qx], 1) @ np.concatenate([gm_f, g2, gx], 1).T
    den = qm_f @ gm_f.T
    with np.errstate(invalid="ignore", divide="ignore"):
        cost = np.sqrt(np.maximum(num, 0.0) / den)
    cost[den < 1] = max_cost
    return cost.reshape(nq, length, ng, length).transpose(0, 2, 1, 3)


def dtw_from_costs(cost: np.ndarray) -> np.ndarray:
    """DTW distances (...) from frame-distance matrices (..., L, L), normalised by 2L. The recurrence runs
    over anti-diagonals (2L - 1 vectorised steps: a cell depends on the two diagonals before it)."""
    length = cost.shape[-1]
    lead = cost.shape[:-2]
    c = np.moveaxis(cost.reshape(-1, length, length), 0, -1)  # (L, L, P): pairs contiguous per cell
    d = np.full((length + 1, length + 1, c.shape[-1]), np.inf, dtype=np.float32)
    d[0, 0] = 0.0
    for s in range(2, 2 * length + 1):
        i = np.arange(max(1, s - length), min(length, s - 1) + 1)
        k = s - i
        best = np.minimum(np.minimum(d[i - 1, k], d[i, k - 1]), d[i - 1, k - 1])
        d[i, k] = c[i - 1, k - 1] + best
    return (d[length, length] / (2 * length)).reshape(lead)


def dtw_distances(query: tuple[np.ndarray, np.ndarray], gallery: tuple[np.ndarray, np.ndarray],
                  max_cost: float = 10.0, chunk: int = 16) -> np.ndarray:
    """(Nq, Ng) DTW distances between stacked features ``(feat (N, L, J, 2), mask (N, L, J))``. Keypoints
    never present in the gallery are left out (they add nothing to any distance)."""
    qa, qm = query
    ga, gm = gallery
    keep = gm.any(axis=(0, 1))
    qa, qm, ga, gm = qa[:, :, keep], qm[:, :, keep], ga[:, :, keep], gm[:, :, keep]
    out = np.empty((qa.shape[0], ga.shape[0]), dtype=np.float64)
    for s in range(0, qa.shape[0], chunk):
        cost = _frame_costs(qa[s:s + chunk], qm[s:s + chunk], ga, gm, max_cost)
        out[s:s + chunk] = dtw_from_costs(cost)
    return out


def stack_features(poses, length: int = 32,
                   joints: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Features of many poses, stacked: ``(feat (N, L, J, 2), mask (N, L, J))``."""
    feats = [dtw_features(p, length, joints) for p in poses]
    return np.stack([f for f, _ in feats]), np.stack([m for _, m in feats])


def nearest_neighbour(distances: np.ndarray, gallery_labels) -> np.ndarray:
    """The label of each query's nearest gallery item (ties: the first)."""
    labels = np.asarray(gallery_labels)
    return labels[np.argmin(distances, axis=1)]
