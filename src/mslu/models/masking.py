"""Hierarchical random masking of the whole pose (Sec. III-B, after SignBERT+ [2]; ratio m of Tab. XVII).

Three levels are sampled independently, every one over the whole 79-point pose (not only the hands):

* frame level: a whole frame is masked with probability ``p_f``;
* part level: a part (body, face, mouth, left hand, right hand) of a frame with probability ``p_p``;
* joint level: a single joint of a frame with probability ``p_j``.

A keypoint is masked when any level hits it, so its masking probability is ``1 - (1-p_f)(1-p_p)(1-p_j)``.
The level probabilities are ``p_l = 1 - (1 - m) ** (w_l / sum(w))`` with the level weights ``w_l`` of
:class:`~mslu.models.config.MaskConfig`, so the expected fraction of masked keypoints in valid frames is
exactly ``m``. Padding frames are never masked. The returned ``M`` (B, T, K) is 1 for masked keypoints
(Eq. 3). Masked keypoints are replaced by (0, 0, 0) -- coordinates and confidence, the same as a missing
joint -- or, with ``replace="token"``, by a learnable per-joint (x, y, conf) token (:class:`MaskToken`).
"""

from __future__ import annotations

import functools

import torch
from torch import nn

from mslu.models.config import MaskConfig
from mslu.pose.layouts import SL79

PARTS = ("body", "face", "mouth", "left_hand", "right_hand")


def part_index(num_keypoints: int = 79) -> torch.Tensor:
    """Part id (index into PARTS) of every SL79 keypoint."""
    ids = [-1] * num_keypoints
    for p, name in enumerate(PARTS):
        for k in SL79.groups[name]:
            ids[k] = p
    if min(ids) < 0:
        raise ValueError("SL79 parts must cover all keypoints")
    return torch.tensor(ids, dtype=torch.long)


@functools.cache
def _part_index_on(num_keypoints: int, device: torch.device) -> torch.Tensor:
    return part_index(num_keypoints).to(device)  # built once per device: no copy per step


def level_probabilities(cfg: MaskConfig) -> tuple[float, float, float]:
    """(p_frame, p_part, p_joint) whose union has probability ``cfg.ratio``."""
    if not 0.0 <= cfg.ratio < 1.0:
        raise ValueError(f"mask ratio must be in [0, 1), got {cfg.ratio}")
    w = (cfg.frame_weight, cfg.part_weight, cfg.joint_weight)
    if min(w) < 0 or sum(w) <= 0:
        raise ValueError(f"mask level weights must be >= 0 with a positive sum, got {w}")
    keep = 1.0 - cfg.ratio
    return tuple(1.0 - keep ** (wi / sum(w)) for wi in w)  # type: ignore[return-value]


def hierarchical_mask(
    frame_mask: torch.Tensor,
    cfg: MaskConfig,
    num_keypoints: int = 79,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Sample the mask M (B, T, K) bool (True = masked) for valid frames ``frame_mask`` (B, T)."""
    b, t = frame_mask.shape
    dev = frame_mask.device
    if cfg.ratio == 0:
        return torch.zeros(b, t, num_keypoints, dtype=torch.bool, device=dev)
    p_f, p_p, p_j = level_probabilities(cfg)

    def rand(*shape: int) -> torch.Tensor:
        return torch.rand(*shape, generator=generator, device="cpu" if generator is not None else dev).to(dev)

    frames = rand(b, t, 1) < p_f
    parts = (rand(b, t, len(PARTS)) < p_p)[:, :, _part_index_on(num_keypoints, dev)]
    joints = rand(b, t, num_keypoints) < p_j
    return (frames | parts | joints) & frame_mask.bool().unsqueeze(-1)


class MaskToken(nn.Module):
    """Applies M to the input pose: zeros, or a learnable per-joint token (``replace='token'``)."""

    def __init__(self, cfg: MaskConfig, num_keypoints: int = 79, channels: int = 3):
        super().__init__()
        if cfg.replace not in ("zero", "token"):
            raise ValueError(f"unknown mask replacement {cfg.replace!r}; use 'zero' or 'token'")
        self.token = nn.Parameter(torch.zeros(num_keypoints, channels)) if cfg.replace == "token" else None

    def forward(self, pose: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        m = mask.unsqueeze(-1)
        fill = pose.new_zeros(()) if self.token is None else self.token.to(pose.dtype)
        return torch.where(m, fill, pose)
