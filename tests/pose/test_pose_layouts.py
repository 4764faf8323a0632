"""Layouts and the SL79 skeleton graph."""

from __future__ import annotations

import numpy as np

from mslu.pose.layouts import (
    COCO_WHOLEBODY_133,
    MEDIAPIPE_HOLISTIC_543,
    MEDIAPIPE_HOLISTIC_576,
    MEDIAPIPE_HOLISTIC_586,
    OPENPOSE_137,
    SL79,
    SL79_FROM_COCO133,
    get_layout,
)
from mslu.pose.skeleton import SL79_EDGES, adjacency, hop_distance


def test_layout_sizes():
    assert COCO_WHOLEBODY_133.num_keypoints == 133
    assert MEDIAPIPE_HOLISTIC_543.num_keypoints == 543
    assert MEDIAPIPE_HOLISTIC_576.num_keypoints == 576
    assert MEDIAPIPE_HOLISTIC_586.num_keypoints == 586
    assert OPENPOSE_137.num_keypoints == 137
    assert SL79.num_keypoints == 79
    assert get_layout("sl79") is SL79


def test_sl79_is_the_papers_coco_selection():
    # Sec. IV-A: 1-based COCO-WholeBody indices {1-11, 24-40, 54, 84-91, 92-133}
    one_based = list(range(1, 12)) + list(range(24, 41)) + [54] + list(range(84, 92)) + list(range(92, 134))
    assert SL79_FROM_COCO133.tolist() == [i - 1 for i in one_based]
    assert SL79.names[:11] == COCO_WHOLEBODY_133.names[:11]
    assert SL79.names[11] == "face_0" and SL79.names[27] == "face_16"  # jaw contour
    assert SL79.names[28] == "face_30"  # nose tip
    assert SL79.names[29:37] == tuple(f"face_{i}" for i in range(60, 68))  # inner mouth
    assert SL79.names[37] == "left_hand_wrist" and SL79.names[58] == "right_hand_wrist"


def test_sl79_groups():
    sizes = {g: len(v) for g, v in SL79.groups.items()}
    assert sizes == {"body": 11, "face": 18, "mouth": 8, "left_hand": 21, "right_hand": 21,
                     "manual": 53, "non_manual": 26}
    assert sorted(SL79.groups["manual"] + SL79.groups["non_manual"]) == list(range(79))
    assert np.array_equal(SL79.index("body+left_hand"), np.r_[0:11, 37:58])


def test_skeleton_graph():
    e = np.array(SL79_EDGES)
    assert e.min() >= 0 and e.max() < 79
    assert len({tuple(sorted(x)) for x in SL79_EDGES}) == len(SL79_EDGES)  # no duplicates
    assert all(i != j for i, j in SL79_EDGES)
    for part in ("left_hand", "right_hand"):
        idx = set(SL79.groups[part])
        assert sum(1 for i, j in SL79_EDGES if i in idx and j in idx) == 20  # a tree of 21 nodes
    a = adjacency()
    assert a.shape == (79, 79) and np.array_equal(a, a.T) and np.all(np.diag(a) == 1)
    assert np.isfinite(hop_distance()).all()  # connected
