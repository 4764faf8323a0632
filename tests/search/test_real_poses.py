"""Build and search on the real pose files of ../shared/poses (MediaPipe Holistic 576 / 543 points, COCO
WholeBody 133 as .pose and MMPose JSON, and videos when the MediaPipe backend is installed)."""

from __future__ import annotations

import pytest

from mslu.pose.io import read_pose
from mslu.search import SignIndex, SignSearcher, build_index

pytestmark = pytest.mark.shared


def test_real_pose_files_are_indexed_and_find_themselves(shared_poses, retrieval_run, loaded_run, tmp_path):
    errors = []
    inputs = [shared_poses / "mediapipe", shared_poses / "mmpose-wholebody", shared_poses / "autsl"]
    build_index(retrieval_run, inputs, tmp_path / "idx", progress=False, device="cpu",
                         on_error=lambda p, m: errors.append(m))  # fmt: skip
    index = SignIndex.open(tmp_path / "idx")
    clips = {c["id"]: c for c in index.clips()}
    poses = ["colin-1-HOUSE.pose", "colin-2-HOUSE.pose", "colin-SAD.pose", "continuous-unlabelled.pose",
             "SOUP.pose", "signer0_sample1000.pose"]  # fmt: skip
    assert set(poses) <= set(clips)
    # MMPose JSON records no frame size: reported, then indexed once it is given (the SOUP video's 320x240)
    (json_error,) = [e for e in errors if "SOUP.mmpose.json" in e]
    assert "--width and --height" in json_error
    errors.clear()
    again = build_index(retrieval_run, inputs, tmp_path / "idx", progress=False, device="cpu", width=320,
                        height=240, on_error=lambda p, m: errors.append(m))  # fmt: skip
    assert again.added >= 1 and again.already == len(clips)
    index.refresh()
    clips = {c["id"]: c for c in index.clips()}
    poses.append("SOUP.mmpose.json")
    for name in poses:
        assert clips[name]["frames"] == read_pose(clips[name]["path"]).num_frames
    # the AUTSL video has its own (differently named) pose file beside it: extracted when MediaPipe is
    # installed, else reported in one line and skipped
    video = "signer0_sample1000_color.mp4"
    assert (video in clips) != any(video in e for e in errors)
    assert all("\n" not in e for e in errors) and len(again.failed) == len(errors)
    searcher = SignSearcher(index, model=loaded_run)
    assert searcher.search_file(clips["colin-1-HOUSE.pose"]["path"], k=2)[0].id == "colin-1-HOUSE.pose"
    # SOUP.pose and SOUP.mmpose.json hold the same keypoints: both come first, tied at 1
    hits = searcher.search_file(clips["SOUP.mmpose.json"]["path"], k=3, width=320, height=240)
    assert {h.id for h in hits[:2]} == {"SOUP.pose", "SOUP.mmpose.json"}
    assert hits[0].score == pytest.approx(1.0, abs=2e-3) and hits[1].score == pytest.approx(1.0, abs=2e-3)
    hits = searcher.search_text("house", k=3)
    assert len(hits) == 3 and all(h.id in clips for h in hits)
