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

# --- MediaPipe Pose alone, and Pose + the two hand landmarkers ----------------------------------------
MEDIAPIPE_POSE_33 = Layout(
    name="mediapipe_pose_33",
    names=tuple(f"pose_{n}" for n in MP_POSE_NAMES),
    groups={"pose": _range(0, 33)},
)
MEDIAPIPE_POSE_HANDS_75 = Layout(
    name="mediapipe_pose_hands_75",
    names=tuple(f"pose_{n}" for n in MP_POSE_NAMES)
    + tuple(f"left_hand_{n}" for n in _HAND21) + tuple(f"right_hand_{n}" for n in _HAND21),
    groups={"pose": _range(0, 33), "left_hand": _range(33, 54), "right_hand": _range(54, 75)},
)

# --- pose-format's reduced holistic (pose_format.utils.generic.reduce_holistic): 178 points ------------
# POSE_LANDMARKS without face, hand and leg points (8: shoulders, elbows, wrists, hips), the 128 face-mesh
# vertices of MediaPipe's FACEMESH_CONTOURS (in mesh-index order), then the two hands.
HOLISTIC_REDUCED_POSE: tuple[str, ...] = (
    "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
    "left_hip", "right_hip",
)  # fmt: skip
FACEMESH_CONTOURS: tuple[int, ...] = (
    0, 7, 10, 13, 14, 17, 21, 33, 37, 39, 40, 46, 52, 53, 54, 55, 58, 61, 63, 65, 66, 67, 70, 78, 80, 81, 82,
    84, 87, 88, 91, 93, 95, 103, 105, 107, 109, 127, 132, 133, 136, 144, 145, 146, 148, 149, 150, 152, 153,
    154, 155, 157, 158, 159, 160, 161, 162, 163, 172, 173, 176, 178, 181, 185, 191, 234, 246, 249, 251, 263,
    267, 269, 270, 276, 282, 283, 284, 285, 288, 291, 293, 295, 296, 297, 300, 308, 310, 311, 312, 314, 317,
    318, 321, 323, 324, 332, 334, 336, 338, 356, 361, 362, 365, 373, 374, 375, 377, 378, 379, 380, 381, 382,
    384, 385, 386, 387, 388, 389, 390, 397, 398, 400, 402, 405, 409, 415, 454, 466,
)  # fmt: skip
assert len(FACEMESH_CONTOURS) == 128
HOLISTIC_REDUCED_178 = Layout(
    name="holistic_reduced_178",
    names=tuple(f"pose_{n}" for n in HOLISTIC_REDUCED_POSE) + tuple(f"face_{i}" for i in FACEMESH_CONTOURS)
    + tuple(f"left_hand_{n}" for n in _HAND21) + tuple(f"right_hand_{n}" for n in _HAND21),
    groups={"pose": _range(0, 8), "face": _range(8, 136), "left_hand": _range(136, 157),
            "right_hand": _range(157, 178)},
)

# --- hands only (a hand landmarker or a hand-pose model run alone) -----------------------------------------
HAND_LEFT_21 = Layout("hand_left_21", tuple(f"left_hand_{n}" for n in _HAND21), {"left_hand": _range(0, 21)})
HAND_RIGHT_21 = Layout("hand_right_21", tuple(f"right_hand_{n}" for n in _HAND21),
                       {"right_hand": _range(0, 21)})
HANDS_42 = Layout(
    "hands_42",
    tuple(f"left_hand_{n}" for n in _HAND21) + tuple(f"right_hand_{n}" for n in _HAND21),
    {"left_hand": _range(0, 21), "right_hand": _range(21, 42)},
)

# --- OpenPose BODY_25 alone and BODY_25 + hands (no face) -------------------------------------------------
OPENPOSE_BODY25 = Layout("openpose_body25", _OPENPOSE_BODY25, {"body": _range(0, 25)})
OPENPOSE_BODY25_HANDS_67 = Layout(
    name="openpose_body25_hands_67",
    names=_OPENPOSE_BODY25 + tuple(f"left_hand_{n}" for n in _HAND21)
    + tuple(f"right_hand_{n}" for n in _HAND21),
    groups={"body": _range(0, 25), "left_hand": _range(25, 46), "right_hand": _range(46, 67)},
)

# --- The 50-joint skeletons of Progressive Transformers (Saunders et al.), PHOENIX-2014T ``.skels`` ---------
# 8 upper-body joints then two 21-point hands (each in the hand order above), lifted to 3D. The source does
# not document the order; established on the real files (docs/realdata.md): joint 1 is the origin (neck),
# joint 0 sits above it (nose); the hand of joints 8-28 starts at joint 7 and the hand of joints 29-49 at
# joint 4 (mean distance 0.03 against 0.4 to the other wrist); joints 2-4 lie on the image's right (x > 0),
# i.e. the subject's left for a signer facing an unmirrored camera, which makes joints 8-28 the right hand:
# it is the more active one in 12 of the 15 real clips, as expected of the mostly right-handed PHOENIX
# interpreters. The source's own skeleton drawing names joints 2-4 the left and 5-7 the right arm.
PHOENIX_SKELS_50 = Layout(
    name="phoenix_skels_50",
    names=("nose", "neck", "left_shoulder", "left_elbow", "left_wrist", "right_shoulder", "right_elbow",
           "right_wrist")
    + tuple(f"right_hand_{n}" for n in _HAND21) + tuple(f"left_hand_{n}" for n in _HAND21),
    groups={"body": _range(0, 8), "right_hand": _range(8, 29), "left_hand": _range(29, 50)},
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
        MEDIAPIPE_POSE_33,
        MEDIAPIPE_POSE_HANDS_75,
        HOLISTIC_REDUCED_178,
        HAND_LEFT_21,
        HAND_RIGHT_21,
        HANDS_42,
        OPENPOSE_BODY25,
        OPENPOSE_BODY25_HANDS_67,
        PHOENIX_SKELS_50,
    )
}


def get_layout(name: str) -> Layout:
    try:
        return LAYOUTS[name]
    except KeyError:
        raise KeyError(f"unknown keypoint layout {name!r}; known: {', '.join(sorted(LAYOUTS))}") from None
