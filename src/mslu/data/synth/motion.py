"""Sign prototypes, co-articulated timelines and their rendering into SL79 poses (vectorised numpy).

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

from dataclasses import dataclass

import numpy as np

from mslu.pose.layouts import SL79

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


def resample(proto: np.ndarray, n: int, gamma: float = 1.0) -> np.ndarray:
    """``proto`` (64, C) at ``n`` frames; ``gamma`` warps time (t -> t ** gamma)."""
    pos = np.linspace(0.0, 1.0, n) ** gamma * (PROTO_LEN - 1)
    i0 = np.minimum(pos.astype(np.int64), PROTO_LEN - 2)
    f = (pos - i0)[:, None].astype(proto.dtype)
    return proto[i0] * (1.0 - f) + proto[i0 + 1] * f


def transition(a: np.ndarray, b: np.ndarray, n: int) -> np.ndarray:
    """``n`` co-articulation frames strictly between channel vectors ``a`` and ``b`` (eased)."""
    if n <= 0:
        return np.empty((0, a.shape[0]), dtype=a.dtype)
    s = 0.5 - 0.5 * np.cos(np.pi * np.arange(1, n + 1) / (n + 1))
    return a + (b - a) * s[:, None].astype(a.dtype)


# --- rendering -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Signer:
    """A synthetic signer's body and recording conditions."""

    id: str
    left_handed: bool = False
    width: int = 256
    height: int = 256
    scale: float = 80.0  # shoulder width in pixels
    center: tuple[float, float] = (128.0, 110.0)  # mid-shoulder point in pixels
    arm: float = 1.0  # arm length factor
    head: float = 1.0  # head size factor
    hand: float = 1.0  # hand size factor
    head_roll: float = 0.0  # constant head tilt (rad)
    offset: tuple[float, float] = (0.0, 0.0)  # personal shift of the signing space
    amplitude: float = 1.0  # personal movement size
    speed: float = 1.0  # signing speed factor
    jitter: float = 0.006  # keypoint noise std (body units)
    drop: float = 0.01  # probability that a joint is missing in a frame
    low_conf: float = 0.02  # probability that a joint is unreliable (low confidence, extra noise)
    hand_dropout: float = 0.2  # probability per hand and sample of a run of missing hand frames
    conf: float = 0.9  # typical confidence


def random_signer(rng: np.random.Generator, signer_id: str) -> Signer:
    """A random signer: body size, position, speed, handedness, noise and dropout rates."""
    sizes = ((256, 256), (1280, 720), (960, 720), (512, 512))
    w, h = sizes[int(rng.integers(len(sizes)))]
    scale = h * rng.uniform(0.24, 0.33)
    return Signer(
        id=signer_id,
        left_handed=bool(rng.random() < 0.15),
        width=w,
        height=h,
        scale=float(scale),
        center=(float(w / 2 + rng.uniform(-0.08, 0.08) * w), float(h * rng.uniform(0.4, 0.5))),
        arm=float(rng.uniform(0.92, 1.08)),
        head=float(rng.uniform(0.9, 1.1)),
        hand=float(rng.uniform(0.9, 1.1)),
        head_roll=float(rng.normal(0, 0.05)),
        offset=(float(rng.normal(0, 0.04)), float(rng.normal(0, 0.04))),
        amplitude=float(rng.uniform(0.85, 1.15)),
        speed=float(rng.uniform(0.8, 1.25)),
        jitter=float(rng.uniform(0.003, 0.012)),
        drop=float(rng.uniform(0.0, 0.02)),
        low_conf=float(rng.uniform(0.0, 0.04)),
        hand_dropout=float(rng.uniform(0.0, 0.4)),
        conf=float(rng.uniform(0.82, 0.96)),
    )


_B = {n: i for i, n in enumerate(SL79.names[:11])}
_FACE = np.asarray(SL79.groups["face"])
_MOUTH = np.asarray(SL79.groups["mouth"])
_LH = np.asarray(SL79.groups["left_hand"])
_RH = np.asarray(SL79.groups["right_hand"])
# contiguous SL79 ranges as slices (much faster than index arrays)
_HEAD_S = slice(0, 5)  # nose, eyes, ears
_NM_S = slice(int(SL79.groups["non_manual"][0]), int(SL79.groups["non_manual"][-1]) + 1)
_LH_S = slice(int(_LH[0]), int(_LH[-1]) + 1)
_RH_S = slice(int(_RH[0]), int(_RH[-1]) + 1)
_HANDS_S = slice(int(_LH[0]), int(_RH[-1]) + 1)
assert _HEAD_S.stop == _B["left_shoulder"] and _RH_S.start == _LH_S.stop == _LH[-1] + 1
assert np.array_equal(np.arange(79)[_NM_S], SL79.groups["non_manual"])


def _mirror_permutation() -> np.ndarray:
    perm = np.arange(SL79.num_keypoints)
    pairs = (("left_eye", "right_eye"), ("left_ear", "right_ear"), ("left_shoulder", "right_shoulder"),
             ("left_elbow", "right_elbow"), ("left_wrist", "right_wrist"))  # fmt: skip
    for a, b in pairs:
        perm[_B[a]], perm[_B[b]] = _B[b], _B[a]
    perm[_FACE[:17]] = _FACE[:17][::-1]  # jaw contour runs from one ear to the other
    m = _MOUTH  # iBUG 60..67: corners 60/64, upper 61-63, lower 65-67
    for a, b in ((0, 4), (1, 3), (5, 7)):
        perm[m[a]], perm[m[b]] = m[b], m[a]
    perm[_LH], perm[_RH] = _RH, _LH
    return perm


MIRROR = _mirror_permutation()  # keypoint i of a mirrored pose is keypoint MIRROR[i] of the original
_JITTER_SCALE = np.ones((SL79.num_keypoints, 1), dtype=np.float32)
_JITTER_SCALE[_HANDS_S] = 1.6
_CONF_OFFSET = np.zeros(SL79.num_keypoints, dtype=np.float32)
_CONF_OFFSET[_HANDS_S] = -0.08  # hand keypoints are less certain

# neutral head (body units, relative to the neck point)
_HEAD_XY = np.array([[0.0, -0.54], [0.08, -0.62], [-0.08, -0.62], [0.19, -0.58], [-0.19, -0.58]])
_PHI = np.linspace(np.pi, 0.0, 17)
_SPHI = np.sin(_PHI)
_JAW_XY = np.stack([0.18 * np.cos(_PHI), -0.56 + 0.23 * _SPHI], 1)
_NOSE_TIP = np.array([0.0, -0.53])
_MOUTH_C = np.array([0.0, -0.43])
_PIVOT = np.array([0.0, -0.35])
_MOUTH_X = np.array([-1.0, -0.5, 0.0, 0.5, 1.0, 0.5, 0.0, -0.5])
_MOUTH_Y = np.array([0.0, -0.25, -0.3, -0.25, 0.0, 0.9, 1.0, 0.9])
_SHOULDER = np.array([-0.5, 0.0])  # right shoulder; both arms are solved as right arms
# rendering runs in float32 (half the memory traffic of float64)
_HEAD_XY, _SPHI, _JAW_XY, _NOSE_TIP, _MOUTH_C, _PIVOT, _MOUTH_X, _MOUTH_Y, _SHOULDER = (
    a.astype(np.float32)
    for a in (_HEAD_XY, _SPHI, _JAW_XY, _NOSE_TIP, _MOUTH_C, _PIVOT, _MOUTH_X, _MOUTH_Y, _SHOULDER)
)
_ONE, _MINUS_ONE = np.float32(1.0), np.float32(-1.0)


def _rotate(
    x: np.ndarray, y: np.ndarray, px: np.ndarray, py: np.ndarray, angle: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Rotate points (x, y), each (T, N), about (px, py) ((T, 1) each) by per-frame ``angle`` (T,).

    Works on separate x and y planes: broadcasting over a trailing axis of length 2 is slow in numpy.
    """
    c, s = np.cos(angle)[:, None], np.sin(angle)[:, None]
    dx, dy = x - px, y - py
    return px + c * dx - s * dy, py + s * dx + c * dy


def _per_frame(values: list[float], counts: np.ndarray) -> np.ndarray:
    """Per-sample values repeated over each sample's frames, as a float32 column (N, 1)."""
    return np.repeat(np.asarray(values, dtype=np.float32), counts)[:, None]


def _render_body_frames(tl: np.ndarray, signers: list[Signer], counts: np.ndarray) -> np.ndarray:
    """Noise-free body-space coordinates (N, 79, 2) of concatenated timelines (N, C).

    ``counts[i]`` frames belong to ``signers[i]``; all work is per frame, so batching many samples
    gives the same numbers as rendering them one by one.
    """
    n = tl.shape[0]
    tl = tl.astype(np.float32, copy=False)
    out = np.empty((n, SL79.num_keypoints, 2), dtype=np.float32)
    hs = _per_frame([g.head for g in signers], counts)  # (N, 1)
    head_roll = _per_frame([g.head_roll for g in signers], counts)[:, 0]
    pivot = _PIVOT * hs  # (N, 2)
    # non-manual points: face contour (jaw drop, cheek puff), nose tip, inner mouth; head roll and nod
    open_, nod = tl[:, MOUTH_OPEN : MOUTH_OPEN + 1], tl[:, HEAD_NOD : HEAD_NOD + 1]
    face = np.empty((n, 26, 2), dtype=np.float32)
    face[:, :17, 0] = _JAW_XY[:, 0] * (1.0 + 0.12 * tl[:, CHEEK_PUFF : CHEEK_PUFF + 1] * _SPHI)
    face[:, :17, 1] = _JAW_XY[:, 1] + 0.05 * open_ * _SPHI
    face[:, 17] = _NOSE_TIP
    face[:, 18:, 0] = _MOUTH_C[0] + 0.045 * tl[:, MOUTH_WIDTH : MOUTH_WIDTH + 1] * _MOUTH_X
    face[:, 18:, 1] = _MOUTH_C[1] + (0.004 + 0.035 * open_) * _MOUTH_Y
    face[..., 1] = _PIVOT[1] + (face[..., 1] - _PIVOT[1]) * (1.0 - 0.06 * nod) + 0.03 * nod
    px, py = pivot[:, 0:1], pivot[:, 1:2]
    out[:, _NM_S, 0], out[:, _NM_S, 1] = _rotate(
        face[..., 0] * hs, face[..., 1] * hs, px, py, tl[:, HEAD_ROLL] + head_roll
    )
    head_x, head_y = _HEAD_XY[:, 0] * hs, _HEAD_XY[:, 1] * hs
    out[:, _HEAD_S, 0], out[:, _HEAD_S, 1] = _rotate(head_x, head_y, px, py, head_roll)
    out[:, _B["left_shoulder"]] = (0.5, 0.0)
    out[:, _B["right_shoulder"]] = (-0.5, 0.0)
    # arms (two-link inverse kinematics) and hands; the non-dominant one is solved in mirrored space
    hands = tl[:, : 2 * HAND_CH].reshape(n, 2, HAND_CH)
    arm = _per_frame([g.arm for g in signers], counts)[:, :, None]  # (N, 1, 1)
    l1, l2 = 0.78 * arm, 0.68 * arm
    v = hands[..., 0:2] - _SHOULDER
    dist = np.sqrt(v[..., 0:1] ** 2 + v[..., 1:2] ** 2)
    u = v / np.maximum(dist, 1e-6)
    dist = np.clip(dist, 0.05, 0.999 * (l1 + l2))
    wrist = _SHOULDER + u * dist  # out-of-reach targets are pulled onto the reach circle
    a = (l1 * l1 - l2 * l2 + dist * dist) / (2 * dist)
    h = np.sqrt(np.maximum(l1 * l1 - a * a, 0.0))
    perp = np.stack([u[..., 1], -u[..., 0]], -1)
    perp *= np.where(perp[..., 1:] - 0.3 * perp[..., :1] < 0, _MINUS_ONE, _ONE)  # elbow down, then outwards
    elbow = _SHOULDER + u * a + perp * h
    shape = hands[..., 4:].reshape(n, 2, 21, 2)
    lx = shape[..., 0] * hands[..., 3:4]
    c, s = np.cos(hands[..., 2:3]), np.sin(hands[..., 2:3])
    size = 0.48 * _per_frame([g.hand for g in signers], counts)[:, :, None]  # (N, 1, 1)
    hand = np.empty((n, 2, 21, 2), dtype=np.float32)  # per-coordinate planes (see _rotate)
    hand[..., 0] = (c * lx - s * shape[..., 1]) * size
    hand[..., 1] = (s * lx + c * shape[..., 1]) * size
    hand[..., 0] += wrist[..., 0:1]
    hand[..., 1] += wrist[..., 1:2]
    hand[:, :, 0] = wrist
    out[:, _B["right_elbow"]], out[:, _B["right_wrist"]], out[:, _RH_S] = elbow[:, 0], wrist[:, 0], hand[:, 0]
    out[:, _B["left_elbow"]], out[:, _B["left_wrist"]], out[:, _LH_S] = elbow[:, 1], wrist[:, 1], hand[:, 1]
    for k in (_B["left_elbow"], _B["left_wrist"]):
        out[:, k, 0] *= -1  # back from mirrored space
    out[:, _LH_S, 0] *= -1
    left = np.repeat(np.array([g.left_handed for g in signers]), counts)
    if left.any():
        rows = np.flatnonzero(left)
        m = out[rows[:, None], MIRROR]  # mirror_body in a single gather
        m[..., 0] *= -1
        out[rows] = m
    return out


def render_body(tl: np.ndarray, signer: Signer) -> np.ndarray:
    """Noise-free (T, 79, 2) body-space coordinates of timeline ``tl`` (T, C) for ``signer``."""
    return _render_body_frames(tl, [signer], np.array([tl.shape[0]]))


def mirror_body(xy: np.ndarray) -> np.ndarray:
    """Mirror image of body-space poses (..., 79, 2): x negated, left and right keypoints swapped."""
    m = xy[..., MIRROR, :]
    m[..., 0] *= -1
    return m


@dataclass(frozen=True)
class NoiseDraw:
    """The random numbers of one sample's recording noise (drawn from the sample's own generator)."""

    jitter: np.ndarray  # (T, 79, 2) uniform in [0, 1)
    planes: np.ndarray  # (3, T, 79) uniform: confidence, unreliable joints, dropped joints
    phase: np.ndarray  # (2,) body sway phases
    hand_gaps: tuple[tuple[int, int, int], ...]  # (hand 0 = left / 1 = right, first frame, length)


def draw_noise(rng: np.random.Generator, num_frames: int, signer: Signer) -> NoiseDraw:
    """Draw the recording noise of a ``num_frames`` sample of ``signer``."""
    jitter = rng.random((num_frames, SL79.num_keypoints, 2), dtype=np.float32)
    planes = rng.random((3, num_frames, SL79.num_keypoints), dtype=np.float32)
    phase = rng.uniform(0, 2 * np.pi, 2)
    gaps = []
    for hand in (0, 1):
        if rng.random() < signer.hand_dropout and num_frames > 4:
            gaps.append((hand, int(rng.integers(num_frames)), int(rng.integers(2, 12))))
    return NoiseDraw(jitter, planes, phase, tuple(gaps))


def _add_noise(xy: np.ndarray, signers: list[Signer], noises: list[NoiseDraw], cnt: np.ndarray) -> np.ndarray:
    """Add recording noise to body-space poses ``xy`` (N, 79, 2) in place; returns confidences (N, 79)."""
    r = np.concatenate([nz.planes for nz in noises], axis=1) if len(noises) > 1 else noises[0].planes
    t = np.concatenate([np.arange(c, dtype=np.float32) / 25.0 for c in cnt])
    ph = np.repeat(np.stack([nz.phase for nz in noises]).astype(np.float32), cnt, axis=0)
    xy[..., 0] += 0.015 * np.sin(0.7 * t + ph[:, 0])[:, None]
    xy[..., 1] += 0.015 * np.sin(0.5 * t + ph[:, 1])[:, None]
    # uniform jitter with standard deviation ``signer.jitter`` (1.6x on the hands); unreliable joints
    # (probability ``signer.low_conf``) get 4x the jitter and a confidence in [0.05, 0.3]
    p_low = _per_frame([g.low_conf for g in signers], cnt)
    low = r[1] < p_low
    amp = _per_frame([g.jitter * np.sqrt(12.0) for g in signers], cnt) * _JITTER_SCALE[:, 0]  # (N, 79)
    np.multiply(amp, np.float32(4.0), out=amp, where=low)
    jit = np.concatenate([nz.jitter for nz in noises]) if len(noises) > 1 else noises[0].jitter
    xy[..., 0] += (jit[..., 0] - 0.5) * amp
    xy[..., 1] += (jit[..., 1] - 0.5) * amp
    cf = (_per_frame([g.conf - 0.12 for g in signers], cnt) + _CONF_OFFSET) + 0.18 * r[0]
    speed = np.zeros((len(xy), 2), dtype=np.float32)  # wrist speed (shoulder widths / frame)
    d = np.diff(xy[:, _B["left_wrist"] : _B["right_wrist"] + 1], axis=0)
    speed[1:] = np.sqrt(d[..., 0] ** 2 + d[..., 1] ** 2)
    speed[np.cumsum(cnt) - cnt] = 0.0
    cf[:, _LH_S] -= np.minimum(2.0 * speed[:, 0:1], 0.3)
    cf[:, _RH_S] -= np.minimum(2.0 * speed[:, 1:2], 0.3)
    v = r[1] / p_low
    v *= 0.25
    v += 0.05
    np.copyto(cf, v, where=low)
    cf[r[2] < _per_frame([g.drop for g in signers], cnt)] = 0.0
    base = 0
    for nz, c in zip(noises, cnt, strict=True):
        for hand, first, length in nz.hand_gaps:
            cf[base + first : base + min(first + length, c), _LH_S if hand == 0 else _RH_S] = 0.0
        base += c
    return cf


def render_batch(
    timelines: list[np.ndarray], signers: list[Signer], noises: list[NoiseDraw | None]
) -> list[np.ndarray]:
    """Render several samples at once (vectorised over all their frames); see :func:`render`."""
    counts = np.array([len(t) for t in timelines])
    n = int(counts.sum())
    starts = np.cumsum(counts) - counts
    xy = _render_body_frames(np.concatenate(timelines), signers, counts)
    noisy = [i for i, nz in enumerate(noises) if nz is not None]
    if len(noisy) == len(noises):
        conf = _add_noise(xy, signers, noises, counts)  # type: ignore[arg-type]
    else:
        conf = _per_frame([g.conf for g in signers], counts) * np.ones(SL79.num_keypoints, np.float32)
        if noisy:
            rows = np.concatenate([np.arange(starts[i], starts[i] + counts[i]) for i in noisy])
            x = xy[rows]
            conf[rows] = _add_noise(x, [signers[i] for i in noisy], [noises[i] for i in noisy], counts[noisy])
            xy[rows] = x
    # per coordinate plane, contiguous (broadcasting over a trailing axis of length 2 or 3 is slow)
    planes = []
    for ch in range(2):
        scale = _per_frame([g.scale / (g.height if ch else g.width) for g in signers], counts)
        center = _per_frame([g.center[ch] / (g.height if ch else g.width) for g in signers], counts)
        v = xy[..., ch] * scale
        v += center
        planes.append(v)
    planes.append(np.clip(conf, 0.0, 1.0))
    x, y, cf = planes
    keep = x >= 0
    keep &= x <= 1
    keep &= y >= 0
    keep &= y <= 1
    keep &= cf > 0
    pose = np.empty((n, SL79.num_keypoints, 3), dtype=np.float32)
    for ch, v in enumerate(planes):
        v *= keep  # missing joints: (0, 0, 0)
        pose[..., ch] = v
    return [pose[a : a + c] for a, c in zip(starts, counts, strict=True)]


def render(tl: np.ndarray, signer: Signer, rng: np.random.Generator | None, noise: bool = True) -> np.ndarray:
    """Timeline (T, C) -> pose (T, 79, 3) float32 in frame units (x / width, y / height, confidence).

    With ``noise`` (then ``rng`` is needed): body sway, keypoint jitter, lower confidence for fast
    hands, dropped joints (confidence 0 and x, y = 0), unreliable joints (low confidence, extra noise),
    runs of missing hand frames. Points outside the frame are dropped too.
    """
    nz = draw_noise(rng, tl.shape[0], signer) if noise else None
    return render_batch([tl], [signer], [nz])[0]
