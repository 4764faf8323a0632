"""Hand refinement: replace the hand keypoints with a dedicated hand estimator's output (the paper's InterWild
step, Sec. III-A: InterWild hands combined with the whole-body estimator's body pose).

Input format (one file per video, frames aligned with the video):

- ``.npz`` with ``hands`` float (T, 2, 21, 3), hand 0 = the subject's left, hand 1 = the subject's right; or
  with ``left`` and ``right`` float (T, 21, 3) each;
- ``.npy`` float (T, 2, 21, 3) as ``hands`` above.

The last axis is ``x, y`` in pixels of the original video frame and a confidence in [0, 1]. The 21 points
follow the usual hand order (wrist, thumb 1-4, index 1-4, middle 1-4, ring 1-4, pinky 1-4), the same in
COCO-WholeBody, MediaPipe and InterWild. A hand that the hand estimator did not find in a frame is all NaN or
has confidence 0 everywhere; that frame keeps the whole-body estimator's hand.

Modes, per frame and hand: ``"available"`` (default) takes the refined hand whenever it exists;
``"higher"`` only when its mean confidence is higher than the current hand's (missing points count as 0).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mslu.pose.sequence import PoseSequence

HANDS = ("left_hand", "right_hand")
MODES = ("available", "higher")


def load_hands(path: str | Path) -> np.ndarray:
    """(T, 2, 21, 3) float32 hands from an ``.npz`` / ``.npy`` file in the format of the module docstring."""
    path = Path(path)
    loaded = np.load(path, allow_pickle=False)
    if isinstance(loaded, np.ndarray):
        arr = loaded
    else:
        with loaded as f:
            if "hands" in f:
                arr = f["hands"]
            elif "left" in f and "right" in f:
                arr = np.stack([f["left"], f["right"]], axis=1)
            else:
                found = list(f.keys())
                raise ValueError(f"{path}: expected arrays 'hands' or 'left' and 'right', found {found}")
    arr = np.asarray(arr, dtype=np.float32)
    if arr.ndim != 4 or arr.shape[1:] != (2, 21, 3):
        raise ValueError(f"{path}: hand array must be (T, 2, 21, 3), got {arr.shape}")
    return arr


def refine_hands(
    seq: PoseSequence, hands: np.ndarray, mode: str = "available", source: str = ""
) -> PoseSequence:
    """A copy of ``seq`` whose hand keypoints are replaced, frame by frame, by ``hands`` (T, 2, 21, 3).

    ``seq.layout`` must have ``left_hand`` and ``right_hand`` groups of 21 points (COCO-WholeBody, MediaPipe
    Holistic, OpenPose, SL79). The number of replaced frames per hand is recorded in ``meta['hand_refined']``.
    """
    if mode not in MODES:
        raise ValueError(f"hand refinement mode must be one of {MODES}, got {mode!r}")
    hands = np.asarray(hands, dtype=np.float32)
    name = source or "hand array"
    if hands.shape != (seq.num_frames, 2, 21, 3):
        raise ValueError(
            f"{name}: hands must be ({seq.num_frames}, 2, 21, 3) to match the pose, got {hands.shape}"
        )
    data = seq.data.copy()
    counts = {}
    for h, group in enumerate(HANDS):
        idx = seq.layout.index(group)
        if len(idx) != 21:
            raise ValueError(f"layout {seq.layout.name!r} has {len(idx)} points in {group!r}, not 21")
        new = hands[:, h]
        new_conf = np.where(np.isfinite(new).all(-1), new[..., 2], 0.0)  # (T, 21)
        available = (new_conf > 0).any(-1)
        if mode == "higher":
            old = data[:, idx]
            old_conf = np.where(np.isfinite(old).all(-1), old[..., 2], 0.0)
            available &= new_conf.mean(-1) > old_conf.mean(-1)
        frames = np.flatnonzero(available)
        block = new[frames].copy()
        block[new_conf[frames] <= 0] = (np.nan, np.nan, 0.0)
        data[frames[:, None], idx[None, :]] = block
        counts[group] = int(len(frames))
    meta = dict(seq.meta)
    meta["hand_refined"] = counts
    return PoseSequence(data, seq.layout, seq.fps, seq.width, seq.height, meta)
