"""Every pose format and layout, on small files generated in the test (and the real files of ../shared)."""

from __future__ import annotations

import gzip
import json

import numpy as np
import pytest

from mslu.pose.io import (
    COMPONENT_SPECS,
    PoseReadError,
    pose_suffix,
    read_openpose,
    read_pose,
    read_skels_lines,
    write_pose,
)
from mslu.pose.layouts import LAYOUTS, get_layout
from mslu.pose.mapping import to_sl79
from mslu.pose.normalize import coordinate_kind, frame_units
from mslu.pose.sequence import PoseSequence

RNG = np.random.default_rng(0)


def _seq(layout: str, frames: int = 4, width: int = 640, height: int = 480, seed: int = 0) -> PoseSequence:
    lay = get_layout(layout)
    rng = np.random.default_rng(seed)
    xy = rng.uniform(10, 400, (frames, lay.num_keypoints, 2))
    conf = rng.uniform(0.3, 1.0, (frames, lay.num_keypoints, 1))
    conf[0, 0] = 0  # one missing joint
    data = np.concatenate([xy, conf], -1).astype(np.float32)
    data[0, 0, :2] = np.nan
    return PoseSequence(data, lay, 25.0, width, height)


@pytest.mark.parametrize("layout", sorted(COMPONENT_SPECS))
def test_pose_format_round_trip_keeps_every_layout(tmp_path, layout):
    seq = _seq(layout)
    write_pose(seq, tmp_path / "a.pose")
    back = read_pose(tmp_path / "a.pose")
    assert back.layout.name == layout
    np.testing.assert_allclose(back.data[~seq.missing()], seq.data[~seq.missing()], rtol=1e-6)
    assert back.missing()[0, 0]


def test_every_layout_is_readable_from_pose_files():
    assert set(COMPONENT_SPECS) == set(LAYOUTS)


def test_pose_points_are_reordered_by_name(tmp_path):
    """A .pose whose components list their points in another order (e.g. a subset made by pose-format)
    comes back in the layout's order."""
    from pose_format import Pose
    from pose_format.numpy.pose_body import NumPyPoseBody
    from pose_format.pose_header import PoseHeader, PoseHeaderComponent, PoseHeaderDimensions

    spec = COMPONENT_SPECS["mediapipe_pose_hands_75"]
    comps, blocks = [], []
    start = 0
    for name, points in spec:
        order = list(reversed(range(len(points))))  # reversed point order in the file
        comps.append(PoseHeaderComponent(name, [points[i] for i in order], [], [(0, 0, 0)], "XYC"))
        blocks.append(np.array(order) + start)
        start += len(points)
    perm = np.concatenate(blocks)
    x = np.arange(75, dtype=np.float32)
    xy = np.stack([x[perm] + 1, np.ones(75, np.float32)], -1)[None, None]
    body = NumPyPoseBody(25.0, np.ma.masked_array(xy, mask=np.zeros_like(xy, bool)), np.ones((1, 1, 75)))
    with open(tmp_path / "r.pose", "wb") as f:
        Pose(PoseHeader(0.2, PoseHeaderDimensions(100, 100, 0), comps), body).write(f)
    s = read_pose(tmp_path / "r.pose")
    assert s.layout.name == "mediapipe_pose_hands_75"
    assert s.data[0, :, 0].tolist() == (x + 1).tolist()


def test_reduced_holistic_from_pose_format_maps_like_full_holistic(shared_poses, tmp_path):
    """pose-format's own reduce_holistic (178 points) read back and mapped: every SL79 point it has equals
    the full holistic's, and it lacks only the nose, eyes, ears and nose tip."""
    from pose_format import Pose
    from pose_format.utils.generic import reduce_holistic

    src = shared_poses / "mediapipe" / "colin-SAD.pose"
    reduced = reduce_holistic(Pose.read(src.read_bytes()))
    with open(tmp_path / "r.pose", "wb") as f:
        reduced.write(f)
    red = read_pose(tmp_path / "r.pose")
    assert red.layout.name == "holistic_reduced_178" and red.layout.num_keypoints == 178
    a, b = to_sl79(red), to_sl79(read_pose(src))
    have = ~a.missing()
    np.testing.assert_allclose(a.data[have], b.data[have], atol=1e-3)
    never = np.flatnonzero(~have.any(0))
    assert sorted(never.tolist()) == [0, 1, 2, 3, 4, 28]  # nose, eyes, ears; nose tip


def test_gzip_is_transparent(tmp_path):
    seq = _seq("coco_wholebody_133")
    write_pose(seq, tmp_path / "a.pose")
    (tmp_path / "a.pose.gz").write_bytes(gzip.compress((tmp_path / "a.pose").read_bytes()))
    np.save(tmp_path / "b.npy", seq.data)
    (tmp_path / "b.npy.gz").write_bytes(gzip.compress((tmp_path / "b.npy").read_bytes()))
    frames = [[{"id": k, "x": 1.0 + k, "y": 2.0, "visibility": 0.9} for k in range(33)]] * 3
    (tmp_path / "c.json.gz").write_bytes(gzip.compress(json.dumps(frames).encode()))
    assert pose_suffix(tmp_path / "c.json.gz") == ".json"
    np.testing.assert_array_equal(read_pose(tmp_path / "a.pose.gz").data, read_pose(tmp_path / "a.pose").data)
    np.testing.assert_array_equal(read_pose(tmp_path / "b.npy.gz").data, read_pose(tmp_path / "b.npy").data)
    c = read_pose(tmp_path / "c.json.gz")
    assert c.layout.name == "mediapipe_pose_33" and c.data.shape == (3, 33, 3)
    (tmp_path / "bad.json.gz").write_bytes(b"\x1f\x8bnot really gzip")
    with pytest.raises(PoseReadError, match="bad.json.gz"):
        read_pose(tmp_path / "bad.json.gz")
    (tmp_path / "plain.json.gz").write_text("[]")
    with pytest.raises(PoseReadError, match="not gzip"):
        read_pose(tmp_path / "plain.json.gz")


def test_keypoint_frame_json_both_shapes(tmp_path):
    """The Libras layout ({"frames": [{"frame", "keypoints": [{id, x, y, z, visibility}]}]}) and a bare list
    of frames; ids index the layout, an absent id is missing, visibility is the confidence."""
    frames = []
    for t in range(5):
        pts = [{"id": k, "x": 100 + k, "y": 200 + t, "z": -1.0, "visibility": 0.5}
               for k in range(33) if k != 7]
        frames.append({"frame": 4 - t, "keypoints": pts})  # stored out of order
    (tmp_path / "clip.json").write_text(json.dumps({"frames": frames}))
    s = read_pose(tmp_path / "clip.json", fps=30)
    assert s.layout.name == "mediapipe_pose_33" and s.fps == 30 and s.num_frames == 5
    assert s.data[0, 0, 1] == 204 and s.data[4, 0, 1] == 200  # sorted by "frame"
    assert s.missing()[:, 7].all() and (s.confidence[:, 0] == 0.5).all()
    (tmp_path / "list.json").write_text(json.dumps([f["keypoints"] for f in frames]))
    assert read_pose(tmp_path / "list.json").data.shape == (5, 33, 3)
    hand = [[{"id": k, "x": k, "y": k} for k in range(21)]]
    (tmp_path / "hand.json").write_text(json.dumps(hand))
    with pytest.raises(PoseReadError, match="K=21"):
        read_pose(tmp_path / "hand.json")
    h = read_pose(tmp_path / "hand.json", layout="hand_right_21")
    assert h.layout.name == "hand_right_21" and (h.confidence == 1).all()
    (tmp_path / "weird.json").write_text(json.dumps({"something": 1}))
    with pytest.raises(PoseReadError, match="unrecognised JSON"):
        read_pose(tmp_path / "weird.json")


def _openpose_frame(people):
    return {"version": 1.3, "people": people}


def _person(x0, conf, parts=("pose",)):
    p = {}
    sizes = {"pose": ("pose_keypoints_2d", 25), "face": ("face_keypoints_2d", 70),
             "left": ("hand_left_keypoints_2d", 21), "right": ("hand_right_keypoints_2d", 21)}
    for part in parts:
        key, k = sizes[part]
        arr = np.stack([x0 + np.arange(k), np.full(k, 50.0), np.full(k, conf)], -1)
        p[key] = arr.reshape(-1).tolist()
    return p


@pytest.mark.parametrize("parts,layout", [(("pose",), "openpose_body25"),
                                          (("pose", "left", "right"), "openpose_body25_hands_67"),
                                          (("pose", "face", "left", "right"), "openpose_137")])
def test_openpose_folder(tmp_path, parts, layout):
    d = tmp_path / "clip"
    d.mkdir()
    for t in (2, 0, 1, 10):  # numbered names, written out of order
        people = [_person(1000, 0.4, parts), _person(t * 10.0, 0.9, parts)]  # the confident one is the signer
        (d / f"clip_{t:012d}_keypoints.json").write_text(json.dumps(_openpose_frame(people)))
    s = read_pose(d)
    assert s.layout.name == layout and s.num_frames == 4
    assert s.data[:, 0, 0].tolist() == [0.0, 10.0, 20.0, 100.0]
    mapped = to_sl79(s)
    assert (~mapped.missing()).sum(1)[0] == {"openpose_body25": 12, "openpose_body25_hands_67": 54,
                                             "openpose_137": 79}[layout]


def test_openpose_single_frame_and_coco18_refused(tmp_path):
    (tmp_path / "f_keypoints.json").write_text(json.dumps(_openpose_frame([_person(5.0, 1.0)])))
    assert read_pose(tmp_path / "f_keypoints.json").layout.name == "openpose_body25"
    coco = {"pose_keypoints_2d": [1.0] * 54}
    (tmp_path / "coco.json").write_text(json.dumps(_openpose_frame([coco])))
    with pytest.raises(PoseReadError, match="BODY_COCO"):
        read_openpose(tmp_path / "coco.json")
    (tmp_path / "empty").mkdir()
    with pytest.raises(PoseReadError, match="no OpenPose"):
        read_pose(tmp_path / "empty")


def _skels_line(frames: int, counter: bool = True, seed: int = 0) -> str:
    rng = np.random.default_rng(seed)
    j = rng.uniform(-0.3, 0.3, (frames, 50, 3))
    j[:, 1] = 0.0  # the neck is the origin
    rows = [np.concatenate([f.reshape(-1), [t / frames]]) if counter else f.reshape(-1)
            for t, f in enumerate(j)]
    return " ".join(f"{v:.5f}" for v in np.concatenate(rows))


def test_skels_lines_counter_and_addressing(tmp_path):
    path = tmp_path / "train.skels"
    lines = [_skels_line(3), _skels_line(150, seed=1), _skels_line(4, counter=False)]
    path.write_text("\n".join(lines) + "\n")
    clips = read_skels_lines(path)
    assert [c.shape for c in clips] == [(3, 50, 3), (150, 50, 3), (4, 50, 3)]  # 22,650 values: counter wins
    s = read_pose(f"{path}#1")
    assert s.layout.name == "phoenix_skels_50" and s.meta["coordinates"] == "normalized"
    assert coordinate_kind(s) == "normalized" and np.allclose(s.data[:, 1, :2], 0.5)  # neck at the centre
    assert not s.missing()[:, 1].any()
    with pytest.raises(PoseReadError, match="holds 3 clips"):
        read_pose(path)
    with pytest.raises(PoseReadError, match="no clip #5"):
        read_pose(f"{path}#5")
    (tmp_path / "one.skels").write_text(_skels_line(2))
    assert read_pose(tmp_path / "one.skels").num_frames == 2
    (tmp_path / "bad.skels").write_text("1 2 3")
    with pytest.raises(PoseReadError, match="bad.skels"):
        read_pose(tmp_path / "bad.skels")


def test_numpy_channels(tmp_path):
    xyzc = RNG.uniform(1, 100, (3, 42, 4)).astype(np.float32)
    np.save(tmp_path / "a.npy", xyzc)
    s = read_pose(tmp_path / "a.npy")
    assert s.layout.name == "hands_42"
    np.testing.assert_array_equal(s.data[..., :2], xyzc[..., :2])
    np.testing.assert_allclose(s.confidence, np.clip(xyzc[..., 3], 0, 1))
    np.save(tmp_path / "b.npy", xyzc[..., :3])
    s = read_pose(tmp_path / "b.npy", channels="xyz")
    assert (s.confidence == 1).all()
    with pytest.raises(PoseReadError, match="channels"):
        read_pose(tmp_path / "b.npy", channels="xyzc")
    with pytest.raises(PoseReadError, match="unknown keypoint layout"):
        read_pose(tmp_path / "b.npy", layout="nope")


def test_coordinates_detected_or_declared():
    px = _seq("mediapipe_pose_33")
    assert coordinate_kind(px) == "pixels"
    norm = PoseSequence(px.data / np.array([640, 480, 1], np.float32), px.layout, 25.0, 640, 480)
    assert coordinate_kind(norm) == "normalized"
    a, b = frame_units(px), frame_units(norm)
    np.testing.assert_allclose(a, b, atol=1e-6)
    no_size = PoseSequence(px.data, px.layout, 25.0, 0, 0)
    with pytest.raises(ValueError, match="unknown frame size"):
        frame_units(no_size)
    np.testing.assert_allclose(frame_units(no_size, "pixels", 640, 480), a, atol=1e-6)
    with pytest.raises(ValueError, match="coordinates must be"):
        frame_units(px, "cm")


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_every_layout_maps_to_frame_units(layout):
    """Every layout reaches the model's input form; points it lacks are (0, 0, 0)."""
    from mslu.pose.mapping import sl79_table

    pose = frame_units(_seq(layout))
    table = sl79_table(layout)
    assert pose.shape == (4, 79, 3) and np.isfinite(pose).all()
    assert (pose[:, table < 0] == 0).all()
    assert (pose[1:, table >= 0, 2] > 0).all()
