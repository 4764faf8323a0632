"""Pose readers and writer, on real files (via fixtures) and synthetic ones."""

from __future__ import annotations

import json

import numpy as np
import pytest

from mslu.pose.io import PoseReadError, read_pose, select_signer, write_pose
from mslu.pose.layouts import COCO_WHOLEBODY_133, SL79, get_layout
from mslu.pose.mapping import to_sl79
from mslu.pose.sequence import PoseSequence

REAL = {
    "mediapipe/colin-1-HOUSE.pose": ("mediapipe_holistic_world", 93, 1280, 720),
    "mediapipe/colin-2-HOUSE.pose": ("mediapipe_holistic_world", 71, 1280, 720),
    "mediapipe/colin-SAD.pose": ("mediapipe_holistic_world", 76, 1280, 720),
    "mediapipe/continuous-unlabelled.pose": ("mediapipe_holistic_world", 130, 320, 240),
    "mmpose-wholebody/SOUP.pose": ("coco_wholebody_133", 41, 320, 240),
    "autsl/signer0_sample1000.pose": ("mediapipe_holistic", 43, 512, 512),
}


@pytest.mark.parametrize("rel", sorted(REAL))
def test_read_real_pose_files(shared_poses, rel):
    layout, frames, w, h = REAL[rel]
    s = read_pose(shared_poses / rel)
    assert s.layout.name == layout and s.num_frames == frames and (s.width, s.height) == (w, h)
    assert 29 < s.fps < 31
    conf = s.confidence
    assert ((conf >= 0) & (conf <= 1)).all()
    present = conf > 0
    assert not np.isnan(s.data[present]).any()  # present joints are real numbers
    assert np.isnan(s.xy[~present]).all()  # missing joints never look like points
    assert present.mean() > 0.5
    s79 = to_sl79(s)
    assert s79.data.shape == (frames, 79, 3)


def test_mediapipe_missing_hands_are_missing(shared_poses):
    from pose_format import Pose

    path = shared_poses / "mediapipe" / "colin-SAD.pose"
    raw = Pose.read(path.read_bytes())
    masked = np.ma.getmaskarray(raw.body.data)[:, 0, :, 0]
    s = read_pose(path)
    assert masked.any()
    assert np.array_equal(masked, s.confidence == 0)


def test_mmpose_json_matches_pose_file(shared_poses):
    js = read_pose(shared_poses / "mmpose-wholebody" / "SOUP.mmpose.json")
    ps = read_pose(shared_poses / "mmpose-wholebody" / "SOUP.pose")
    assert js.layout.name == ps.layout.name == COCO_WHOLEBODY_133.name
    assert np.allclose(js.data, ps.data, equal_nan=True)
    assert np.allclose(to_sl79(js).data, to_sl79(ps).data, equal_nan=True)


@pytest.mark.parametrize("rel", ["mediapipe/colin-SAD.pose", "mmpose-wholebody/SOUP.pose"])
def test_round_trip_real(shared_poses, rel, tmp_path):
    s = read_pose(shared_poses / rel)
    for seq in (s, to_sl79(s)):
        out = tmp_path / f"{seq.layout.name}.pose"
        write_pose(seq, out)
        r = read_pose(out)
        assert r.layout.name == seq.layout.name
        assert np.array_equal(r.data, seq.data, equal_nan=True)
        assert (r.width, r.height) == (seq.width, seq.height) and r.fps == pytest.approx(seq.fps, rel=1e-6)


def test_round_trip_readable_by_pose_format(tmp_path):
    from pose_format import Pose

    rng = np.random.default_rng(0)
    data = np.concatenate([rng.uniform(0, 300, (5, 79, 2)), rng.uniform(0.1, 1, (5, 79, 1))], -1)
    data[2, 40:] = (np.nan, np.nan, 0)
    seq = PoseSequence(data, SL79, 24.0, 320, 240)
    write_pose(seq, tmp_path / "a.pose")
    p = Pose.read((tmp_path / "a.pose").read_bytes())
    assert p.body.data.shape == (5, 1, 79, 2) and p.body.fps == 24.0
    assert [c.name for c in p.header.components] == ["SL79"]
    assert np.allclose(np.ma.getdata(p.body.data)[:, 0][seq.confidence > 0], seq.xy[seq.confidence > 0])
    assert np.array_equal(np.ma.getmaskarray(p.body.data)[:, 0, :, 0], seq.confidence == 0)
    r = read_pose(tmp_path / "a.pose")
    assert np.array_equal(r.data, seq.data, equal_nan=True)


def _inst(score_body, box, k=133, x=0.0):
    kp = np.full((k, 2), x + 10.0)
    sc = np.full(k, 0.5)
    sc[:11] = score_body
    return {"keypoints": kp.tolist(), "keypoint_scores": sc.tolist(), "bbox": [box]}


def test_signer_rule_and_tracking(tmp_path):
    frames = [
        # frame 0: B has the higher upper-body score -> B
        {"frame_id": 0, "instances": [
            _inst(0.5, [0, 0, 100, 100], x=1), _inst(0.9, [200, 0, 300, 100], x=2)]},
        # frame 1: tie on scores -> larger box (A); but tracking keeps the one overlapping B's box
        {"frame_id": 1, "instances": [
            _inst(0.7, [0, 0, 150, 150], x=1), _inst(0.7, [200, 0, 290, 100], x=2)]},
        # frame 2: nobody
        {"frame_id": 2, "instances": []},
    ]
    path = tmp_path / "p.json"
    path.write_text(json.dumps({"meta_info": {}, "instance_info": frames}))
    s = read_pose(path, fps=30.0)
    assert s.layout.name == "coco_wholebody_133" and s.num_frames == 3 and s.fps == 30.0
    assert s.data[0, 0, 0] == 12.0 and s.data[1, 0, 0] == 12.0
    assert (s.confidence[2] == 0).all() and np.isnan(s.xy[2]).all()


def test_select_signer_ties():
    k = [np.zeros((133, 2))] * 3
    s = [np.full(133, 0.8)] * 3
    boxes = [np.array([0, 0, 10, 10.0]), np.array([0, 0, 20, 20.0]), np.array([5, 5, 25, 25.0])]
    assert select_signer(k, s, boxes) == 1  # same score, same area -> lowest index among largest
    s2 = [np.full(133, 0.8), np.full(133, 0.8), np.full(133, 0.9)]
    assert select_signer(k, s2, boxes) == 2
    assert select_signer(k, s2, boxes, previous_box=np.array([0, 0, 10, 10.0])) == 0


def test_numpy_readers(tmp_path):
    rng = np.random.default_rng(1)
    arr = rng.uniform(0, 1, (4, 133, 3)).astype(np.float32)
    arr[1, 5, 2] = 0
    np.save(tmp_path / "a.npy", arr)
    s = read_pose(tmp_path / "a.npy")
    assert s.layout.name == "coco_wholebody_133"
    assert np.isnan(s.data[1, 5, :2]).all() and s.data[1, 5, 2] == 0
    assert np.array_equal(s.data[0], arr[0])
    np.savez(tmp_path / "b.npz", pose=arr[..., :2], fps=np.float32(50), width=640, height=480)
    s = read_pose(tmp_path / "b.npz")
    assert s.fps == 50 and (s.width, s.height) == (640, 480) and (s.confidence == 1).all()
    np.save(tmp_path / "c.npy", rng.uniform(0, 1, (4, 51, 3)))
    with pytest.raises(PoseReadError, match="c.npy"):
        read_pose(tmp_path / "c.npy")
    assert read_pose(tmp_path / "c.npy", layout=_fifty_one()).layout.num_keypoints == 51
    np.save(tmp_path / "d.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(PoseReadError, match="d.npy"):
        read_pose(tmp_path / "d.npy")


def _fifty_one():
    from mslu.pose.layouts import Layout

    return Layout("fifty_one", tuple(str(i) for i in range(51)), {"all": tuple(range(51))})


def test_errors_name_the_file(tmp_path):
    with pytest.raises(PoseReadError, match="nope.pose"):
        read_pose(tmp_path / "nope.pose")
    (tmp_path / "bad.pose").write_bytes(b"\x00\x01garbage")
    with pytest.raises(PoseReadError, match="bad.pose"):
        read_pose(tmp_path / "bad.pose")
    (tmp_path / "x.txt").write_text("hi")
    with pytest.raises(PoseReadError, match="x.txt"):
        read_pose(tmp_path / "x.txt")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(PoseReadError, match="bad.json"):
        read_pose(tmp_path / "bad.json")


def test_unknown_pose_format_layout_round_trip(tmp_path):
    from pose_format import Pose
    from pose_format.numpy.pose_body import NumPyPoseBody
    from pose_format.pose_header import PoseHeader, PoseHeaderComponent, PoseHeaderDimensions

    comp = PoseHeaderComponent("HANDY", ["a", "b", "c"], [(0, 1)], [(255, 0, 0)], "XYC")
    header = PoseHeader(0.2, PoseHeaderDimensions(100, 50, 0), [comp])
    data = np.ma.masked_array(np.arange(12, dtype=np.float32).reshape(2, 1, 3, 2))
    conf = np.ones((2, 1, 3), np.float32)
    with open(tmp_path / "h.pose", "wb") as f:
        Pose(header, NumPyPoseBody(10.0, data, conf)).write(f)
    s = read_pose(tmp_path / "h.pose")
    assert s.layout.name == "pose_format:HANDY" and s.layout.names[0] == "HANDY:a"
    assert np.array_equal(s.xy, data.data[:, 0])
    with pytest.raises(ValueError, match="h.pose"):
        to_sl79(s)
    write_pose(s, tmp_path / "h2.pose")
    assert np.array_equal(read_pose(tmp_path / "h2.pose").data, s.data)
    assert get_layout("sl79") is SL79


def test_openpose_pose_file_from_pose_format_components(tmp_path):
    from pose_format import Pose
    from pose_format.numpy.pose_body import NumPyPoseBody
    from pose_format.pose_header import PoseHeader, PoseHeaderDimensions
    from pose_format.utils.openpose import OpenPose_Components

    xy = np.zeros((2, 1, 137, 2), np.float32)
    xy[..., 0] = np.arange(137)
    header = PoseHeader(0.2, PoseHeaderDimensions(640, 480, 0), OpenPose_Components)
    with open(tmp_path / "op.pose", "wb") as f:
        Pose(header, NumPyPoseBody(25.0, np.ma.masked_array(xy), np.ones((2, 1, 137), np.float32))).write(f)
    s = read_pose(tmp_path / "op.pose")
    assert s.layout.name == "openpose_137"
    body = to_sl79(s).data[0, :11, 0].astype(int).tolist()
    assert body == [0, 16, 15, 18, 17, 5, 2, 6, 3, 7, 4]  # BODY_25 nose, eyes, ears, shoulders, ...


def test_pose_kwargs_only_fill_missing_header_values(tmp_path):
    seq = PoseSequence(np.ones((2, 79, 3)), SL79, 30.0, 0, 0)
    write_pose(seq, tmp_path / "z.pose")
    r = read_pose(tmp_path / "z.pose", fps=50.0, width=64, height=48)
    assert r.fps == 30.0 and (r.width, r.height) == (64, 48)
