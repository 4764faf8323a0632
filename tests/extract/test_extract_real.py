"""MediaPipe extraction on the real videos of ../shared/poses, compared with their reference poses.

Distances are normalised by the reference's median shoulder width over the clip (pixels / shoulder width),
over the points both sides detect. AUTSL: the reference is MediaPipe Holistic 543 (same estimator family), so
the same points are compared. SOUP: the reference is COCO-WholeBody (MMPose); both sides go through
``to_sl79`` and the body and hand points are compared (face contours of the two estimators are not the same
anatomical points, so they are left out).
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import numpy as np
import pytest

from mslu.extract.pipeline import ExtractConfig, run_extraction
from mslu.extract.video import VideoReader
from mslu.pose.io import read_pose
from mslu.pose.mapping import to_sl79

pytest.importorskip("mediapipe")

SOUP = "videos/SOUP.mp4"
AUTSL = "autsl/signer0_sample1000_color.mp4"


@pytest.fixture(scope="module")
def extracted(shared_poses: Path, tmp_path_factory):
    src = tmp_path_factory.mktemp("videos")
    for rel in (SOUP, AUTSL):
        shutil.copy(shared_poses / rel, src / Path(rel).name)
    (src / "corrupt.mp4").write_bytes(np.random.default_rng(0).bytes(20000))
    out = tmp_path_factory.mktemp("poses")
    report = run_extraction([src], out, ExtractConfig(), workers=2, progress=False)
    return src, out, report


def _mean_dist(ours: np.ndarray, ref: np.ndarray, scale: float, min_ref_conf: float = 0.0) -> tuple:
    """Mean distance / scale over points both sides detect, and the fraction of such points."""
    ok = (ours[..., 2] > 0) & (ref[..., 2] > min_ref_conf)
    ok &= np.isfinite(ours).all(-1) & np.isfinite(ref).all(-1)
    d = np.linalg.norm(ours[..., :2] - ref[..., :2], axis=-1)[ok] / scale
    return float(d.mean()), float(ok.mean())


def _shoulder_width(data: np.ndarray, left: int, right: int) -> float:
    return float(np.nanmedian(np.linalg.norm(data[:, left, :2] - data[:, right, :2], axis=-1)))


def test_batch_reports_corrupt_and_keeps_the_rest(extracted):
    src, out, report = extracted
    assert sorted(Path(v).name for v in report.written) == ["SOUP.mp4", "signer0_sample1000_color.mp4"]
    assert [Path(v).name for v, _ in report.failed] == ["corrupt.mp4"]
    rows = list(csv.DictReader(open(out / "errors.csv")))
    assert [Path(r["video"]).name for r in rows] == ["corrupt.mp4"] and "corrupt.mp4" in rows[0]["error"]


@pytest.mark.parametrize("name", ["SOUP", "signer0_sample1000_color"])
def test_frames_fps_size_match_video(extracted, name):
    src, out, _ = extracted
    seq = read_pose(out / f"{name}.pose")
    with VideoReader(src / f"{name}.mp4") as r:
        n = sum(1 for _ in r)
        assert (seq.width, seq.height) == (r.width, r.height)
        assert seq.fps == pytest.approx(r.fps, rel=1e-4)
    assert seq.num_frames == n and seq.layout.name == "mediapipe_holistic"


def test_autsl_matches_reference_mediapipe(extracted, shared_poses):
    _, out, _ = extracted
    ours = read_pose(out / "signer0_sample1000_color.pose")
    ref = read_pose(shared_poses / "autsl/signer0_sample1000.pose")
    assert ours.data.shape == ref.data.shape
    sw = _shoulder_width(ref.data, 11, 12)
    lay = ref.layout
    results = {}
    for group, idx in (("upper_body", lay.index("pose")[:25]), ("face", lay.index("face")),
                       ("hands", lay.index("left_hand+right_hand"))):
        results[group] = _mean_dist(ours.data[:, idx], ref.data[:, idx], sw)
    print("AUTSL mean distance / shoulder width (coverage):", results)
    assert results["upper_body"][0] < 0.15 and results["upper_body"][1] > 0.9
    assert results["face"][0] < 0.05
    assert results["hands"][0] < 0.2 and results["hands"][1] > 0.7


def test_soup_matches_reference_wholebody(extracted, shared_poses):
    _, out, _ = extracted
    ours = to_sl79(read_pose(out / "SOUP.pose"))
    ref = to_sl79(read_pose(shared_poses / "mmpose-wholebody/SOUP.pose"))
    assert ours.num_frames == ref.num_frames == 41
    lay = ref.layout
    sw = _shoulder_width(ref.data, 5, 6)
    results = {g: _mean_dist(ours.data[:, lay.index(g)], ref.data[:, lay.index(g)], sw, min_ref_conf=0.3)
               for g in ("body", "left_hand", "right_hand")}
    print("SOUP mean distance / shoulder width (coverage):", results)
    assert results["body"][0] < 0.15 and results["body"][1] > 0.9
    for hand in ("left_hand", "right_hand"):
        assert results[hand][0] < 0.25 and results[hand][1] > 0.5
    # swapping the hands would be far worse: the comparison can tell left from right
    swapped = _mean_dist(ours.data[:, lay.index("right_hand")], ref.data[:, lay.index("left_hand")], sw, 0.3)
    assert swapped[0] > 2 * results["left_hand"][0]


def test_second_run_skips_finished(extracted):
    src, out, _ = extracted
    before = {p.name: p.stat().st_mtime_ns for p in out.glob("*.pose")}
    report = run_extraction([src / "SOUP.mp4", src / "signer0_sample1000_color.mp4"], out, ExtractConfig(),
                            workers=1, progress=False)
    assert report.written == [] and len(report.skipped) == 2 and report.failed == []
    assert {p.name: p.stat().st_mtime_ns for p in out.glob("*.pose")} == before
