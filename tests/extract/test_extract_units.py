"""Extraction pipeline logic without a real estimator: video reading, sharding, resume, error reporting,
hand refinement, the rtmlib wrapper with stub models, frame resizing."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from mslu.extract import pipeline
from mslu.extract.hand_refine import load_hands, refine_hands
from mslu.extract.pipeline import ExtractConfig, collect_videos, parse_shard, run_extraction, shard_items
from mslu.extract.rtmlib_backend import RTMLibWholeBody
from mslu.extract.video import VideoError, VideoReader
from mslu.pose.io import read_pose
from mslu.pose.layouts import COCO_WHOLEBODY_133
from mslu.pose.sequence import PoseSequence

cv2 = pytest.importorskip("cv2")


def make_video(path: Path, n: int = 6, w: int = 64, h: int = 48, fps: float = 20.0) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
    for i in range(n):
        frame = np.full((h, w, 3), 20 * i + 10, dtype=np.uint8)
        writer.write(frame)
    writer.release()
    return path


class FakeEstimator:
    """Puts keypoint 0 at the frame centre, confidence = frame brightness / 255; remembers frame sizes."""

    name = "fake"
    layout = COCO_WHOLEBODY_133

    def __init__(self) -> None:
        self.sizes: list[tuple[int, int]] = []
        self.resets = 0

    def reset(self) -> None:
        self.resets += 1

    def process(self, frame: np.ndarray, width: int, height: int) -> np.ndarray:
        assert frame.shape[:2] == (height, width)
        self.sizes.append((width, height))
        out = np.full((133, 3), np.nan, np.float32)
        out[:, 2] = 0
        out[0] = (width / 2, height / 2, frame.mean() / 255)
        return out


@pytest.fixture()
def fake(monkeypatch) -> FakeEstimator:
    est = FakeEstimator()
    est.close = lambda: None
    monkeypatch.setattr(pipeline, "make_estimator", lambda cfg: est)
    return est


def test_video_reader_frames_fps_size(tmp_path):
    v = make_video(tmp_path / "a.mp4", n=7, w=64, h=48, fps=20.0)
    with VideoReader(v) as r:
        frames = list(r)
        assert (r.width, r.height, r.fps) == (64, 48, 20.0)
    assert len(frames) == 7 and frames[0].shape == (48, 64, 3)


def test_unreadable_video_error_names_file(tmp_path):
    bad = tmp_path / "corrupt.mp4"
    bad.write_bytes(np.random.default_rng(0).bytes(5000))
    with pytest.raises(VideoError, match="corrupt.mp4"):
        VideoReader(bad)
    with pytest.raises(VideoError, match="no such video"):
        VideoReader(tmp_path / "missing.mp4")


def test_shard_split_is_disjoint_and_complete(tmp_path):
    for i in range(7):
        (tmp_path / f"v{i}.mp4").write_bytes(b"x")
    (tmp_path / "notes.txt").write_text("not a video")
    videos = collect_videos([tmp_path])
    assert [rel.name for _, rel in videos] == [f"v{i}" for i in range(7)]
    shards = [shard_items(videos, parse_shard(f"{i}/3")) for i in range(3)]
    flat = [v for s in shards for v in s]
    assert sorted(flat) == sorted(videos) and len(flat) == len(set(flat)) == 7
    assert [len(s) for s in shards] == [3, 2, 2]
    for bad in ("3/3", "1", "a/b", "0/0"):
        with pytest.raises(ValueError):
            parse_shard(bad)


def test_pipeline_resume_and_errors(tmp_path, fake):
    src = tmp_path / "videos"
    src.mkdir()
    make_video(src / "one.mp4", n=5)
    make_video(src / "two.mp4", n=3)
    (src / "broken.mp4").write_bytes(np.random.default_rng(1).bytes(3000))
    out = tmp_path / "out"
    rep = run_extraction([src], out, ExtractConfig(), workers=1, progress=False)
    assert sorted(Path(v).name for v in rep.written) == ["one.mp4", "two.mp4"]
    assert [Path(v).name for v, _ in rep.failed] == ["broken.mp4"] and "VideoError" in rep.failed[0][1]
    rows = list(csv.DictReader(open(out / "errors.csv")))
    assert len(rows) == 1 and rows[0]["video"].endswith("broken.mp4")
    seq = read_pose(out / "one.pose")
    assert seq.num_frames == 5 and (seq.width, seq.height) == (64, 48) and seq.fps == pytest.approx(20.0)
    # brightness 10, 30, 50, ... -> confidences in frame order (mp4v is lossy: loose tolerance)
    np.testing.assert_allclose(seq.data[:, 0, 2], (20 * np.arange(5) + 10) / 255, atol=0.02)
    assert np.isnan(seq.data[:, 1, :2]).all() and (seq.data[:, 1, 2] == 0).all()
    # second run: finished outputs are skipped, the broken one is tried (and reported) again
    mtime = (out / "one.pose").stat().st_mtime_ns
    rep2 = run_extraction([src], out, ExtractConfig(), workers=1, progress=False)
    assert rep2.written == [] and len(rep2.skipped) == 2 and len(rep2.failed) == 1
    assert (out / "one.pose").stat().st_mtime_ns == mtime
    assert not list(out.glob(".*tmp*"))


def test_max_side_scales_back_to_video_pixels(tmp_path, fake):
    v = make_video(tmp_path / "big.mp4", n=2, w=128, h=64)
    seq = pipeline.extract_video(v, fake, max_side=32)
    assert fake.sizes == [(32, 16), (32, 16)] and fake.resets == 1
    assert (seq.width, seq.height) == (128, 64)
    np.testing.assert_allclose(seq.data[:, 0, :2], [[64, 32], [64, 32]])


def _coco_seq(t: int = 4) -> PoseSequence:
    rng = np.random.default_rng(0)
    data = rng.uniform(0, 100, (t, 133, 3)).astype(np.float32)
    data[..., 2] = 0.5
    return PoseSequence(data, COCO_WHOLEBODY_133, 25.0, 100, 100)


def test_hand_refinement_replaces_the_right_points(tmp_path):
    seq = _coco_seq()
    hands = np.full((4, 2, 21, 3), np.nan, np.float32)
    hands[1, 0] = (7.0, 8.0, 0.9)  # left hand in frame 1
    hands[2, 1] = (3.0, 4.0, 0.2)  # right hand in frame 2, lower confidence than the current 0.5
    hands[2, 1, 5] = (np.nan, np.nan, 0.0)  # one point the hand estimator missed
    np.savez(tmp_path / "h.npz", hands=hands)
    loaded = load_hands(tmp_path / "h.npz")
    out = refine_hands(seq, loaded)
    left, right = np.arange(91, 112), np.arange(112, 133)
    changed = ~np.isclose(out.data, seq.data, equal_nan=True).all(-1)
    expected = np.zeros((4, 133), bool)
    expected[1, left] = True
    expected[2, right] = True
    np.testing.assert_array_equal(changed, expected)
    np.testing.assert_allclose(out.data[1, left], np.tile([7.0, 8.0, 0.9], (21, 1)))
    assert np.isnan(out.data[2, 112 + 5, :2]).all() and out.data[2, 112 + 5, 2] == 0
    assert out.meta["hand_refined"] == {"left_hand": 1, "right_hand": 1}
    # "higher": the weaker right hand (mean conf < 0.5) is not taken, the stronger left one is
    out_h = refine_hands(seq, loaded, mode="higher")
    np.testing.assert_array_equal(out_h.data[2], seq.data[2])
    np.testing.assert_allclose(out_h.data[1, left], out.data[1, left])
    # left/right arrays form and wrong length
    np.savez(tmp_path / "lr.npz", left=hands[:, 0], right=hands[:, 1])
    np.testing.assert_array_equal(load_hands(tmp_path / "lr.npz"), loaded)
    with pytest.raises(ValueError, match="match the pose"):
        refine_hands(seq, loaded[:3], source="h.npz")


def test_rtmlib_wrapper_keeps_one_signer_with_stub_models():
    boxes = np.array([[0, 0, 10, 10], [20, 0, 60, 80]], np.float32)

    def detector(img):
        assert img.ndim == 3
        return boxes

    def estimator(img, bboxes):
        n = len(bboxes)
        kps = np.stack([np.full((133, 2), float(i + 1)) for i in range(n)])
        scores = np.full((n, 133), 0.2)
        scores[1, :11] = 1.7  # person 1 has the best upper body; SimCC scores may exceed 1
        scores[:, 50] = 0.0
        return kps, scores

    est = RTMLibWholeBody(detector=detector, estimator=estimator)
    frame = np.zeros((80, 100, 3), np.uint8)
    out = est.process(frame, 100, 80)
    assert out.shape == (133, 3)
    np.testing.assert_allclose(out[0], [2.0, 2.0, 1.0])  # person 1, confidence clipped
    assert np.isnan(out[50, :2]).all() and out[50, 2] == 0
    none = RTMLibWholeBody(detector=lambda img: np.zeros((0, 4)), estimator=estimator).process(frame, 100, 80)
    assert (none[:, 2] == 0).all() and np.isnan(none[:, :2]).all()
    with pytest.raises(ValueError, match="detector model file"):
        RTMLibWholeBody()
    with pytest.raises(FileNotFoundError, match="nope.onnx"):
        RTMLibWholeBody("nope.onnx", "nope2.onnx")


def test_pipeline_applies_hand_file_from_directory(tmp_path, fake):
    src = tmp_path / "videos"
    src.mkdir()
    make_video(src / "clip.mp4", n=3)
    hands_dir = tmp_path / "hands"
    hands_dir.mkdir()
    hands = np.full((3, 2, 21, 3), np.nan, np.float32)
    hands[2, 1] = (5.0, 6.0, 0.8)
    np.savez(hands_dir / "clip.npz", hands=hands)
    bad_dir = tmp_path / "bad_hands"
    bad_dir.mkdir()
    np.savez(bad_dir / "clip.npz", hands=hands[:2])
    out = tmp_path / "out"
    rep = run_extraction([src], out, ExtractConfig(hands=str(hands_dir)), progress=False)
    assert len(rep.written) == 1
    seq = read_pose(out / "clip.pose")
    np.testing.assert_allclose(seq.data[2, 112:133], np.tile([5.0, 6.0, 0.8], (21, 1)))
    assert (seq.data[:2, 112:133, 2] == 0).all() and (seq.data[:, 91:112, 2] == 0).all()
    # a hand file of the wrong length fails that video, with the file named
    rep_bad = run_extraction([src], tmp_path / "out2", ExtractConfig(hands=str(bad_dir)), progress=False)
    assert rep_bad.written == [] and "clip.npz" in rep_bad.failed[0][1]
