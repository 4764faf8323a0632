"""The 79-node skeleton graph of the SL79 layout (body, hands, face contour, mouth).

Edges are undirected pairs of SL79 indices. Cross-part edges (wrist to hand root, ears to jaw ends,
nose to nose tip, nose tip to mouth) keep the graph connected, so a spatial GCN can pass messages
between manual and non-manual parts within one frame.
"""

from __future__ import annotations

import numpy as np

from mslu.pose.layouts import SL79

_B = {n: i for i, n in enumerate(SL79.names[:11])}
_FACE0 = SL79.groups["face"][0]  # jaw contour: 17 points, then the nose tip
_NOSE_TIP = SL79.groups["face"][17]
_MOUTH = SL79.groups["mouth"]
_LH0 = SL79.groups["left_hand"][0]
_RH0 = SL79.groups["right_hand"][0]

BODY_EDGES = [
    ("nose", "left_eye"), ("nose", "right_eye"), ("left_eye", "left_ear"), ("right_eye", "right_ear"),
    ("nose", "left_shoulder"), ("nose", "right_shoulder"), ("left_shoulder", "right_shoulder"),
    ("left_shoulder", "left_elbow"), ("left_elbow", "left_wrist"),
    ("right_shoulder", "right_elbow"), ("right_elbow", "right_wrist"),
]  # fmt: skip
# 21-point hand: wrist -> 4 joints per finger (thumb, index, middle, ring, pinky).
HAND_EDGES = [(0, f * 4 + 1) for f in range(5)]
HAND_EDGES += [(f * 4 + j, f * 4 + j + 1) for f in range(5) for j in (1, 2, 3)]


def _edges() -> list[tuple[int, int]]:
    e = [(_B[a], _B[b]) for a, b in BODY_EDGES]
    e += [(_FACE0 + i, _FACE0 + i + 1) for i in range(16)]  # jaw contour chain
    e += [(_NOSE_TIP, _B["nose"])]
    e += [(_MOUTH[i], _MOUTH[(i + 1) % 8]) for i in range(8)]  # inner-mouth ring
    e += [(_NOSE_TIP, _MOUTH[2])]  # nose tip to upper inner lip (iBUG 63)
    e += [(_FACE0, _B["right_ear"]), (_FACE0 + 16, _B["left_ear"])]  # jaw ends to ears
    for root in (_LH0, _RH0):
        e += [(root + a, root + b) for a, b in HAND_EDGES]
    e += [(_B["left_wrist"], _LH0), (_B["right_wrist"], _RH0)]
    return e


SL79_EDGES: list[tuple[int, int]] = _edges()
SL79_CENTER = _B["nose"]  # centre node for ST-GCN's spatial (distance-based) partitioning


def adjacency(num_nodes: int = SL79.num_keypoints, edges=None, self_loops: bool = True) -> np.ndarray:
    """Symmetric 0/1 adjacency matrix."""
    a = np.zeros((num_nodes, num_nodes), dtype=np.float32)
    for i, j in SL79_EDGES if edges is None else edges:
        a[i, j] = a[j, i] = 1.0
    if self_loops:
        a[np.arange(num_nodes), np.arange(num_nodes)] = 1.0
    return a


def hop_distance(num_nodes: int = SL79.num_keypoints, edges=None, max_hop: int = 1000) -> np.ndarray:
    """Shortest-path hop distance between all nodes (inf where unreachable)."""
    a = adjacency(num_nodes, edges, self_loops=False) > 0
    dist = np.full((num_nodes, num_nodes), np.inf)
    np.fill_diagonal(dist, 0)
    reach = np.eye(num_nodes, dtype=bool)
    frontier = reach.copy()
    for d in range(1, max_hop + 1):
        frontier = (frontier.astype(np.int32) @ a.astype(np.int32) > 0) & ~reach
        if not frontier.any():
            break
        dist[frontier] = d
        reach |= frontier
    return dist
