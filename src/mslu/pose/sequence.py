"""The in-memory pose sequence every reader returns and every writer takes."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from mslu.pose.layouts import Layout, get_layout


@dataclass
class PoseSequence:
    """``data`` is float32 (T, K, 3): x, y in pixels (or normalised units), confidence in [0, 1].

    Missing joints are explicit: confidence 0. Readers set their x, y to NaN so that a missing point can
    never pass for a real one; :func:`mslu.pose.normalize` turns them into (0, 0, conf=0) for models,
    where the confidence channel tells them apart.
    """

    data: np.ndarray
    layout: Layout
    fps: float = 25.0
    width: int = 0
    height: int = 0
    meta: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if isinstance(self.layout, str):
            self.layout = get_layout(self.layout)
        self.data = np.asarray(self.data, dtype=np.float32)
        if self.data.ndim != 3 or self.data.shape[2] != 3:
            raise ValueError(f"pose data must be (T, K, 3), got {self.data.shape}")
        if self.data.shape[1] != self.layout.num_keypoints:
            raise ValueError(
                f"pose data has {self.data.shape[1]} keypoints but layout {self.layout.name!r} "
                f"has {self.layout.num_keypoints}"
            )

    @property
    def num_frames(self) -> int:
        return int(self.data.shape[0])

    @property
    def xy(self) -> np.ndarray:
        return self.data[..., :2]

    @property
    def confidence(self) -> np.ndarray:
        return self.data[..., 2]

    def missing(self) -> np.ndarray:
        """Boolean (T, K): joints with confidence 0 or any NaN."""
        return (self.confidence <= 0) | np.isnan(self.data).any(-1)
