"""Frame-unit storage form and model normalisation (paper Sec. IV-A)."""

from __future__ import annotations

import numpy as np
import pytest

from mslu.pose.io import read_pose
from mslu.pose.layouts import COCO_WHOLEBODY_133, SL79
from mslu.pose.normalize import hand_bounding_boxes, normalize_for_model, to_frame_units
from mslu.pose.sequence import PoseSequence

LH = list(SL79.groups["left_hand"])
RH = list(SL79.groups["right_hand"])
OTHER = list(range(37))


def _seq(t=3, w=200, h=100, seed=0):
    rng = np.random.default_rng(seed)
    data = np.concatenate([rng.uniform(0, w, (t, 79, 1)), rng.uniform(0, h, (t, 79, 1)),
                           rng.uniform(0.2, 1, (t, 79, 1))], -1)
    return PoseSequence(data, SL79, 25.0, w, h)


def test_to_frame_units_values():
    s = _seq()
    s.data[1, 3] = (np.nan, np.nan, 0)
    s.data[2, 4, 2] = 0  # conf 0 but finite coordinates
    f = to_frame_units(s)
    assert f.shape == (3, 79, 3) and f.dtype == np.float32
    assert np.allclose(f[0, :, 0], s.data[0, :, 0] / 200) and np.allclose(f[0, :, 1], s.data[0, :, 1] / 100)
    assert np.allclose(f[0, :, 2], s.data[0, :, 2])
    assert (f[1, 3] == 0).all() and (f[2, 4] == 0).all()


def test_to_frame_units_maps_layouts_and_needs_size():
    data = np.ones((2, 133, 3), np.float32) * 50
    data[..., 2] = 1
    f = to_frame_units(PoseSequence(data, COCO_WHOLEBODY_133, 25.0, 100, 200))
    assert f.shape == (2, 79, 3) and np.allclose(f[..., 0], 0.5) and np.allclose(f[..., 1], 0.25)
    with pytest.raises(ValueError, match="frame size"):
        to_frame_units(PoseSequence(data, COCO_WHOLEBODY_133))
    assert np.allclose(to_frame_units(PoseSequence(data, COCO_WHOLEBODY_133), 50, 50)[..., :2], 1.0)


def test_hand_normalised_to_its_box():
    pose = np.zeros((1, 79, 3), np.float32)
    pose[..., 2] = 1.0
    pose[0, OTHER, 0], pose[0, OTHER, 1] = 0.3, 0.7
    # left hand spans x 0.2..0.4, y 0.5..0.6 -> centre (0.3, 0.55), longer side 0.2
    pose[0, LH, 0] = np.linspace(0.2, 0.4, 21)
    pose[0, LH, 1] = np.linspace(0.5, 0.6, 21)
    pose[0, RH, :2] = (0.8, 0.8)
    pose[0, RH[0], :2] = (0.9, 0.85)  # right hand spans 0.1 x 0.05
    n = normalize_for_model(pose)
    assert n.dtype == np.float32
    assert np.allclose(n[0, LH, 0], (np.linspace(0.2, 0.4, 21) - 0.3) / 0.2 + 0.5, atol=1e-6)
    assert np.allclose(n[0, LH, 1], (np.linspace(0.5, 0.6, 21) - 0.55) / 0.2 + 0.5, atol=1e-6)
    assert np.isclose(n[0, LH[0], 0], 0.0, atol=1e-6) and np.isclose(n[0, LH[-1], 0], 1.0)
    assert np.isclose(n[0, LH[0], 1], 0.25) and np.isclose(n[0, LH[-1], 1], 0.75)
    assert np.allclose(n[0, RH[0], :2], [1.0, 0.75]) and np.allclose(n[0, RH[1], :2], [0.0, 0.25], atol=1e-6)
    assert np.array_equal(n[0, OTHER], pose[0, OTHER])  # body/face/mouth stay in frame units
    assert np.array_equal(n[..., 2], pose[..., 2])  # confidence kept as channel 3
    boxes = hand_bounding_boxes(pose)
    assert np.allclose(boxes[0, 0], [0.2, 0.5, 0.4, 0.6])


def test_missing_joints_and_nan_never_leak():
    rng = np.random.default_rng(3)
    pose = rng.uniform(0, 1, (6, 79, 3)).astype(np.float32)
    pose[0, 5] = (np.nan, 0.3, 0.9)  # NaN coordinate with a confidence
    pose[1, 10, 2] = np.nan
    pose[2, LH[3]] = (0.5, 0.5, 0.0)  # a missing hand joint
    pose[3, LH] = (np.nan, np.nan, 0.0)  # whole hand missing
    pose[4, RH] = (np.nan, np.nan, 0.0)
    pose[4, RH[2]] = (0.4, 0.4, 0.8)  # only one valid joint -> hand missing
    pose[5, LH, :2] = (0.6, 0.6)  # degenerate box -> hand missing
    n = normalize_for_model(pose)
    assert np.isfinite(n).all()
    assert (n[0, 5] == 0).all() and (n[1, 10] == 0).all() and (n[2, LH[3]] == 0).all()
    assert (n[3, LH] == 0).all() and (n[4, RH] == 0).all() and (n[5, LH] == 0).all()
    valid = n[..., 2] > 0
    assert ((n[..., 2] == 0) == (~valid)).all()
    # valid hand joints lie in the unit square
    hv = n[:, LH + RH][valid[:, LH + RH]]
    assert (hv[:, :2] >= -1e-6).all() and (hv[:, :2] <= 1 + 1e-6).all()


def test_batched_equals_per_sample():
    rng = np.random.default_rng(4)
    batch = rng.uniform(0, 1, (3, 5, 79, 3)).astype(np.float32)
    batch[1, 2, LH, 2] = 0
    n = normalize_for_model(batch)
    for i in range(3):
        assert np.array_equal(n[i], normalize_for_model(batch[i]))
    with pytest.raises(ValueError, match="79"):
        normalize_for_model(np.zeros((2, 78, 3)))


def test_real_files_normalise(shared_poses):
    for rel in ("mediapipe/colin-SAD.pose", "mmpose-wholebody/SOUP.pose", "autsl/signer0_sample1000.pose"):
        f = to_frame_units(read_pose(shared_poses / rel))
        n = normalize_for_model(f)
        assert np.isfinite(n).all() and n.shape == f.shape
        hands = n[:, LH + RH]
        ok = hands[..., 2] > 0
        assert ok.any() and (hands[ok][:, :2] >= -1e-5).all() and (hands[ok][:, :2] <= 1 + 1e-5).all()
        # each present hand touches both ends of its box's longer side
        span = np.where(ok[:, :21, None], hands[:, :21, :2], np.nan)
        frames = ok[:, :21].sum(1) >= 2
        longer = np.nanmax(np.nanmax(span[frames], 1) - np.nanmin(span[frames], 1), -1)
        assert np.allclose(longer, 1.0, atol=1e-5)
