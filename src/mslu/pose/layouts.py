"""Keypoint layouts as data.

A :class:`Layout` names every keypoint of a pose estimator's output and groups them into parts.
The paper's 79-point layout (``SL79``) is a subset of COCO-WholeBody-133 (Sec. IV-A):
1-based COCO-WholeBody indices {1-11, 24-40, 54, 84-91, 92-133} =
11 upper body + 17 jaw contour + 1 nose tip + 8 inner mouth + 42 hands.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Layout:
    """An ordered list of keypoint names with named groups of indices into it."""

    name: str
    names: tuple[str, ...]
    groups: dict[str, tuple[int, ...]] = field(default_factory=dict)

    @property
    def num_keypoints(self) -> int:
        return len(self.names)

    def index(self, group: str) -> np.ndarray:
        """Indices of a group (or of several groups joined with '+', e.g. 'body+left_hand')."""
        parts = group.split("+")
        return np.concatenate([np.asarray(self.groups[p], dtype=np.int64) for p in parts])


def _range(start: int, stop: int) -> tuple[int, ...]:
    return tuple(range(start, stop))


# --- COCO-WholeBody 133 (MMPose, RTMW, DWPose, HRNet+DarkPose), 0-based -------------------------
_COCO_BODY = (
    "nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder", "right_shoulder",
    "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hip", "right_hip",
    "left_knee", "right_knee", "left_ankle", "right_ankle",
)  # fmt: skip
_COCO_FEET = ("left_big_toe", "left_small_toe", "left_heel", "right_big_toe", "right_small_toe", "right_heel")
# 68 iBUG face points: 0-16 jaw (subject's right to left), 17-26 brows, 27-35 nose, 36-47 eyes,
# 48-59 outer lips, 60-67 inner lips.
_FACE68 = tuple(f"face_{i}" for i in range(68))
_HAND21 = (
    "wrist", "thumb1", "thumb2", "thumb3", "thumb4", "index1", "index2", "index3", "index4",
    "middle1", "middle2", "middle3", "middle4", "ring1", "ring2", "ring3", "ring4",
    "pinky1", "pinky2", "pinky3", "pinky4",
)  # fmt: skip

COCO_WHOLEBODY_133 = Layout(
    name="coco_wholebody_133",
    names=_COCO_BODY + _COCO_FEET + _FACE68
    + tuple(f"left_hand_{n}" for n in _HAND21) + tuple(f"right_hand_{n}" for n in _HAND21),
    groups={
        "body": _range(0, 17),
        "feet": _range(17, 23),
        "face": _range(23, 91),
        "left_hand": _range(91, 112),
        "right_hand": _range(112, 133),
    },
)

# The paper's selection, as 1-based COCO-WholeBody index ranges (inclusive).
SL79_COCO_RANGES_1BASED: tuple[tuple[int, int], ...] = ((1, 11), (24, 40), (54, 54), (84, 91), (92, 133))
SL79_FROM_COCO133: np.ndarray = np.concatenate(
    [np.arange(a - 1, b) for a, b in SL79_COCO_RANGES_1BASED]
).astype(np.int64)

SL79 = Layout(
    name="sl79",
    names=tuple(COCO_WHOLEBODY_133.names[i] for i in SL79_FROM_COCO133),
    groups={
        "body": _range(0, 11),        # nose, eyes, ears, shoulders, elbows, wrists
        "face": _range(11, 29),       # 17 jaw contour + nose tip
        "mouth": _range(29, 37),      # 8 inner-mouth points
        "left_hand": _range(37, 58),
        "right_hand": _range(58, 79),
        # The paper's two streams.
        "manual": _range(0, 11) + _range(37, 79),     # 53 points: body + hands
        "non_manual": _range(11, 37),                 # 26 points: face + mouth
    },
)
assert SL79.num_keypoints == 79 and len(SL79.groups["manual"]) == 53 and len(SL79.groups["non_manual"]) == 26

# --- MediaPipe Holistic as stored by pose-format ---------------------------------------------------
# Component order in pose-format files: POSE_LANDMARKS (33), FACE_LANDMARKS (468, or 478 refined),
# LEFT_HAND_LANDMARKS (21), RIGHT_HAND_LANDMARKS (21), optionally POSE_WORLD_LANDMARKS (33).
MP_POSE_NAMES = (
    "nose", "left_eye_inner", "left_eye", "left_eye_outer", "right_eye_inner", "right_eye",
    "right_eye_outer", "left_ear", "right_ear", "mouth_left", "mouth_right", "left_shoulder",
    "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_pinky",
    "right_pinky", "left_index", "right_index", "left_thumb", "right_thumb", "left_hip", "right_hip",
    "left_knee", "right_knee", "left_ankle", "right_ankle", "left_heel", "right_heel",
    "left_foot_index", "right_foot_index",
)  # fmt: skip


def mediapipe_holistic(refined_face: bool = False, world: bool = False) -> Layout:
    """MediaPipe Holistic layout: 543 points, 576 with world landmarks, 586 with refined face too."""
    n_face = 478 if refined_face else 468
    names = (
        tuple(f"pose_{n}" for n in MP_POSE_NAMES)
        + tuple(f"face_{i}" for i in range(n_face))
        + tuple(f"left_hand_{n}" for n in _HAND21)
        + tuple(f"right_hand_{n}" for n in _HAND21)
    )
    o = 33
    groups = {
        "pose": _range(0, 33),
        "face": _range(o, o + n_face),
        "left_hand": _range(o + n_face, o + n_face + 21),
        "right_hand": _range(o + n_face + 21, o + n_face + 42),
    }
    if world:
        start = len(names)
        names = names + tuple(f"world_{n}" for n in MP_POSE_NAMES)
        groups["pose_world"] = _range(start, start + 33)
    name = "mediapipe_holistic" + ("_refined" if refined_face else "") + ("_world" if world else "")
    return Layout(name=name, names=names, groups=groups)


MEDIAPIPE_HOLISTIC_543 = mediapipe_holistic()
MEDIAPIPE_HOLISTIC_576 = mediapipe_holistic(world=True)
MEDIAPIPE_HOLISTIC_586 = mediapipe_holistic(refined_face=True, world=True)

# --- OpenPose BODY_25 + 70 face + 2 x 21 hands = 137 -----------------------------------------------
_OPENPOSE_BODY25 = (
    "nose", "neck", "right_shoulder", "right_elbow", "right_wrist", "left_shoulder", "left_elbow",
    "left_wrist", "mid_hip", "right_hip", "right_knee", "right_ankle", "left_hip", "left_knee",
    "left_ankle", "right_eye", "left_eye", "right_ear", "left_ear", "left_big_toe", "left_small_toe",
    "left_heel", "right_big_toe", "right_small_toe", "right_heel",
)  # fmt: skip
OPENPOSE_137 = Layout(
    name="openpose_137",
    names=_OPENPOSE_BODY25 + tuple(f"face_{i}" for i in range(70))
    + tuple(f"left_hand_{n}" for n in _HAND21) + tuple(f"right_hand_{n}" for n in _HAND21),
    groups={
        "body": _range(0, 25),
        "face": _range(25, 95),  # iBUG 68 + 2 pupils
        "left_hand": _range(95, 116),
        "right_hand": _range(116, 137),
    },
)

LAYOUTS: dict[str, Layout] = {
    lay.name: lay
    for lay in (
        COCO_WHOLEBODY_133,
        SL79,
        MEDIAPIPE_HOLISTIC_543,
        MEDIAPIPE_HOLISTIC_576,
        mediapipe_holistic(refined_face=True),
        MEDIAPIPE_HOLISTIC_586,
        OPENPOSE_137,
    )
}


def get_layout(name: str) -> Layout:
    try:
        return LAYOUTS[name]
    except KeyError:
        raise KeyError(f"unknown keypoint layout {name!r}; known: {sorted(LAYOUTS)}") from None
