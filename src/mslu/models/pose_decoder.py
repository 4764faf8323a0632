"""Sign pose decoder psi_SD: a two-layer MLP reconstructing (x, y) of every keypoint from F_SE."""

from __future__ import annotations

import torch
from torch import nn


class PoseDecoder(nn.Module):
    """``V_rec = psi_SD(F_SE)``: (B, T, D) -> (B, T, K, 2)."""

    def __init__(self, in_dim: int, hidden: int = 512, num_keypoints: int = 79, coords: int = 2):
        super().__init__()
        self.num_keypoints, self.coords = num_keypoints, coords
        self.mlp = nn.Sequential(
            nn.Linear(in_dim, hidden), nn.GELU(), nn.Linear(hidden, num_keypoints * coords)
        )

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.mlp(features).unflatten(-1, (self.num_keypoints, self.coords))
