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


# --- layouts with part of the 79 points ---------------------------------------------------------------------
def _src_names(layout_name: str) -> list[str | None]:
    """Per SL79 point: the name of the source point it comes from, None where the layout has none."""
    lay = get_layout(layout_name)
    s = to_sl79(_index_seq(layout_name))
    return [None if s.data[0, i, 2] == 0 else lay.names[int(s.data[0, i, 0])] for i in range(79)]


def test_mediapipe_pose33_gives_body_nose_mouth_corners_and_four_hand_points():
    src = _src_names("mediapipe_pose_33")
    assert src[:11] == [f"pose_{n}" for n in SL79.names[:11]]
    assert all(s is None for s in src[11:28])  # no jaw
    assert src[NOSE_TIP] == "pose_nose"
    assert [src[m] for m in MOUTH] == ["pose_mouth_right", None, None, None, "pose_mouth_left"] + [None] * 3
    for side, hand in (("left", LH), ("right", RH)):
        got = {i: src[h] for i, h in enumerate(hand) if src[h] is not None}
        assert got == {0: f"pose_{side}_wrist", 2: f"pose_{side}_thumb", 5: f"pose_{side}_index",
                       17: f"pose_{side}_pinky"}
        assert SL79.names[hand[2]].endswith("thumb2") and SL79.names[hand[5]].endswith("index1")
        assert SL79.names[hand[17]].endswith("pinky1")


def test_pose_hands_75_and_openpose_body_layouts():
    src = _src_names("mediapipe_pose_hands_75")
    assert src[37:] == list(SL79.names[37:]) and src[:11] == [f"pose_{n}" for n in SL79.names[:11]]
    body = _src_names("openpose_body25")
    assert body[:11] == list(SL79.names[:11]) and body[NOSE_TIP] == "nose"
    assert sum(s is not None for s in body) == 12
    op67 = _src_names("openpose_body25_hands_67")
    assert op67[37:] == list(SL79.names[37:]) and all(s is None for s in op67[11:37] if s != "nose")


def test_hands_only_layouts():
    for name, have in (("hand_left_21", LH), ("hand_right_21", RH), ("hands_42", LH + RH)):
        src = _src_names(name)
        assert [i for i, s in enumerate(src) if s is not None] == sorted(have), name
        assert [src[i] for i in have] == [SL79.names[i] for i in have], name


def test_reduced_holistic_178_uses_the_full_holistic_face_points():
    red, full = _src_names("holistic_reduced_178"), _src_names("mediapipe_holistic")
    assert red[:5] == [None] * 5 and red[5:11] == full[5:11]
    assert red[11:28] == full[11:28] and [red[m] for m in MOUTH] == [full[m] for m in MOUTH]
    assert red[NOSE_TIP] is None and red[37:] == full[37:]


def test_phoenix_skels_layout_maps_hands_by_side():
    src = _src_names("phoenix_skels_50")
    assert src[:11] == ["nose", None, None, None, None, "left_shoulder", "right_shoulder", "left_elbow",
                        "right_elbow", "left_wrist", "right_wrist"]
    assert src[37:] == list(SL79.names[37:])


def _dist(j, a, b):
    return float(np.linalg.norm(j[:, a] - j[:, b], axis=-1).mean())


def test_real_phoenix_skels_hands_start_at_their_wrists(shared_dir):
    """The joint order established on the real skeletons: each hand's root lies at its own wrist, far from
    the other one, and the right hand (joints 8-28) is the signer's more active hand."""
    from mslu.pose.io import read_skels_lines

    folder = shared_dir / "realdata" / "phoenix14t-skels15"
    if not folder.is_dir():
        pytest.skip(f"{folder} is absent")
    more_active_right = 0
    clips = [c for sp in ("train", "dev", "test") for c in read_skels_lines(folder / f"{sp}.skels")]
    assert len(clips) == 15
    for j in clips:
        near = (_dist(j, 8, 7), _dist(j, 29, 4))
        far = (_dist(j, 8, 4), _dist(j, 29, 7))
        assert max(near) < 0.1 and min(far) > 0.2
        assert j[:, 2, 0].mean() > 0 > j[:, 5, 0].mean()  # joints 2-4 on the image's right
        motion = [np.linalg.norm(np.diff(j[:, h, :2], axis=0), axis=-1).sum() for h in (8, 29)]
        more_active_right += motion[0] > motion[1]
    assert more_active_right >= 10
