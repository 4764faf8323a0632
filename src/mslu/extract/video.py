"""Frame-by-frame video reading with OpenCV (``cv2.VideoCapture``)."""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

VIDEO_EXTENSIONS = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".flv", ".wmv")
DEFAULT_FPS = 25.0


class VideoError(RuntimeError):
    """A video that cannot be opened or decoded; the message names the file."""


class VideoReader:
    """Iterate over the RGB frames (H, W, 3) uint8 of one video.

    ``fps``, ``width`` and ``height`` come from the container and the first decoded frame; ``num_frames`` is
    the container's estimate (the exact count is the number of frames the iterator yields). Opening checks
    that at least one frame decodes, so an unreadable file fails here with :class:`VideoError`.
    """

    def __init__(self, path: str | Path) -> None:
        import cv2

        self.path = Path(path)
        if not self.path.is_file():
            raise VideoError(f"{self.path}: no such video file")
        self._cap = cv2.VideoCapture(str(self.path))
        if not self._cap.isOpened():
            raise VideoError(f"{self.path}: cannot open video (unknown container or codec)")
        ok, frame = self._cap.read()
        if not ok or frame is None:
            self._cap.release()
            raise VideoError(f"{self.path}: no decodable frame (corrupt or empty video)")
        self._first: np.ndarray | None = frame
        self.height, self.width = int(frame.shape[0]), int(frame.shape[1])
        fps = float(self._cap.get(cv2.CAP_PROP_FPS) or 0.0)
        if not math.isfinite(fps) or fps <= 0 or fps > 1000:
            log.warning("%s: container reports no valid fps (%r); using %.1f", self.path, fps, DEFAULT_FPS)
            fps = DEFAULT_FPS
        self.fps = fps
        self.num_frames = int(self._cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)

    def __iter__(self) -> Iterator[np.ndarray]:
        import cv2

        if self._first is None:
            raise VideoError(f"{self.path}: a VideoReader can be iterated only once")
        frame, self._first = self._first, None
        while frame is not None:
            yield cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
            ok, frame = self._cap.read()
            if not ok:
                frame = None
        self.close()

    def close(self) -> None:
        self._cap.release()

    def __enter__(self) -> VideoReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_frames(path: str | Path) -> tuple[list[np.ndarray], float, int, int]:
    """All RGB frames of a video in memory, with (fps, width, height). For short clips and benchmarks."""
    with VideoReader(path) as reader:
        frames = list(reader)
        return frames, reader.fps, reader.width, reader.height
