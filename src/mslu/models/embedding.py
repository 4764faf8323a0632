"""Frame-wise pose embedding ``Embed`` of Eq. 1: a spatial GCN over the SL79 graph, or a linear projector.

GCN (paper Sec. III-B, after ST-GCN [56]): ST-GCN blocks with the temporal edges removed from the graph and
the TCN sub-module disabled, i.e. every block is a spatial graph convolution with ST-GCN's partitioned
adjacency (``spatial``: root / centripetal / centrifugal w.r.t. ``SL79_CENTER``, in the ST-GCN reference
code's convention; or ``distance`` / ``uniform``), learnable edge importance, a residual connection and ReLU.
The same weights are applied to every frame. Deviation (documented): the normalisation layer is a LayerNorm
over channels instead of BatchNorm, so padding frames and the per-rank batch composition cannot change the
result (DDP gives exactly single-process results). Only valid frames are embedded; padding frames get zeros.

After the GCN, the node features of each stream (``SL79.groups["manual"]``: 53 body + hand nodes,
``SL79.groups["non_manual"]``: 26 face + mouth nodes) are flattened (joint identity kept) and projected
linearly to ``dim`` (512 in the paper) per stream. The ``linear`` embedding (Tab. XIX) flattens the stream's
raw (x, y, conf) keypoints and projects them linearly.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from mslu.models.config import EmbeddingConfig
from mslu.pose.layouts import SL79
from mslu.pose.skeleton import SL79_CENTER, hop_distance


def _normalize_digraph(a: np.ndarray) -> np.ndarray:
    deg = a.sum(0)
    inv = np.where(deg > 0, 1.0 / np.maximum(deg, 1e-12), 0.0)
    return a * inv[None, :]


def partitioned_adjacency(
    strategy: str = "spatial", max_hop: int = 1, center: int = SL79_CENTER
) -> np.ndarray:
    """ST-GCN's partitioned, normalised adjacency ``A`` of shape (K, V, V); ``out[w] = sum_v x[v] A[k, v,
    w]``."""
    hop = hop_distance()
    v = hop.shape[0]
    adj = (hop <= max_hop).astype(np.float64)
    norm = _normalize_digraph(adj)
    if strategy == "uniform":
        return norm[None].astype(np.float32)
    if strategy == "distance":
        return np.stack([np.where(hop == h, norm, 0.0) for h in range(max_hop + 1)]).astype(np.float32)
    if strategy != "spatial":
        raise ValueError(f"unknown GCN partition strategy {strategy!r}; use spatial, distance or uniform")
    dc = hop[:, center]  # hop distance of each node to the centre (inf if unreachable)
    parts = []
    for h in range(max_hop + 1):
        on = hop == h
        # entry [j, i]: edge between neighbour j and node i
        same = on & (dc[:, None] == dc[None, :])
        closer = on & (dc[:, None] > dc[None, :])
        further = on & ~same & ~closer
        if h == 0:
            parts.append(np.where(same, norm, 0.0))
        else:
            parts.append(np.where(same | closer, norm, 0.0))
            parts.append(np.where(further, norm, 0.0))
    a = np.stack(parts)
    assert a.shape[1:] == (v, v)
    return a.astype(np.float32)


class SpatialGraphConv(nn.Module):
    """One ST-GCN block without TCN: partitioned graph conv + LayerNorm + residual + ReLU."""

    def __init__(self, c_in: int, c_out: int, a: torch.Tensor, edge_importance: bool, dropout: float):
        super().__init__()
        self.register_buffer("A", a, persistent=False)
        self.k = a.shape[0]
        self.c_out = c_out
        self.conv = nn.Linear(c_in, self.k * c_out)
        self.importance = nn.Parameter(torch.ones_like(a)) if edge_importance else None
        self.norm = nn.LayerNorm(c_out)
        self.residual = nn.Identity() if c_in == c_out else nn.Linear(c_in, c_out)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (N, V, C)
        n, v, _ = x.shape
        a = self.A if self.importance is None else self.A * self.importance
        y = self.conv(x).view(n, v, self.k, self.c_out)
        y = torch.einsum("nvkc,kvw->nwc", y, a.to(y.dtype))
        return torch.relu(self.dropout(self.norm(y)) + self.residual(x))


class PoseEmbedding(nn.Module):
    """Embed poses (B, T, 79, C) frame by frame into one (B, T, dim) sequence per stream."""

    def __init__(self, cfg: EmbeddingConfig, streams: tuple[str, ...]):
        super().__init__()
        self.cfg = cfg
        self.streams = tuple(streams)
        for s in self.streams:
            self.register_buffer(
                f"idx_{s}", torch.as_tensor(SL79.groups[s], dtype=torch.long), persistent=False
            )
        if cfg.kind == "gcn":
            a = torch.from_numpy(partitioned_adjacency(cfg.partition, cfg.max_hop))
            chans = (cfg.in_channels, *cfg.gcn_channels)
            self.gcn = nn.Sequential(
                *[
                    SpatialGraphConv(ci, co, a, cfg.edge_importance, cfg.dropout)
                    for ci, co in zip(chans, chans[1:])
                ]
            )
            node_dim = chans[-1]
        elif cfg.kind == "linear":
            self.gcn = None
            node_dim = cfg.in_channels
        else:
            raise ValueError(f"unknown embedding kind {cfg.kind!r}; use 'gcn' or 'linear'")
        self.proj = nn.ModuleDict(
            {s: nn.Linear(len(SL79.groups[s]) * node_dim, cfg.dim) for s in self.streams}
        )

    def forward(self, pose: torch.Tensor, frame_mask: torch.Tensor) -> dict[str, torch.Tensor]:
        b, t = pose.shape[:2]
        x = pose[frame_mask]  # (N_valid, 79, C): padding frames are never embedded
        if self.gcn is not None:
            x = self.gcn(x)
        out = {}
        for s in self.streams:
            nodes = x.index_select(1, getattr(self, f"idx_{s}")).flatten(1)
            y = self.proj[s](nodes)
            full = y.new_zeros(b, t, y.shape[-1])
            full[frame_mask] = y
            out[s] = full
        return out
