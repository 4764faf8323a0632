"""Pose normalisation (paper Sec. IV-A).

Two stages:

1. :func:`to_frame_units` (storage form of ``Sample.pose``): map to SL79, x / width, y / height,
   confidence kept; missing joints become (0, 0, 0).
2. :func:`normalize_for_model` (model input, run in the data loader): "for both hand poses, we crop them
   based on their coordinates in the original frame and normalize them with respect to the cropped
   bounding-boxes. For other part poses, we directly normalize them with the video resolution."
   Body, face and mouth are already in frame units after stage 1 and are kept as they are. Each hand,
   per frame, is normalised w.r.t. the bounding box of its valid joints (confidence > 0): with box
   corners ``(x0, y0)``, ``(x1, y1)``, centre ``c = ((x0 + x1) / 2, (y0 + y1) / 2)`` and longer side
   ``L = max(x1 - x0, y1 - y0)`` (measured in frame units), a joint maps to ``(p - c) / L + 0.5``.
   The box is thus made square around the hand (aspect ratio kept) and coordinates lie in [0, 1] like
   the other parts. A hand with fewer than ``min_hand_joints`` (default 2) valid joints in a frame, or a
   degenerate box (``L`` <= ``1e-6``), is missing in that frame: all its joints become (0, 0, 0).
   Reading of the paper: the box is measured in frame units (x / width, y / height), i.e. after stage 1.

Missing joints are (0, 0, 0) throughout: the confidence channel (channel 3) tells them from real points,
and NaN input never leaks into the output.
"""

from __future__ import annotations

import numpy as np

from mslu.pose.layouts import SL79
from mslu.pose.mapping import to_sl79
from mslu.pose.sequence import PoseSequence

HAND_INDICES: np.ndarray = np.stack([SL79.index("left_hand"), SL79.index("right_hand")])  # (2, 21)
_MIN_BOX = 1e-6
_H0, _H1 = SL79.groups["left_hand"][0], SL79.groups["right_hand"][-1] + 1
assert list(SL79.groups["left_hand"]) + list(SL79.groups["right_hand"]) == list(range(_H0, _H1))


def to_frame_units(seq: PoseSequence, width: int | None = None, height: int | None = None) -> np.ndarray:
    """SL79 pose in frame units, float32 (T, 79, 3): x / width, y / height, confidence (clipped to [0, 1]);
    missing -> (0, 0, 0).

    ``width``/``height`` override the sequence's frame size (needed when a reader did not know it)."""
    s = to_sl79(seq)
    w = int(width or s.width)
    h = int(height or s.height)
    if w <= 0 or h <= 0:
        src = s.meta.get("path", "<pose sequence>")
        raise ValueError(f"{src}: unknown frame size ({w}x{h}); pass width= and height=")
    out = s.data / np.array([w, h, 1.0], dtype=np.float32)
    valid = (s.data[..., 2] > 0) & np.isfinite(s.data).all(-1)
    out[..., 2] = np.clip(out[..., 2], 0.0, 1.0)
    out[~valid] = 0.0
    return out.astype(np.float32, copy=False)


COORDINATES = ("auto", "pixels", "normalized")
_NORMALISED_LIMIT = 2.0  # |x|, |y| of every valid point <= this: normalised units (no real frame is 2 px)


def coordinate_kind(seq: PoseSequence) -> str:
    """``"normalized"`` or ``"pixels"``: what the reader recorded (``meta["coordinates"]``), else detected:
    normalised when every valid x, y lies within [-2, 2] (MediaPipe's normalised landmarks stray slightly
    outside [0, 1]; pixel coordinates of a real frame do not stay that small)."""
    kind = seq.meta.get("coordinates")
    if kind in ("pixels", "normalized"):
        return kind
    ok = (seq.data[..., 2] > 0) & np.isfinite(seq.data).all(-1)
    if not ok.any():
        return "pixels" if seq.width and seq.height else "normalized"
    return "normalized" if float(np.abs(seq.data[ok][:, :2]).max()) <= _NORMALISED_LIMIT else "pixels"


def frame_units(seq: PoseSequence, coordinates: str = "auto", width: int | None = None,
                height: int | None = None) -> np.ndarray:
    """:func:`to_frame_units` for pixel or normalised input: ``coordinates`` is ``pixels`` (divided by the
    frame size: ``width``/``height`` when given, else the sequence's), ``normalized`` (already x / width,
    y / height: kept) or ``auto`` (:func:`coordinate_kind`)."""
    if coordinates not in COORDINATES:
        raise ValueError(f"coordinates must be one of {', '.join(COORDINATES)}, got {coordinates!r}")
    kind = coordinate_kind(seq) if coordinates == "auto" else coordinates
    if kind == "normalized":
        return to_frame_units(seq, 1, 1)
    w, h = int(width or seq.width or 0), int(height or seq.height or 0)
    if w <= 0 or h <= 0:
        src = seq.meta.get("path", "<pose sequence>")
        raise ValueError(f"{src}: pixel coordinates but unknown frame size ({w}x{h}); give the width and "
                         "height (a table column, the file or --width/--height)")
    return to_frame_units(seq, w, h)


def valid_mask(pose: np.ndarray) -> np.ndarray:
    """Boolean (..., K): joints with confidence > 0 and finite x, y, conf."""
    return (pose[..., 2] > 0) & np.isfinite(pose).all(-1)


def normalize_for_model(pose: np.ndarray, min_hand_joints: int = 2) -> np.ndarray:
    """Model input from frame-unit SL79 poses (..., 79, 3): each hand w.r.t. its own bounding box (module
    docstring), other parts unchanged; confidence is channel 3; missing joints (0, 0, 0). Vectorised over
    any leading dimensions (frames, batch). Returns float32."""
    pose = np.asarray(pose, dtype=np.float32)
    if pose.shape[-2:] != (SL79.num_keypoints, 3):
        raise ValueError(f"expected (..., 79, 3) SL79 pose, got {pose.shape}")
    valid = valid_mask(pose)
    out = np.where(valid[..., None], pose, np.float32(0.0))

    lead = out.shape[:-2]
    hands = out[..., _H0:_H1, :].reshape(*lead, 2, 21, 3)  # left, right (contiguous in SL79)
    hvalid = valid[..., _H0:_H1].reshape(*lead, 2, 21)
    xy = hands[..., :2]
    lo = np.where(hvalid[..., None], xy, np.float32(np.inf)).min(axis=-2)  # (..., 2, 2)
    hi = np.where(hvalid[..., None], xy, np.float32(-np.inf)).max(axis=-2)
    with np.errstate(invalid="ignore"):
        side = (hi - lo).max(axis=-1)  # (..., 2); NaN/-inf when no valid joint
        ok = (hvalid.sum(axis=-1) >= min_hand_joints) & (side > _MIN_BOX)
        centre = np.where(ok[..., None], (lo + hi) / 2, np.float32(0.0))
    side = np.where(ok, side, np.float32(1.0))
    keep = (hvalid & ok[..., None])[..., None]
    new_xy = (xy - centre[..., None, :]) / side[..., None, None] + np.float32(0.5)
    hands[..., :2] = np.where(keep, new_xy, np.float32(0.0))
    hands[..., 2:] = np.where(keep, hands[..., 2:], np.float32(0.0))
    out[..., _H0:_H1, :] = hands.reshape(*lead, 42, 3)
    return out.astype(np.float32, copy=False)


def hand_bounding_boxes(pose: np.ndarray) -> np.ndarray:
    """(..., 2, 4) boxes [x0, y0, x1, y1] of the left and right hands' valid joints (NaN where none)."""
    pose = np.asarray(pose, dtype=np.float32)
    hvalid = valid_mask(pose)[..., HAND_INDICES]
    xy = pose[..., HAND_INDICES, :2]
    with np.errstate(invalid="ignore"):
        lo = np.where(hvalid[..., None], xy, np.inf).min(axis=-2)
        hi = np.where(hvalid[..., None], xy, -np.inf).max(axis=-2)
    box = np.concatenate([lo, hi], axis=-1)
    box[~hvalid.any(-1)] = np.nan
    return box
