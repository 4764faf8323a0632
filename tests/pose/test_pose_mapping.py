"""SL79 mapping tables, checked on synthetic layouts and on the real MediaPipe files."""

from __future__ import annotations

import numpy as np
import pytest

from mslu.pose.io import read_pose
from mslu.pose.layouts import COCO_WHOLEBODY_133, OPENPOSE_137, SL79, get_layout
from mslu.pose.mapping import SL79_TABLES, to_sl79
from mslu.pose.sequence import PoseSequence

MP_FILES = ["colin-1-HOUSE.pose", "colin-2-HOUSE.pose", "colin-SAD.pose", "continuous-unlabelled.pose"]
B = {n: i for i, n in enumerate(SL79.names[:11])}
JAW = list(SL79.groups["face"][:17])
NOSE_TIP = SL79.groups["face"][17]
MOUTH = list(SL79.groups["mouth"])
LH, RH = list(SL79.groups["left_hand"]), list(SL79.groups["right_hand"])


def _index_seq(layout_name: str) -> PoseSequence:
    """One frame where x = keypoint index, so mapped x reveals the source index."""
    lay = get_layout(layout_name)
    k = lay.num_keypoints
    data = np.stack([np.arange(k), np.zeros(k), np.ones(k)], -1)[None].astype(np.float32)
    return PoseSequence(data, lay, 30.0, 640, 480)


FULL = {"coco_wholebody_133", "openpose_137", "sl79", "mediapipe_holistic", "mediapipe_holistic_world",
        "mediapipe_holistic_refined", "mediapipe_holistic_refined_world"}


def test_tables_complete_and_in_range():
    assert FULL < set(SL79_TABLES)
    for name, table in SL79_TABLES.items():
        k = get_layout(name).num_keypoints
        assert table.shape == (79,) and table.min() >= -1 and table.max() < k, name
        present = table[table >= 0].tolist()
        if name in FULL:
            assert len(set(table.tolist())) == 79 and min(present) >= 0, name
        else:  # partial layouts: each point used once, except the nose standing in for the nose tip and
            # the body wrists for the hand roots (MediaPipe Pose)
            assert len(present) < 79, name
            twice = {i for i in present if present.count(i) > 1}
            assert twice <= {table[0], table[B["left_wrist"]], table[B["right_wrist"]]}, name
            for i in twice - {table[0]}:
                assert i in (table[LH[0]], table[RH[0]]), name


def test_coco_and_sl79_passthrough():
    s = to_sl79(_index_seq(COCO_WHOLEBODY_133.name))
    assert s.layout.name == "sl79"
    one_based = list(range(1, 12)) + list(range(24, 41)) + [54] + list(range(84, 134))
    assert s.data[0, :, 0].astype(int).tolist() == [i - 1 for i in one_based]
    s2 = to_sl79(s)
    assert np.array_equal(s2.data, s.data)


def test_openpose_mapping_by_names():
    s = to_sl79(_index_seq(OPENPOSE_137.name))
    src = s.data[0, :, 0].astype(int)
    for i in range(11):  # body points by name
        assert OPENPOSE_137.names[src[i]] == SL79.names[i]
    face = [f"face_{i}" for i in [*range(17), 30, *range(60, 68)]]
    assert [OPENPOSE_137.names[j] for j in src[11:37]] == face
    assert [OPENPOSE_137.names[j] for j in src[37:]] == list(SL79.names[37:])


def test_mediapipe_body_and_hands_by_names():
    for name in ("mediapipe_holistic", "mediapipe_holistic_world", "mediapipe_holistic_refined_world"):
        lay = get_layout(name)
        src = to_sl79(_index_seq(name)).data[0, :, 0].astype(int)
        assert [lay.names[j] for j in src[:11]] == [f"pose_{n}" for n in SL79.names[:11]]
        assert [lay.names[j] for j in src[37:]] == list(SL79.names[37:])
        assert all(lay.names[j].startswith("face_") for j in src[11:37])


def test_missing_joints_become_nan_conf0():
    seq = _index_seq(COCO_WHOLEBODY_133.name)
    seq.data[0, 0, 2] = 0  # nose missing
    seq.data[0, 91, 0] = np.nan  # left wrist NaN
    s = to_sl79(seq)
    for k in (0, 37):
        assert s.data[0, k, 2] == 0 and np.isnan(s.data[0, k, :2]).all()
    assert not np.isnan(s.data[0, 1]).any()


def test_unmapped_layout_is_an_error():
    from mslu.pose.layouts import Layout

    lay = Layout("custom", ("a", "b"), {"all": (0, 1)})
    with pytest.raises(ValueError, match="custom"):
        to_sl79(PoseSequence(np.zeros((1, 2, 3)), lay))


def _mean(s, idx, frames=None):
    xy = s.xy[:, idx] if frames is None else s.xy[frames][:, idx]
    return np.nanmean(xy, axis=0)


@pytest.mark.parametrize("fname", MP_FILES)
def test_mediapipe_face_geometry_on_real_files(shared_poses, fname):
    s = to_sl79(read_pose(shared_poses / "mediapipe" / fname))
    face_ok = ~s.missing()[:, JAW + MOUTH + [NOSE_TIP]].any(-1)
    assert face_ok.sum() > 10
    xy = s.xy[face_ok]
    jaw = xy[:, JAW]
    face_w = np.linalg.norm(jaw[:, 16] - jaw[:, 0], axis=-1).mean()
    # jaw runs from the subject's right (image left, like right_ear) over the chin to the left
    assert (jaw[:, 0, 0] < jaw[:, 8, 0]).all() and (jaw[:, 8, 0] < jaw[:, 16, 0]).all()
    # jaw ends near the ears, on the same side
    ears = s.xy[face_ok][:, [B["right_ear"], B["left_ear"]]]
    assert np.linalg.norm(jaw[:, 0] - ears[:, 0], axis=-1).mean() < 0.3 * face_w
    assert np.linalg.norm(jaw[:, 16] - ears[:, 1], axis=-1).mean() < 0.3 * face_w
    # ordered along the contour: consecutive steps short and even, chin lowest (image y down)
    steps = np.linalg.norm(np.diff(jaw, axis=1), axis=-1).mean(0)
    assert steps.max() < 3.5 * steps.min() and steps.max() < 0.2 * face_w
    assert (jaw[:, 8, 1] >= jaw[:, :, 1].max(1) - 0.05 * face_w).all()  # head may tilt a little
    assert (np.diff(jaw[:, :9, 1], axis=1) > 0).mean() > 0.95  # descending to the chin
    assert (np.diff(jaw[:, 8:, 1], axis=1) < 0).mean() > 0.95  # rising to the left end
    # nose tip between the eyes and the mouth, near the face's vertical axis
    mouth = xy[:, MOUTH]
    eyes_y = s.xy[face_ok][:, [B["left_eye"], B["right_eye"]], 1].mean(1)
    assert (eyes_y < xy[:, NOSE_TIP, 1]).all() and (xy[:, NOSE_TIP, 1] < mouth[:, :, 1].mean(1)).all()
    # inner mouth: right corner, upper lip, left corner, lower lip; inside the jaw contour
    assert (mouth[:, 0, 0] < mouth[:, 2, 0]).all() and (mouth[:, 2, 0] < mouth[:, 4, 0]).all()
    assert (mouth[:, 6, 0] > mouth[:, 7, 0]).all() and (mouth[:, 5, 0] > mouth[:, 6, 0]).all()
    assert (mouth[:, 2, 1] <= mouth[:, 6, 1] + 1e-3 * face_w).all()  # upper centre above lower centre
    assert (mouth[:, 0, 0] > jaw[:, 0, 0]).all() and (mouth[:, 4, 0] < jaw[:, 16, 0]).all()
    assert (mouth[:, :, 1].max(1) < jaw[:, 8, 1]).all()
    mouth_w = np.linalg.norm(mouth[:, 4] - mouth[:, 0], axis=-1).mean()
    assert 0.15 * face_w < mouth_w < 0.6 * face_w


@pytest.mark.parametrize("fname", MP_FILES)
def test_mediapipe_hands_match_body_wrists(shared_poses, fname):
    s = to_sl79(read_pose(shared_poses / "mediapipe" / fname))
    miss = s.missing()
    for hand, own, other in ((LH, "left_wrist", "right_wrist"), (RH, "right_wrist", "left_wrist")):
        ok = ~miss[:, hand[0]] & ~miss[:, B[own]] & ~miss[:, B[other]]
        if not ok.any():
            continue
        d_own = np.linalg.norm(s.xy[ok, hand[0]] - s.xy[ok, B[own]], axis=-1)
        d_other = np.linalg.norm(s.xy[ok, hand[0]] - s.xy[ok, B[other]], axis=-1)
        assert np.median(d_own) < 0.3 * np.median(d_other), hand
    # subject's left shoulder is on the image right in these (unmirrored) videos
    ok = ~miss[:, B["left_shoulder"]] & ~miss[:, B["right_shoulder"]]
    assert (s.xy[ok, B["left_shoulder"], 0] > s.xy[ok, B["right_shoulder"], 0]).all()
