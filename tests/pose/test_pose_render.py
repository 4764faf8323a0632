"""Rendering to PNG grid, GIF and MP4, and the ``mslu render`` command."""

from __future__ import annotations

import numpy as np
import pytest

from mslu.pose.layouts import SL79
from mslu.pose.render import PART_COLOURS, grid_image, render, render_frames
from mslu.pose.sequence import PoseSequence


def _seq(t=5, missing_hand=False):
    rng = np.random.default_rng(0)
    data = np.concatenate([rng.uniform(20, 300, (t, 79, 1)), rng.uniform(20, 220, (t, 79, 1)),
                           np.ones((t, 79, 1))], -1)
    if missing_hand:
        data[:, SL79.groups["left_hand"]] = (np.nan, np.nan, 0)
    return PoseSequence(data, SL79, 10.0, 320, 240)


def _has_colour(img, rgb):
    return bool((np.abs(img.astype(int) - np.array(rgb)).sum(-1) < 8).any())


def test_render_frames_shape_and_missing_not_drawn():
    frames = render_frames(_seq(missing_hand=True), size=160)
    assert frames.shape == (5, 120, 160, 3) and frames.dtype == np.uint8
    assert _has_colour(frames[0], PART_COLOURS["right_hand"])
    assert not _has_colour(frames[0], PART_COLOURS["left_hand"])
    assert _has_colour(render_frames(_seq(), size=160)[0], PART_COLOURS["left_hand"])


def test_grid_image():
    frames = np.zeros((10, 8, 6, 3), np.uint8)
    g = grid_image(frames, n=4, pad=2)
    assert g.shape == (2 * 10 + 2, 2 * 8 + 2, 3)


def test_render_files(tmp_path):
    import cv2
    import imageio.v2 as imageio

    seq = _seq(t=7)
    gif = render(seq, tmp_path / "a.gif", size=128, caption="test")
    assert gif.stat().st_size > 0 and len(imageio.mimread(gif)) == 7
    mp4 = render(seq, tmp_path / "a.mp4", size=128)
    cap = cv2.VideoCapture(str(mp4))
    n = 0
    while cap.read()[0]:
        n += 1
    cap.release()
    assert mp4.stat().st_size > 0 and n == 7
    png = render(seq, tmp_path / "a.png", size=128, grid=4)
    img = imageio.imread(png)
    assert img.shape[:2] == (2 * 98 + 2, 2 * 130 + 2)
    with pytest.raises(ValueError, match="a.bmp2"):
        render(seq, tmp_path / "a.bmp2")


def test_cli_render_real_files(shared_poses, tmp_path):
    import imageio.v2 as imageio

    from mslu.cli import main

    src = shared_poses / "mmpose-wholebody" / "SOUP.mmpose.json"
    assert main(["render", str(src), "--out", str(tmp_path / "s.gif"), "--size", "96"]) == 0
    assert len(imageio.mimread(tmp_path / "s.gif")) == 41
    src = shared_poses / "mediapipe" / "colin-SAD.pose"
    assert main(["render", str(src), "--out", str(tmp_path / "c.png"), "--grid", "4", "--size", "96"]) == 0
    assert main(["render", str(src), "--raw", "--out", str(tmp_path / "r.mp4"), "--size", "96"]) == 0
    assert (tmp_path / "c.png").stat().st_size > 0 and (tmp_path / "r.mp4").stat().st_size > 0
    assert main(["render", str(tmp_path / "missing.pose"), "--out", str(tmp_path / "m.gif")]) == 2


def test_render_is_bounded_and_keeps_existing_files(tmp_path, capsys):
    from mslu.cli import main
    from mslu.pose.io import write_pose
    from mslu.pose.layouts import SL79
    from mslu.pose.render import render
    from mslu.pose.sequence import PoseSequence

    long = PoseSequence(np.random.default_rng(0).uniform(0, 1, (3000, 79, 3)).astype(np.float32), SL79,
                        fps=25, width=1, height=1)
    with pytest.raises(ValueError, match="render size 100000 is out of range"):
        render(long, tmp_path / "x.gif", size=100000)
    out = render(long, tmp_path / "long.mp4", size=32)  # drawn and written frame by frame
    assert out.stat().st_size > 0
    src = tmp_path / "clip.pose"
    write_pose(long, src)
    (tmp_path / "mine.gif").write_bytes(b"user's file")
    assert main(["render", str(src), "--out", str(tmp_path / "mine.gif")]) == 2
    assert "exists" in capsys.readouterr().err and (tmp_path / "mine.gif").read_bytes() == b"user's file"
    assert main(["render", str(src), "--out", str(tmp_path / "big.gif"), "--size", "100000"]) == 2
    assert capsys.readouterr().err.startswith("error: render size 100000")
