"""What every pose estimator backend provides to the extraction pipeline."""

from __future__ import annotations

from typing import Protocol

import numpy as np

from mslu.pose.layouts import Layout


class Estimator(Protocol):
    """A whole-body pose estimator run frame by frame on one video at a time."""

    name: str  #: recorded as the ``estimator`` of the written pose
    layout: Layout  #: keypoint layout of :meth:`process` output

    def reset(self) -> None:
        """Forget tracking state before a new video."""

    def process(self, frame_rgb: np.ndarray, width: int, height: int) -> np.ndarray:
        """(K, 3) float32 ``x, y`` in pixels and confidence of one RGB frame; missing: conf 0, x, y NaN."""

    def close(self) -> None:
        """Release the model."""


def missing_points(num_keypoints: int) -> np.ndarray:
    """(K, 3) all-missing keypoints: x, y NaN and confidence 0."""
    out = np.full((num_keypoints, 3), np.nan, dtype=np.float32)
    out[:, 2] = 0.0
    return out
