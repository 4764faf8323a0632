"""Sign prototypes: the timeline channels, hand shapes, locations, movements and non-manual patterns.

Body space: origin between the shoulders, one unit = shoulder width, x to the image right, y down.
The signer faces the camera, so the subject's right side (the dominant hand of a right-handed signer)
has negative x.

A *timeline* is a (T, C) array of channels per frame:

* ``[0:46]`` dominant hand: wrist xy (2), in-plane hand angle (1, 0 = fingers up), palm width factor
  (1, foreshortening), 21-point hand shape in hand units (42);
* ``[46:92]`` non-dominant hand, the same channels in *mirrored* body space (x negated), so that a
  symmetric two-handed sign simply copies the dominant block;
* ``[92:97]`` non-manual: mouth opening, mouth width, head roll, head nod, cheek puff.

A sign's prototype is its timeline sampled at 64 points of normalised time. Left-handed signers are
rendered as the mirror image of a right-handed rendering (x negated, left/right keypoints swapped).
Sign-level non-manual motion moves only the 26 non-manual points (face contour, nose tip, mouth); a
signer's constant head pose moves the body head points too.
"""

from __future__ import annotations

import numpy as np

PROTO_LEN = 64
HAND_CH = 46
DOM = slice(0, HAND_CH)
NONDOM = slice(HAND_CH, 2 * HAND_CH)
NM = slice(2 * HAND_CH, 2 * HAND_CH + 5)
MOUTH_OPEN, MOUTH_WIDTH, HEAD_ROLL, HEAD_NOD, CHEEK_PUFF = range(2 * HAND_CH, 2 * HAND_CH + 5)
NUM_CHANNELS = 2 * HAND_CH + 5
MANUAL_CHANNELS = np.arange(0, 2 * HAND_CH)
NON_MANUAL_CHANNELS = np.arange(2 * HAND_CH, NUM_CHANNELS)

_T = np.linspace(0.0, 1.0, PROTO_LEN)
_EASE = 0.5 - 0.5 * np.cos(np.pi * _T)

# --- hand shapes -----------------------------------------------------------------------------------
# Right hand, palm to the camera, fingers up; the thumb is on the +x side. Units: hand length ~ 1.
_MCP = np.array([[0.13, -0.45], [0.03, -0.47], [-0.06, -0.45], [-0.14, -0.40]])
_SEG = np.array([[0.24, 0.14, 0.10], [0.27, 0.16, 0.11], [0.25, 0.15, 0.10], [0.19, 0.11, 0.09]])
_SPREAD_DIR = np.array([0.22, 0.05, -0.12, -0.28])
_THUMB_CMC = np.array([0.12, -0.12])
_THUMB_SEG = np.array([0.20, 0.16, 0.12])

# name: (thumb, index, middle, ring, pinky) curl in [0, 1], finger spread in [0, 1]
HAND_SHAPES: dict[str, tuple[tuple[float, ...], float]] = {
    "B": ((0.6, 0, 0, 0, 0), 0.0),
    "5": ((0, 0, 0, 0, 0), 1.0),
    "A": ((0.1, 1, 1, 1, 1), 0.0),
    "S": ((0.9, 1, 1, 1, 1), 0.0),
    "1": ((0.9, 0, 1, 1, 1), 0.2),
    "V": ((0.9, 0, 0, 1, 1), 0.9),
    "W": ((0.9, 0, 0, 0, 1), 0.8),
    "Y": ((0, 1, 1, 1, 0), 1.0),
    "L": ((0, 0, 1, 1, 1), 0.5),
    "claw": ((0.5, 0.55, 0.55, 0.55, 0.55), 0.9),
    "O": ((0.6, 0.65, 0.65, 0.65, 0.65), 0.1),
    "I": ((0.9, 1, 1, 1, 0), 0.3),
    "horns": ((0.9, 0, 1, 1, 0), 0.8),
    "bent": ((0.5, 0.35, 0.35, 0.35, 0.35), 0.0),
}


def hand_points(curl: np.ndarray, spread: float) -> np.ndarray:
    """21 hand points (wrist, thumb 1-4, index 1-4, ... pinky 1-4) of a right hand, shape (21, 2).

    A finger's flexion is drawn as the frontal projection of a planar bend: a segment at cumulative
    flexion angle ``a`` appears with length ``L cos(a)`` along the finger (negative: folded back).
    """
    curl = np.asarray(curl, dtype=np.float64)
    pts = np.zeros((21, 2))
    # thumb: opposition swings it across the palm
    ang = 0.95 - 1.5 * curl[0]
    d = np.array([np.sin(ang), -np.cos(ang)])
    p = _THUMB_CMC.copy()
    pts[1] = p
    for j in range(3):
        p = p + d * _THUMB_SEG[j] * (1.0 - 0.35 * curl[0])
        pts[2 + j] = p
    for f in range(4):
        ang = spread * _SPREAD_DIR[f]
        d = np.array([np.sin(ang), -np.cos(ang)])
        c = curl[f + 1]
        cum = np.cumsum(c * np.array([1.5, 1.7, 1.1]))
        p = _MCP[f].copy()
        pts[5 + 4 * f] = p
        for j in range(3):
            p = p + d * _SEG[f, j] * np.cos(cum[j])
            pts[6 + 4 * f + j] = p
    return pts


SHAPE_NAMES = tuple(HAND_SHAPES)
SHAPES = np.stack([hand_points(np.array(c), s) for c, s in HAND_SHAPES.values()])  # (S, 21, 2)
RELAXED = hand_points(np.array([0.4, 0.3, 0.35, 0.4, 0.45]), 0.3)

# --- locations (dominant-hand wrist positions, body space of a right-handed signer) ------------------
LOCATIONS = np.array([
    [-0.05, -0.30],  # forehead (wrist below the fingertips)
    [-0.15, -0.20],  # eye / temple
    [0.00, -0.05],   # mouth / chin
    [-0.22, -0.10],  # cheek
    [-0.30, -0.18],  # ear
    [-0.05, 0.15],   # neck
    [0.05, 0.40],    # chest
    [-0.28, 0.40],   # dominant chest
    [0.30, 0.25],    # opposite shoulder
    [-0.25, 0.55],   # neutral space
    [-0.30, 0.25],   # neutral, high
    [-0.20, 0.80],   # neutral, low
    [-0.75, 0.45],   # side
    [0.00, 0.80],    # stomach
])  # fmt: skip
REST = np.zeros(NUM_CHANNELS)
REST[0:2] = (-0.18, 0.98)
REST[2], REST[3] = np.pi / 2, 0.55
REST[4:46] = RELAXED.ravel()
REST[NONDOM] = REST[DOM]
REST[MOUTH_WIDTH] = 1.0
REST = REST.astype(np.float32)

MOVEMENTS = ("line", "arc", "circle", "repeat", "hold", "zigzag")
MOUTH_PATTERNS = ("closed", "open_close", "double", "wide", "round", "stretch", "puff")
HEAD_PATTERNS = ("none", "tilt_left", "tilt_right", "nod", "shake")


def _hand_block(rng: np.random.Generator, start: np.ndarray) -> np.ndarray:
    """(64, 46) dominant-hand channels of one prototype movement starting near ``start``."""
    out = np.empty((PROTO_LEN, HAND_CH))
    p0 = start + rng.normal(0, 0.05, 2)
    theta = rng.uniform(0, 2 * np.pi)
    d = np.array([np.cos(theta), np.sin(theta)])
    perp = np.array([-d[1], d[0]])
    amp = rng.uniform(0.15, 0.45)
    mv = MOVEMENTS[int(rng.integers(len(MOVEMENTS)))]
    e = _EASE[:, None]
    if mv == "line":
        xy = p0 + d * amp * e
    elif mv == "arc":
        xy = p0 + d * amp * e + perp * rng.uniform(0.08, 0.2) * np.sin(np.pi * _T)[:, None]
    elif mv == "circle":
        r, turn = amp * 0.45, rng.choice([-1.0, 1.0]) * 2 * np.pi * _EASE
        xy = p0 + r * (np.stack([np.cos(theta + turn), np.sin(theta + turn)], 1) - d)
    elif mv == "repeat":
        k = int(rng.integers(2, 4))
        xy = p0 + d * amp * 0.5 * 0.5 * (1 - np.cos(2 * np.pi * k * _T))[:, None]
    elif mv == "hold":
        xy = p0 + perp * 0.04 * np.sin(2 * np.pi * 3 * _T)[:, None]
    else:  # zigzag
        xy = p0 + d * amp * e + perp * 0.08 * np.sin(4 * np.pi * _T)[:, None]
    out[:, 0:2] = xy
    base = rng.normal(0, 0.5) + (np.pi / 2 if rng.random() < 0.3 else 0.0)
    twist = rng.choice([0.0, 0.0, 0.9, -0.9])
    out[:, 2] = base + twist * _EASE
    w0 = rng.uniform(0.35, 1.0)
    out[:, 3] = w0 + (rng.uniform(0.35, 1.0) - w0) * _EASE * (rng.random() < 0.3)
    a = int(rng.integers(len(SHAPES)))
    b = int(rng.integers(len(SHAPES))) if rng.random() < 0.35 else a
    blend = 1.0 / (1.0 + np.exp(-(_T - 0.5) * 14.0))
    out[:, 4:] = ((1 - blend)[:, None, None] * SHAPES[a] + blend[:, None, None] * SHAPES[b]).reshape(
        PROTO_LEN, 42
    )
    return out


def non_manual_block(mouth: str, head: str, amp: float = 1.0) -> np.ndarray:
    """(64, 5) non-manual channels of a mouth pattern and a head pattern."""
    out = np.zeros((PROTO_LEN, 5))
    plateau = np.clip(3.0 * np.sin(np.pi * _T), 0.0, 1.0)
    out[:, 1] = 1.0
    if mouth == "open_close":
        out[:, 0] = 0.7 * np.sin(np.pi * _T)
    elif mouth == "double":
        out[:, 0] = 0.6 * np.abs(np.sin(2 * np.pi * _T))
    elif mouth == "wide":
        out[:, 0] = 0.9 * plateau
    elif mouth == "round":
        out[:, 0], out[:, 1] = 0.45 * plateau, 1.0 - 0.45 * plateau
    elif mouth == "stretch":
        out[:, 0], out[:, 1] = 0.08 * plateau, 1.0 + 0.4 * plateau
    elif mouth == "puff":
        out[:, 1], out[:, 4] = 1.0 - 0.15 * plateau, plateau
    if head == "tilt_left":
        out[:, 2] = 0.22 * plateau
    elif head == "tilt_right":
        out[:, 2] = -0.22 * plateau
    elif head == "nod":
        out[:, 3] = np.sin(2 * np.pi * _T)
    elif head == "shake":
        out[:, 2] = 0.15 * np.sin(4 * np.pi * _T)
    out[:, [0, 2, 3, 4]] *= amp
    out[:, 1] = 1.0 + (out[:, 1] - 1.0) * amp
    return out


def make_prototype(rng: np.random.Generator) -> tuple[np.ndarray, dict]:
    """A random sign: (64, C) prototype channels and a description."""
    proto = np.empty((PROTO_LEN, NUM_CHANNELS))
    kind = rng.choice(["one", "sym", "asym"], p=[0.5, 0.3, 0.2])
    if kind == "asym":
        base = np.array([rng.uniform(-0.15, 0.05), rng.uniform(0.35, 0.6)])  # mirrored space
        nd = np.empty((PROTO_LEN, HAND_CH))
        nd[:, 0:2] = base
        nd[:, 2] = np.pi / 2 + rng.normal(0, 0.3)
        nd[:, 3] = rng.uniform(0.5, 1.0)
        nd[:, 4:] = SHAPES[rng.choice([0, 1, 3, 10])].ravel()
        proto[:, DOM] = _hand_block(rng, np.array([-base[0] - 0.12, base[1] - 0.15]))
        proto[:, NONDOM] = nd
    else:
        proto[:, DOM] = _hand_block(rng, LOCATIONS[int(rng.integers(len(LOCATIONS)))])
        proto[:, NONDOM] = proto[:, DOM] if kind == "sym" else REST[NONDOM]
    mouth = MOUTH_PATTERNS[int(rng.integers(len(MOUTH_PATTERNS)))]
    head = HEAD_PATTERNS[int(rng.integers(len(HEAD_PATTERNS)))]
    proto[:, NM] = non_manual_block(mouth, head)
    return proto, {"hands": str(kind), "mouth": mouth, "head": head}
