"""MediaPipe Holistic backend (the offline default; ``mediapipe==0.10.21`` ships its models).

Output in the pose-format component order of :func:`mslu.pose.layouts.mediapipe_holistic`:
POSE 33, FACE 468 (478 with ``refine_face_landmarks``), LEFT_HAND 21, RIGHT_HAND 21, and optionally
POSE_WORLD 33. Image landmarks are converted to pixels (x * width, y * height). Confidence: the pose
landmarks' ``visibility``; face and hand landmarks carry no per-point score in MediaPipe, so a detected
face/hand gets confidence 1 and an undetected one confidence 0 with x, y NaN. World landmarks keep MediaPipe's
metric hip-centred x, y (metres) with the pose visibility as confidence. Left/right are the subject's
(MediaPipe Holistic derives each hand's region from the pose model's wrist of the same side).
"""

from __future__ import annotations

import numpy as np

from mslu.extract.base import missing_points
from mslu.pose.layouts import Layout, mediapipe_holistic


class MediaPipeHolistic:
    """MediaPipe Holistic in video mode (``static_image_mode=False``: tracking across frames)."""

    def __init__(
        self,
        model_complexity: int = 1,
        refine_face_landmarks: bool = False,
        world: bool = False,
        smooth_landmarks: bool = True,
        min_detection_confidence: float = 0.5,
        min_tracking_confidence: float = 0.5,
    ) -> None:
        try:
            from mediapipe.python.solutions.holistic import Holistic
        except ImportError as e:  # pragma: no cover - depends on the environment
            raise ImportError(
                "the mediapipe backend needs `pip install mediapipe==0.10.21` (see docs/extraction.md)"
            ) from e
        if model_complexity not in (0, 1, 2):
            raise ValueError(f"model_complexity must be 0, 1 or 2, got {model_complexity}")
        self.refine_face_landmarks = refine_face_landmarks
        self.world = world
        self.layout: Layout = mediapipe_holistic(refined_face=refine_face_landmarks, world=world)
        refined = "-refined" if refine_face_landmarks else ""
        self.name = f"mediapipe-holistic-0.10.21-c{model_complexity}{refined}"
        self._n_face = 478 if refine_face_landmarks else 468
        self._holistic = Holistic(
            static_image_mode=False,
            model_complexity=model_complexity,
            smooth_landmarks=smooth_landmarks,
            refine_face_landmarks=refine_face_landmarks,
            min_detection_confidence=min_detection_confidence,
            min_tracking_confidence=min_tracking_confidence,
        )

    def reset(self) -> None:
        self._holistic.reset()

    def process(self, frame_rgb: np.ndarray, width: int, height: int) -> np.ndarray:
        results = self._holistic.process(frame_rgb)
        return landmarks_to_array(results, width, height, self._n_face, self.world)

    def close(self) -> None:
        self._holistic.close()


def _part(landmarks, n: int, scale: tuple[float, float], use_visibility: bool) -> np.ndarray:
    if landmarks is None:
        return missing_points(n)
    pts = landmarks.landmark
    if len(pts) != n:
        raise ValueError(f"MediaPipe returned {len(pts)} landmarks where {n} were expected")
    if use_visibility:
        arr = np.array([(p.x, p.y, p.visibility) for p in pts], dtype=np.float32)
    else:
        arr = np.array([(p.x, p.y, 1.0) for p in pts], dtype=np.float32)
    arr[:, 0] *= scale[0]
    arr[:, 1] *= scale[1]
    return arr


def landmarks_to_array(
    results, width: int, height: int, n_face: int = 468, world: bool = False
) -> np.ndarray:
    """(K, 3) array from a Holistic result (``pose_landmarks``, ``face_landmarks``, ...), x, y in pixels."""
    px = (float(width), float(height))
    parts = [
        _part(results.pose_landmarks, 33, px, True),
        _part(results.face_landmarks, n_face, px, False),
        _part(results.left_hand_landmarks, 21, px, False),
        _part(results.right_hand_landmarks, 21, px, False),
    ]
    if world:
        parts.append(_part(getattr(results, "pose_world_landmarks", None), 33, (1.0, 1.0), True))
    return np.concatenate(parts, axis=0)
