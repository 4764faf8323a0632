"""Timelines to SL79 keypoints: arms, hands, face and mouth posed from a timeline, signer noise, mirroring
(vectorised numpy). See :mod:`mslu.data.synth.prototypes` for the timeline channels."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mslu.data.synth.prototypes import CHEEK_PUFF, HAND_CH, HEAD_NOD, HEAD_ROLL, MOUTH_OPEN, MOUTH_WIDTH
from mslu.data.synth.signers import Signer
from mslu.pose.layouts import SL79

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


def _body_frames(tl: np.ndarray, signers: list[Signer], counts: np.ndarray) -> np.ndarray:
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


def animate_body(tl: np.ndarray, signer: Signer) -> np.ndarray:
    """Noise-free (T, 79, 2) body-space coordinates of timeline ``tl`` (T, C) for ``signer``."""
    return _body_frames(tl, [signer], np.array([tl.shape[0]]))


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


def animate_batch(
    timelines: list[np.ndarray], signers: list[Signer], noises: list[NoiseDraw | None]
) -> list[np.ndarray]:
    """Render several samples at once (vectorised over all their frames); see :func:`render`."""
    counts = np.array([len(t) for t in timelines])
    n = int(counts.sum())
    starts = np.cumsum(counts) - counts
    xy = _body_frames(np.concatenate(timelines), signers, counts)
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


def animate(
    tl: np.ndarray, signer: Signer, rng: np.random.Generator | None, noise: bool = True
) -> np.ndarray:
    """Timeline (T, C) -> pose (T, 79, 3) float32 in frame units (x / width, y / height, confidence).

    With ``noise`` (then ``rng`` is needed): body sway, keypoint jitter, lower confidence for fast
    hands, dropped joints (confidence 0 and x, y = 0), unreliable joints (low confidence, extra noise),
    runs of missing hand frames. Points outside the frame are dropped too.
    """
    nz = draw_noise(rng, tl.shape[0], signer) if noise else None
    return animate_batch([tl], [signer], [nz])[0]
