"""Synthetic signers: body size, position, speed, handedness and noise of a recording."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


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
