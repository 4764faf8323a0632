"""Index tables from every supported keypoint layout to the paper's 79-point layout (``SL79``).

Each table is an int array of 79 source indices (0-based, into the source layout), in SL79 order:
11 upper body, 17 jaw contour + nose tip, 8 inner mouth, 21 left hand, 21 right hand. Left/right are
the *subject's* left/right everywhere (COCO-WholeBody, iBUG-68, MediaPipe and OpenPose agree on this).

================  ===================================  =============================  ======================
SL79 part         COCO-WholeBody-133 (0-based)         MediaPipe Holistic             OpenPose-137
================  ===================================  =============================  ======================
body (11)         0-10: nose, l/r eye, l/r ear,        pose 0, 2, 5, 7, 8, 11, 12,    BODY_25 0, 16, 15, 18,
                  l/r shoulder, l/r elbow, l/r wrist   13, 14, 15, 16                 17, 5, 2, 6, 3, 7, 4
jaw (17)          23-39 (iBUG 0-16)                    face 234, 93, 132, 58, 172,    face 0-16
                                                       150, 149, 148, 152, 377, 378,
                                                       379, 397, 288, 361, 323, 454
nose tip (1)      53 (iBUG 30)                         face 1                         face 30
inner mouth (8)   83-90 (iBUG 60-67)                   face 78, 81, 13, 311, 308,     face 60-67
                                                       402, 14, 178
left hand (21)    91-111                               left hand 0-20                 left hand 0-20
right hand (21)   112-132                              right hand 0-20                right hand 0-20
================  ===================================  =============================  ======================

MediaPipe face-mesh choice (iBUG-68 has no exact counterpart in the 468-point mesh): the jaw runs along
the mesh's face oval from its most lateral point on the subject's right (234, at ear height) over the
chin (152) to the most lateral point on the left (454); the 7 points between each end and the chin are
the oval vertices closest to equal arc-length spacing, measured on the real MediaPipe files of
``../shared/poses`` (the same choice on all of them, and left/right mirror images of each other).
Inner mouth: corners 78 (right) and 308 (left), centres 13 (upper) and 14 (lower), and the inner-lip
vertices half-way along each arc (81/311 upper, 178/402 lower), ordered like iBUG 60-67 (right corner,
upper lip right to left, left corner, lower lip left to right). Nose tip: mesh vertex 1.
MediaPipe pose landmarks give the 11 COCO body points directly; hands come from the hand landmarkers
(21 points in the same order as COCO-WholeBody's hands). The refined face (478 points) adds iris points
after index 467, so the same table serves the 543/553/576/586-point layouts.
OpenPose-137 = BODY_25 (which has nose, eyes, ears, shoulders, elbows, wrists) + 70 face (iBUG-68 and two
pupils) + 2 x 21 hands.

Layouts that lack part of the 79 points map what they have; a table entry ``-1`` marks an SL79 point the
layout does not have, and it comes out missing (confidence 0) in every frame:

=========================  ==================================================================================
layout                     what it gives of SL79
=========================  ==================================================================================
mediapipe_pose_33          body 11; nose tip = pose nose; inner-mouth corners = pose mouth_right / mouth_left
                           (iBUG 60 / 64); per hand the wrist, thumb MCP (pose ``thumb``), index and pinky
                           MCP (pose ``index`` / ``pinky``: BlazePose's hand points are these knuckles);
                           no jaw
mediapipe_pose_hands_75    as Pose-33 for body, nose tip and mouth corners; both hands in full
holistic_reduced_178       shoulders, elbows, wrists (no nose, eyes, ears: reduce_holistic drops them); jaw
                           and inner mouth from the face contours (the 25 mesh vertices of the table above
                           are contour vertices); no nose tip (mesh vertex 1 is not one); both hands
hand_left_21 / _right_21   that hand only; hands_42 both hands only
openpose_body25            body 11, nose tip = nose; openpose_body25_hands_67 adds both hands
phoenix_skels_50           nose, shoulders, elbows, wrists (no eyes, ears), nose tip = nose; both hands
=========================  ==================================================================================
"""

from __future__ import annotations

import numpy as np

from mslu.pose.layouts import (
    COCO_WHOLEBODY_133,
    FACEMESH_CONTOURS,
    HAND_LEFT_21,
    HAND_RIGHT_21,
    HANDS_42,
    HOLISTIC_REDUCED_178,
    MEDIAPIPE_POSE_33,
    MEDIAPIPE_POSE_HANDS_75,
    OPENPOSE_137,
    OPENPOSE_BODY25,
    OPENPOSE_BODY25_HANDS_67,
    PHOENIX_SKELS_50,
    SL79,
    SL79_FROM_COCO133,
    Layout,
    get_layout,
    mediapipe_holistic,
)
from mslu.pose.sequence import PoseSequence

# MediaPipe face-mesh vertices standing in for iBUG-68 points (see the module docstring).
MP_FACE_JAW17: tuple[int, ...] = (
    234, 93, 132, 58, 172, 150, 149, 148, 152, 377, 378, 379, 397, 288, 361, 323, 454,
)  # fmt: skip
MP_FACE_NOSE_TIP = 1
MP_FACE_INNER_MOUTH8: tuple[int, ...] = (78, 81, 13, 311, 308, 402, 14, 178)
# MediaPipe pose landmarks for COCO's 11 upper-body points (SL79 body order).
MP_POSE_BODY11: tuple[int, ...] = (0, 2, 5, 7, 8, 11, 12, 13, 14, 15, 16)
# OpenPose BODY_25 indices for COCO's 11 upper-body points.
OPENPOSE_BODY11: tuple[int, ...] = (0, 16, 15, 18, 17, 5, 2, 6, 3, 7, 4)


def _mediapipe_table(layout: Layout) -> np.ndarray:
    pose0 = layout.groups["pose"][0]
    face0 = layout.groups["face"][0]
    face = list(MP_FACE_JAW17) + [MP_FACE_NOSE_TIP] + list(MP_FACE_INNER_MOUTH8)
    return np.array(
        [pose0 + i for i in MP_POSE_BODY11]
        + [face0 + i for i in face]
        + list(layout.groups["left_hand"])
        + list(layout.groups["right_hand"]),
        dtype=np.int64,
    )


def _openpose_table() -> np.ndarray:
    face0 = OPENPOSE_137.groups["face"][0]
    face = list(range(17)) + [30] + list(range(60, 68))
    return np.array(
        list(OPENPOSE_BODY11)
        + [face0 + i for i in face]
        + list(OPENPOSE_137.groups["left_hand"])
        + list(OPENPOSE_137.groups["right_hand"]),
        dtype=np.int64,
    )


SL79_FROM_MEDIAPIPE: np.ndarray = _mediapipe_table(mediapipe_holistic())
SL79_FROM_OPENPOSE137: np.ndarray = _openpose_table()

# --- partial layouts: -1 = the layout has no such point --------------------------------------------------
_NONE = -1
_HAND = tuple(range(21))
# SL79 hand positions of the four hand points of MediaPipe Pose: wrist, thumb MCP, index MCP, pinky MCP.
_POSE_HAND_SLOTS = (0, 2, 5, 17)
MP_POSE_LEFT_HAND4: tuple[int, ...] = (15, 21, 19, 17)  # left wrist, thumb, index, pinky
MP_POSE_RIGHT_HAND4: tuple[int, ...] = (16, 22, 20, 18)
MP_POSE_MOUTH_RIGHT, MP_POSE_MOUTH_LEFT = 10, 9


def _table(body=None, jaw=None, nose_tip=_NONE, mouth=None, left=None, right=None) -> np.ndarray:
    """An SL79 table from its parts (None: the whole part is missing)."""
    parts = [(body, 11), (jaw, 17), ((nose_tip,), 1), (mouth, 8), (left, 21), (right, 21)]
    out: list[int] = []
    for values, n in parts:
        values = (_NONE,) * n if values is None else tuple(values)
        assert len(values) == n
        out += values
    return np.array(out, dtype=np.int64)


def _pose_hand(slots_src: tuple[int, ...]) -> tuple[int, ...]:
    hand = [_NONE] * 21
    for slot, src in zip(_POSE_HAND_SLOTS, slots_src, strict=True):
        hand[slot] = src
    return tuple(hand)


def _offset(values, start: int) -> tuple[int, ...]:
    return tuple(v if v < 0 else v + start for v in values)


_POSE_MOUTH = (MP_POSE_MOUTH_RIGHT, _NONE, _NONE, _NONE, MP_POSE_MOUTH_LEFT, _NONE, _NONE, _NONE)
SL79_FROM_MP_POSE33 = _table(MP_POSE_BODY11, nose_tip=0, mouth=_POSE_MOUTH,
                             left=_pose_hand(MP_POSE_LEFT_HAND4), right=_pose_hand(MP_POSE_RIGHT_HAND4))
SL79_FROM_MP_POSE_HANDS75 = _table(MP_POSE_BODY11, nose_tip=0, mouth=_POSE_MOUTH,
                                   left=_offset(_HAND, 33), right=_offset(_HAND, 54))
_R = {n: i for i, n in enumerate(HOLISTIC_REDUCED_178.names)}
_MESH = {m: _R[f"face_{m}"] for m in FACEMESH_CONTOURS}
SL79_FROM_HOLISTIC_REDUCED178 = _table(
    (_NONE,) * 5 + tuple(_R[f"pose_{n}"] for n in ("left_shoulder", "right_shoulder", "left_elbow",
                                                  "right_elbow", "left_wrist", "right_wrist")),
    jaw=tuple(_MESH[m] for m in MP_FACE_JAW17),
    mouth=tuple(_MESH[m] for m in MP_FACE_INNER_MOUTH8),
    left=_offset(_HAND, HOLISTIC_REDUCED_178.groups["left_hand"][0]),
    right=_offset(_HAND, HOLISTIC_REDUCED_178.groups["right_hand"][0]),
)
_S = {n: i for i, n in enumerate(PHOENIX_SKELS_50.names)}
SL79_FROM_PHOENIX_SKELS50 = _table(
    tuple(_S.get(n, _NONE) for n in SL79.names[:11]), nose_tip=_S["nose"],
    left=_offset(_HAND, PHOENIX_SKELS_50.groups["left_hand"][0]),
    right=_offset(_HAND, PHOENIX_SKELS_50.groups["right_hand"][0]),
)

#: layout name -> SL79 index table (-1: the layout has no such point)
SL79_TABLES: dict[str, np.ndarray] = {
    COCO_WHOLEBODY_133.name: SL79_FROM_COCO133,
    OPENPOSE_137.name: SL79_FROM_OPENPOSE137,
    SL79.name: np.arange(SL79.num_keypoints, dtype=np.int64),
    MEDIAPIPE_POSE_33.name: SL79_FROM_MP_POSE33,
    MEDIAPIPE_POSE_HANDS_75.name: SL79_FROM_MP_POSE_HANDS75,
    HOLISTIC_REDUCED_178.name: SL79_FROM_HOLISTIC_REDUCED178,
    HAND_LEFT_21.name: _table(left=_HAND),
    HAND_RIGHT_21.name: _table(right=_HAND),
    HANDS_42.name: _table(left=_HAND, right=_offset(_HAND, 21)),
    OPENPOSE_BODY25.name: _table(OPENPOSE_BODY11, nose_tip=0),
    OPENPOSE_BODY25_HANDS_67.name: _table(OPENPOSE_BODY11, nose_tip=0, left=_offset(_HAND, 25),
                                          right=_offset(_HAND, 46)),
    PHOENIX_SKELS_50.name: SL79_FROM_PHOENIX_SKELS50,
}
for _refined in (False, True):
    for _world in (False, True):
        _lay = mediapipe_holistic(refined_face=_refined, world=_world)
        SL79_TABLES[_lay.name] = _mediapipe_table(_lay)

for _name, _table_ in SL79_TABLES.items():
    assert _table_.shape == (79,), _name
    assert _table_.max() < get_layout(_name).num_keypoints, _name


def sl79_table(layout: Layout | str) -> np.ndarray:
    """The 79 source indices of ``layout`` (a Layout or its name; -1 where it has no such point); KeyError
    for unmapped layouts."""
    name = layout if isinstance(layout, str) else layout.name
    if name not in SL79_TABLES:
        raise KeyError(f"no SL79 mapping for keypoint layout {name!r}; mapped: {sorted(SL79_TABLES)}")
    return SL79_TABLES[name]


def to_sl79(seq: PoseSequence) -> PoseSequence:
    """Select the 79 SL79 keypoints of ``seq``. Missing joints (confidence <= 0 or any NaN) and points the
    layout does not have come out with confidence 0 and x, y NaN; fps, frame size and meta are kept."""
    if seq.layout.name == SL79.name:
        return seq
    try:
        table = sl79_table(seq.layout)
    except KeyError as e:
        src = seq.meta.get("path", "<pose sequence>")
        raise ValueError(f"{src}: {e.args[0]}") from None
    absent = table < 0
    data = seq.data[:, np.where(absent, 0, table)].copy()
    missing = (data[..., 2] <= 0) | np.isnan(data).any(-1) | absent
    data[missing] = (np.nan, np.nan, 0.0)
    meta = dict(seq.meta, source_layout=seq.layout.name)
    return PoseSequence(data, get_layout(SL79.name), seq.fps, seq.width, seq.height, meta)
