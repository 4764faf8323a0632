"""The 1-NN DTW baseline: the recurrence, the features and a classification it must get right."""

from __future__ import annotations

import numpy as np

from mslu.pose.dtw import (
    dtw_distances,
    dtw_features,
    dtw_from_costs,
    nearest_neighbour,
    resample,
    stack_features,
)
from mslu.pose.layouts import SL79

LS, RS = SL79.names.index("left_shoulder"), SL79.names.index("right_shoulder")
LW = SL79.names.index("left_wrist")


def _reference_dtw(c: np.ndarray) -> float:
    n = c.shape[0]
    d = np.full((n + 1, n + 1), np.inf)
    d[0, 0] = 0
    for i in range(1, n + 1):
        for k in range(1, n + 1):
            d[i, k] = c[i - 1, k - 1] + min(d[i - 1, k], d[i, k - 1], d[i - 1, k - 1])
    return d[n, n] / (2 * n)


def test_recurrence_matches_the_textbook_one():
    rng = np.random.default_rng(0)
    c = rng.uniform(0, 1, (2, 3, 7, 7))
    want = np.array([[_reference_dtw(c[a, b]) for b in range(3)] for a in range(2)])
    np.testing.assert_allclose(dtw_from_costs(c), want, rtol=1e-6)


def _clip(path: np.ndarray, frames: int, shift=(0.0, 0.0), scale: float = 1.0) -> np.ndarray:
    """A signer (shoulders at fixed places) whose left wrist follows ``path`` (resampled to ``frames``)."""
    pose = np.zeros((frames, 79, 3), np.float32)
    centre = np.array([0.5, 0.5]) + shift
    pose[:, LS, :2] = centre + scale * np.array([0.1, 0.0])
    pose[:, RS, :2] = centre - scale * np.array([0.1, 0.0])
    t = np.linspace(0, len(path) - 1, frames)
    wrist = np.stack([np.interp(t, np.arange(len(path)), path[:, k]) for k in range(2)], -1)
    pose[:, LW, :2] = centre + scale * wrist
    pose[:, [LS, RS, LW], 2] = 1.0
    return pose


def test_features_remove_position_and_size():
    path = np.array([[0.0, 0.1], [0.1, 0.2], [0.2, 0.1]])
    a, ma = dtw_features(_clip(path, 20), 8)
    b, mb = dtw_features(_clip(path, 20, shift=(0.2, -0.1), scale=2.0), 8)
    np.testing.assert_allclose(a, b, atol=1e-5)
    assert (ma == mb).all() and ma[:, [LS, RS, LW]].all() and ma.sum() == 3 * 8
    assert resample(np.arange(10), 4).tolist() == [0, 3, 6, 9]


def test_nearest_neighbour_finds_the_time_warped_class():
    rng = np.random.default_rng(1)
    paths = [rng.uniform(-0.3, 0.3, (5, 2)) for _ in range(4)]
    gallery = [_clip(p, 30) for p in paths]
    # the same paths, slightly noisy, at other speeds
    queries = [_clip(p + rng.normal(0, 0.01, p.shape), 18 + 7 * i) for i, p in enumerate(paths)]
    d = dtw_distances(stack_features(queries, 16), stack_features(gallery, 16))
    assert d.shape == (4, 4) and nearest_neighbour(d, np.arange(4)).tolist() == [0, 1, 2, 3]
    self_d = dtw_distances(stack_features(gallery, 16), stack_features(gallery, 16))
    np.testing.assert_allclose(np.diag(self_d), 0, atol=1e-4)


def test_frames_without_shared_keypoints_cost_max():
    a = _clip(np.zeros((2, 2)), 4)
    b = a.copy()
    b[..., 2] = 0  # nothing present
    b[:, 0, 2] = 1  # only the nose, which a lacks
    d = dtw_distances(stack_features([a], 4), stack_features([b], 4), max_cost=7.0)
    assert np.isclose(d[0, 0], 7.0 * 4 / 8)  # the diagonal: 4 cells of cost 7, divided by 2L = 8
