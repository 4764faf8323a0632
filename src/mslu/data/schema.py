"""One sample of the sign-text pose corpus, and its validation.

Coordinates are stored normalised by the frame size (x / width, y / height), so float16 keeps the same
relative precision for every resolution; ``width`` and ``height`` recover pixels. A missing joint is
stored as (0, 0, confidence 0): the confidence channel, not the coordinates, says it is missing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from mslu.data.languages import SIGN_LANGUAGES, TEXT_LANGUAGES
from mslu.pose.layouts import SL79

NUM_KEYPOINTS = SL79.num_keypoints
SPLITS = ("train", "dev", "test", "pretrain")


class SampleError(ValueError):
    """A sample that cannot enter the corpus; the message names the sample and the problem."""

    def __init__(self, sample_id: str, problem: str):
        super().__init__(f"sample {sample_id!r}: {problem}")
        self.sample_id = sample_id
        self.problem = problem


@dataclass
class Sample:
    id: str
    pose: np.ndarray  # (T, 79, 3): x / width, y / height, confidence
    source: str  # dataset name, e.g. "phoenix2014t"
    sign_language: str  # key of SIGN_LANGUAGES, e.g. "gsg"
    text: str | None = None  # sentence (or template sentence for isolated signs)
    text_language: str | None = None  # key of TEXT_LANGUAGES
    gloss: list[str] | None = None  # gloss sequence (continuous data)
    label: int | None = None  # isolated class index
    split: str = "train"
    signer: str = ""
    fps: float = 25.0
    width: int = 0
    height: int = 0
    estimator: str = ""
    paired: bool = True
    extra: dict = field(default_factory=dict)  # free-form, stored as JSON

    @property
    def num_frames(self) -> int:
        return int(self.pose.shape[0])


def validate_sample(s: Sample) -> None:
    """Raise :class:`SampleError` naming the sample and the first problem found."""
    sid = s.id or "<no id>"
    if not s.id:
        raise SampleError(sid, "empty id")
    pose = np.asarray(s.pose)
    if pose.ndim != 3 or pose.shape[2] != 3:
        raise SampleError(sid, f"pose must be (T, {NUM_KEYPOINTS}, 3), got shape {pose.shape}")
    if pose.shape[1] != NUM_KEYPOINTS:
        raise SampleError(sid, f"wrong keypoint count: {pose.shape[1]} (expected {NUM_KEYPOINTS})")
    if pose.shape[0] == 0:
        raise SampleError(sid, "zero frames")
    if not np.isfinite(pose).all():
        bad = np.argwhere(~np.isfinite(pose))[0]
        raise SampleError(sid, f"NaN/inf value at frame {bad[0]}, keypoint {bad[1]}, channel {bad[2]}")
    conf = pose[..., 2]
    if (conf < 0).any() or (conf > 1).any():
        raise SampleError(sid, "confidence outside [0, 1]")
    if s.sign_language not in SIGN_LANGUAGES:
        raise SampleError(sid, f"unknown sign language {s.sign_language!r}")
    if s.paired:
        if not s.text or not s.text.strip():
            raise SampleError(sid, "empty text on a paired sample")
        if s.text_language not in TEXT_LANGUAGES:
            raise SampleError(sid, f"unknown text language {s.text_language!r}")
    elif s.text_language is not None and s.text_language not in TEXT_LANGUAGES:
        raise SampleError(sid, f"unknown text language {s.text_language!r}")
    if s.split not in SPLITS:
        raise SampleError(sid, f"unknown split {s.split!r}; expected one of {SPLITS}")
    if not (s.fps > 0):
        raise SampleError(sid, f"fps must be > 0, got {s.fps}")
