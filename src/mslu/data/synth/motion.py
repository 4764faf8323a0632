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
    f = (pos - i0)[:, None]
    return proto[i0] * (1.0 - f) + proto[i0 + 1] * f


def transition(a: np.ndarray, b: np.ndarray, n: int) -> np.ndarray:
    """``n`` co-articulation frames strictly between channel vectors ``a`` and ``b`` (eased)."""
    if n <= 0:
        return np.empty((0, a.shape[0]))
    s = 0.5 - 0.5 * np.cos(np.pi * np.arange(1, n + 1) / (n + 1))
    return a + (b - a) * s[:, None]


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
_NONMANUAL = np.asarray(SL79.groups["non_manual"])
_HEAD = np.array([_B[n] for n in ("nose", "left_eye", "right_eye", "left_ear", "right_ear")])
_LH = np.asarray(SL79.groups["left_hand"])
_RH = np.asarray(SL79.groups["right_hand"])
_HANDS = np.concatenate([_LH, _RH])


def _mirror_permutation() -> np.ndarray:
    perm = np.arange(SL79.num_keypoints)
    for a, b in (
        ("left_eye", "right_eye"),
        ("left_ear", "right_ear"),
        ("left_shoulder", "right_shoulder"),
        ("left_elbow", "right_elbow"),
        ("left_wrist", "right_wrist"),
    ):
        perm[_B[a]], perm[_B[b]] = _B[b], _B[a]
    perm[_FACE[:17]] = _FACE[:17][::-1]  # jaw contour runs from one ear to the other
    m = _MOUTH  # iBUG 60..67: corners 60/64, upper 61-63, lower 65-67
    for a, b in ((0, 4), (1, 3), (5, 7)):
        perm[m[a]], perm[m[b]] = m[b], m[a]
    perm[_LH], perm[_RH] = _RH, _LH
    return perm


MIRROR = _mirror_permutation()
_JITTER_SCALE = np.ones((SL79.num_keypoints, 1))
_JITTER_SCALE[_HANDS] = 1.6  # keypoint i of a mirrored pose is keypoint MIRROR[i] of the original

# neutral head (body units, relative to the neck point)
_HEAD_XY = np.array([[0.0, -0.54], [0.08, -0.62], [-0.08, -0.62], [0.19, -0.58], [-0.19, -0.58]])
_PHI = np.linspace(np.pi, 0.0, 17)
_JAW_XY = np.stack([0.18 * np.cos(_PHI), -0.56 + 0.23 * np.sin(_PHI)], 1)
_NOSE_TIP = np.array([0.0, -0.53])
_MOUTH_C = np.array([0.0, -0.43])
_PIVOT = np.array([0.0, -0.35])
_MOUTH_X = np.array([-1.0, -0.5, 0.0, 0.5, 1.0, 0.5, 0.0, -0.5])
_MOUTH_Y = np.array([0.0, -0.25, -0.3, -0.25, 0.0, 0.9, 1.0, 0.9])


def _rotate(xy: np.ndarray, pivot: np.ndarray, angle: np.ndarray) -> np.ndarray:
    """Rotate points (T, N, 2) about ``pivot`` by per-frame ``angle`` (T,)."""
    c, s = np.cos(angle)[:, None], np.sin(angle)[:, None]
    d = xy - pivot
    return np.stack([pivot[0] + c * d[..., 0] - s * d[..., 1], pivot[1] + s * d[..., 0] + c * d[..., 1]], -1)


def render_body(tl: np.ndarray, signer: Signer) -> np.ndarray:
    """Noise-free (T, 79, 2) body-space coordinates of timeline ``tl`` (T, C) for ``signer``."""
    n = tl.shape[0]
    out = np.zeros((n, SL79.num_keypoints, 2))
    hs = signer.head
    # non-manual points: face contour, nose tip, inner mouth
    open_, width, nod, puff = tl[:, MOUTH_OPEN], tl[:, MOUTH_WIDTH], tl[:, HEAD_NOD], tl[:, CHEEK_PUFF]
    sphi = np.sin(_PHI)
    jaw = np.empty((n, 17, 2))
    jaw[..., 0] = _JAW_XY[:, 0] * (1.0 + 0.12 * puff[:, None] * sphi)
    jaw[..., 1] = _JAW_XY[:, 1] + 0.05 * open_[:, None] * sphi
    o = 0.004 + 0.035 * open_
    mouth = np.empty((n, 8, 2))
    mouth[..., 0] = _MOUTH_C[0] + 0.045 * width[:, None] * _MOUTH_X
    mouth[..., 1] = _MOUTH_C[1] + o[:, None] * _MOUTH_Y
    face = np.concatenate([jaw, np.broadcast_to(_NOSE_TIP, (n, 1, 2)), mouth], 1) * hs
    face[..., 1] = _PIVOT[1] * hs + (face[..., 1] - _PIVOT[1] * hs) * (1.0 - 0.06 * nod[:, None])
    face[..., 1] += 0.03 * nod[:, None]
    face = _rotate(face, _PIVOT * hs, tl[:, HEAD_ROLL])
    out[:, _NONMANUAL] = face
    out[:, _HEAD] = _HEAD_XY * hs
    if signer.head_roll:
        idx = np.concatenate([_HEAD, _NONMANUAL])
        out[:, idx] = _rotate(out[:, idx], _PIVOT * hs, np.full(n, signer.head_roll))
    out[:, _B["left_shoulder"]] = (0.5, 0.0)
    out[:, _B["right_shoulder"]] = (-0.5, 0.0)
    # arms and hands, both computed as a right arm (the non-dominant one in mirrored space)
    hands = np.stack([tl[:, DOM], tl[:, NONDOM]], 1)  # (T, 2, 46)
    shoulder = np.array([-0.5, 0.0])
    l1, l2 = 0.78 * signer.arm, 0.68 * signer.arm
    wrist = hands[..., 0:2]
    v = wrist - shoulder
    dist = np.linalg.norm(v, axis=-1, keepdims=True)
    u = v / np.maximum(dist, 1e-6)
    dist = np.clip(dist, 0.05, 0.999 * (l1 + l2))
    wrist = shoulder + u * dist
    a = (l1 * l1 - l2 * l2 + dist * dist) / (2 * dist)
    h = np.sqrt(np.maximum(l1 * l1 - a * a, 0.0))
    perp = np.stack([u[..., 1], -u[..., 0]], -1)
    flip = (perp[..., 1] - 0.3 * perp[..., 0]) < 0  # elbow hangs down, then outwards
    perp[flip] *= -1
    elbow = shoulder + u * a + perp * h
    ang = hands[..., 2]
    shape = hands[..., 4:].reshape(n, 2, 21, 2)
    lx = shape[..., 0] * hands[..., 3:4]
    ly = shape[..., 1]
    c, s = np.cos(ang)[..., None], np.sin(ang)[..., None]
    size = 0.48 * signer.hand
    hand = np.stack([c * lx - s * ly, s * lx + c * ly], -1) * size + wrist[:, :, None, :]
    hand[:, :, 0] = wrist
    # hand 1 (non-dominant) back from mirrored space
    elbow[:, 1, 0] *= -1
    wrist[:, 1, 0] *= -1
    hand[:, 1, :, 0] *= -1
    out[:, _B["right_elbow"]], out[:, _B["left_elbow"]] = elbow[:, 0], elbow[:, 1]
    out[:, _B["right_wrist"]], out[:, _B["left_wrist"]] = wrist[:, 0], wrist[:, 1]
    out[:, _RH], out[:, _LH] = hand[:, 0], hand[:, 1]
    if signer.left_handed:
        out = mirror_body(out)
    return out


def mirror_body(xy: np.ndarray) -> np.ndarray:
    """Mirror image of body-space poses (..., 79, 2): x negated, left and right keypoints swapped."""
    m = xy[..., MIRROR, :].copy()
    m[..., 0] *= -1
    return m


def render(tl: np.ndarray, signer: Signer, rng: np.random.Generator, noise: bool = True) -> np.ndarray:
    """Timeline (T, C) -> pose (T, 79, 3) in frame units (x / width, y / height, confidence).

    With ``noise``: body sway, keypoint jitter, lower confidence for fast hands, dropped joints
    (confidence 0 and x, y = 0), unreliable joints (low confidence, extra noise), runs of missing hand
    frames. Points outside the frame are dropped too.
    """
    n = tl.shape[0]
    xy = render_body(tl, signer)
    conf = np.full((n, SL79.num_keypoints), signer.conf)
    if noise:
        r = rng.random((5, n, SL79.num_keypoints), dtype=np.float32)  # jitter x, y; conf; low; drop
        ph = rng.uniform(0, 2 * np.pi, 2)
        t = np.arange(n) / 25.0
        xy += 0.015 * np.stack([np.sin(0.7 * t + ph[0]), np.sin(0.5 * t + ph[1])], -1)[:, None, :]
        # uniform jitter with standard deviation ``signer.jitter`` (1.6x on the hands)
        xy += np.moveaxis(r[:2] - 0.5, 0, -1) * (_JITTER_SCALE * (signer.jitter * np.sqrt(12.0)))
        conf = conf - 0.12 + 0.18 * r[2]
        conf[:, _HANDS] -= 0.08
        wr = xy[:, [_B["left_wrist"], _B["right_wrist"]]]
        speed = np.zeros((n, 2))
        speed[1:] = np.linalg.norm(np.diff(wr, axis=0), axis=-1)
        conf[:, _LH] -= np.clip(2.0 * speed[:, 0:1], 0, 0.3)
        conf[:, _RH] -= np.clip(2.0 * speed[:, 1:2], 0, 0.3)
        low = r[3] < signer.low_conf
        if low.any():
            k = int(low.sum())
            conf[low] = rng.uniform(0.05, 0.3, k)
            xy[low] += rng.normal(0.0, 4 * signer.jitter, (k, 2))
        dropped = r[4] < signer.drop
        for hand in (_LH, _RH):
            if rng.random() < signer.hand_dropout and n > 4:
                start = int(rng.integers(n))
                dropped[start : start + int(rng.integers(2, 12)), hand] = True
        conf[dropped] = 0.0
    pose = np.empty((n, SL79.num_keypoints, 3), dtype=np.float32)
    pose[..., 0] = (signer.center[0] + signer.scale * xy[..., 0]) / signer.width
    pose[..., 1] = (signer.center[1] + signer.scale * xy[..., 1]) / signer.height
    conf = np.clip(conf, 0.0, 1.0)
    outside = ((pose[..., :2] < 0) | (pose[..., :2] > 1)).any(-1)
    conf[outside] = 0.0
    pose[..., 2] = conf
    pose[conf == 0.0] = 0.0
    return pose
