"""Helpers for the ingestor tests: small generated pose files standing in for the media."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mslu.pose.io import write_pose
from mslu.pose.layouts import COCO_WHOLEBODY_133
from mslu.pose.sequence import PoseSequence

WIDTH = HEIGHT = 1000


def make_fake_pose(path: Path, num_frames: int, fps: float = 25.0, seed: int = 0) -> Path:
    """A COCO-WholeBody-133 ``.pose`` whose nose x (pixels) is ``10 * (frame index + 1)``: after
    conversion to frame units ``round(x * 100) - 1`` recovers the source frame index."""
    rng = np.random.default_rng(seed)
    xy = rng.uniform(100, 900, (num_frames, 133, 2))
    xy[:, 0, 0] = 10.0 * (np.arange(num_frames) + 1)
    conf = rng.uniform(0.5, 1.0, (num_frames, 133, 1))
    data = np.concatenate([xy, conf], -1)
    seq = PoseSequence(data, COCO_WHOLEBODY_133, fps=fps, width=WIDTH, height=HEIGHT)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_pose(seq, path)
    return path


@pytest.fixture
def fake_pose():
    return make_fake_pose
