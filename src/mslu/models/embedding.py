"""Frame-wise pose embedding ``Embed`` of Eq. 1: a spatial GCN over the SL79 graph, or a linear projector.

GCN (paper Sec. III-B, after ST-GCN [56]): ST-GCN blocks with the temporal edges removed from the graph and
the TCN sub-module disabled, i.e. every block is a spatial graph convolution with ST-GCN's partitioned
adjacency (``spatial``: root / centripetal / centrifugal w.r.t. ``SL79_CENTER``, in the ST-GCN reference
code's convention; or ``distance`` / ``uniform``), learnable edge importance, a residual connection and ReLU.
The same weights are applied to every frame. Deviation (documented): the normalisation layer is a LayerNorm
(over each node's channels, or with ``norm="frame"`` over a frame's nodes and channels; per-channel affine
in both) instead of BatchNorm, so padding frames and the per-rank batch composition cannot change the
result (DDP gives exactly single-process results). Only valid frames are embedded; padding frames get zeros.

After the GCN, the node features of each stream (``SL79.groups["manual"]``: 53 body + hand nodes,
``SL79.groups["non_manual"]``: 26 face + mouth nodes) are flattened (joint identity kept) and projected
linearly to ``dim`` (512 in the paper) per stream. The ``linear`` embedding (Tab. XIX) flattens the stream's
raw (x, y, conf) keypoints and projects them linearly.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from mslu.models.config import EmbeddingConfig
from mslu.models.kernels import FusedLinear, use_dense_graph_conv
from mslu.models.kernels.graph_conv import dense_graph_conv, factored_graph_conv
from mslu.pose.layouts import SL79
from mslu.pose.skeleton import SL79_CENTER, SL79_EDGES, hop_distance


def _normalize_digraph(a: np.ndarray) -> np.ndarray:
    deg = a.sum(0)
    inv = np.where(deg > 0, 1.0 / np.maximum(deg, 1e-12), 0.0)
    return a * inv[None, :]


def partitioned_adjacency(
    strategy: str = "spatial", max_hop: int = 1, center: int = SL79_CENTER, nodes: list[int] | None = None
) -> np.ndarray:
    """ST-GCN's partitioned, normalised adjacency ``A`` of shape (K, V, V); ``out[w] = sum_v x[v] A[k, v,
    w]``. ``nodes``: the graph induced on these SL79 nodes (in this order) instead of the whole skeleton;
    its centre is the node nearest ``center`` in the whole skeleton."""
    if nodes is None:
        hop = hop_distance()
    else:
        index = {n: i for i, n in enumerate(nodes)}
        edges = [(index[a], index[b]) for a, b in SL79_EDGES if a in index and b in index]
        hop = hop_distance(len(nodes), edges)
        center = index.get(center, int(np.argmin(hop_distance()[center, nodes])))
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


# A layer whose per-frame dense kernel (V * C_in) x (V * C_out) has at most this many entries is "narrow":
# on CPU it runs as one dense matmul per frame (mslu.models.kernels.graph_conv).
DENSE_KERNEL_MAX = 1 << 21


class SpatialGraphConv(nn.Module):
    """One ST-GCN block without TCN: partitioned graph conv + LayerNorm + residual + ReLU.

    The graph conv is ST-GCN's (``conv`` = 1x1 projection to K partitions, then ``out[w] = sum_k sum_v
    y_k[v] A_k[v, w]``, edge importance multiplying A), computed in the factored form on nodes-first
    ``(V, N, C)`` features (:meth:`forward_nodes_first`) or in the dense form on frames-first ``(N, V, C)``
    ones (:meth:`forward_dense`), see :mod:`mslu.models.kernels.graph_conv`; ``forward`` takes frames-first
    input and picks the form by device (:meth:`runs_dense`). The residual projection is fused into a
    matmul's accumulation and its bias into the LayerNorm shift, so the block uses ``conv`` and ``residual``
    through their parameters (forward hooks on them do not fire).
    """

    def __init__(
        self,
        c_in: int,
        c_out: int,
        a: torch.Tensor,
        edge_importance: bool,
        dropout: float,
        node_order: torch.Tensor | None = None,
        norm: str = "node",
    ):
        super().__init__()
        self.register_buffer("A", a, persistent=False)
        # order of the nodes in the input (None: the layout's order); A / importance stay in the layout's
        # order so that checkpoints do not depend on it
        self.register_buffer("node_order", node_order, persistent=False)
        self.k = a.shape[0]
        self.c_out = c_out
        self.conv = nn.Linear(c_in, self.k * c_out)
        self.importance = nn.Parameter(torch.ones_like(a)) if edge_importance else None
        if norm not in ("node", "frame"):
            raise ValueError(f"unknown GCN norm {norm!r}; use 'node' or 'frame'")
        self.norm_over = norm
        self.norm = nn.LayerNorm(c_out)
        self.residual = nn.Identity() if c_in == c_out else nn.Linear(c_in, c_out)
        self.dropout = nn.Dropout(dropout)
        v = a.shape[1]
        self.narrow = (v * c_in) * (v * c_out) <= DENSE_KERNEL_MAX

    def runs_dense(self, device_type: str) -> bool:
        return use_dense_graph_conv(device_type, self.narrow)

    def _adjacency(self) -> torch.Tensor:
        """(K, V, W) adjacency with edge importance, in the input's node order."""
        a = self.A if self.importance is None else self.A * self.importance
        if self.node_order is not None:
            a = a[:, self.node_order][:, :, self.node_order]
        return a

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (N, V, C)
        if self.runs_dense(x.device.type):
            return self.forward_dense(x)
        return self.forward_nodes_first(x.transpose(0, 1)).transpose(0, 1)

    def forward_dense(self, x: torch.Tensor) -> torch.Tensor:
        """(N, V, C_in) -> (N, V, C_out) with the dense per-frame kernel."""
        y = dense_graph_conv(x, self._adjacency(), self.conv.weight, self.conv.bias)
        return self._finish(y, x, nodes_first=False)

    def forward_nodes_first(self, x: torch.Tensor) -> torch.Tensor:
        """(V, N, C_in) -> (V, N, C_out) in the factored form."""
        y = factored_graph_conv(x, self._adjacency(), self.conv.weight, self.conv.bias)
        return self._finish(y, x, nodes_first=True)

    def _layer_norm(self, y: torch.Tensor, shift: torch.Tensor, nodes_first: bool) -> torch.Tensor:
        """LayerNorm with per-channel scale / ``shift``, over each node's channels or each frame's nodes and
        channels (``norm``)."""
        co = self.c_out
        if self.norm_over == "node":
            return F.layer_norm(y, (co,), self.norm.weight, shift, self.norm.eps)
        yf = y.transpose(0, 1) if nodes_first else y  # frames-first (N, V, C)
        v = yf.shape[1]
        out = F.layer_norm(yf, (v, co), self.norm.weight.expand(v, co), shift.expand(v, co), self.norm.eps)
        return out.transpose(0, 1) if nodes_first else out

    def _finish(self, y: torch.Tensor, x: torch.Tensor, nodes_first: bool) -> torch.Tensor:
        """LayerNorm, dropout, residual, ReLU; ``y`` and ``x`` in the same 3-d layout."""
        co = self.c_out
        if isinstance(self.residual, nn.Linear):
            shift = self.norm.bias + self.residual.bias  # residual bias folded into the LayerNorm shift
            y = self._layer_norm(y, shift, nodes_first)
            y = self.dropout(y) if self.dropout.p > 0 else y
            rows = y.shape[0] * y.shape[1]
            y = torch.addmm(y.reshape(rows, co), x.reshape(rows, x.shape[2]), self.residual.weight.t())
            return torch.relu(y).view(x.shape[0], x.shape[1], co)
        y = self._layer_norm(y, self.norm.bias, nodes_first)
        y = self.dropout(y) if self.dropout.p > 0 else y
        return torch.relu(y + x)


def skips_padding(device_type: str) -> bool:
    """On CPU padding frames are left out of the embedding (less work); elsewhere every frame is embedded
    and the padding rows are zeroed: the same output, without the host reading the frame mask."""
    return device_type == "cpu"


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
            # nodes ordered stream by stream; with one stream (Tab. XV) the graph is the one induced on its
            # own keypoints, so the other stream's keypoints reach nothing
            first = [i for s in self.streams for i in SL79.groups[s]]
            if len(first) == SL79.num_keypoints:
                a = torch.from_numpy(partitioned_adjacency(cfg.partition, cfg.max_hop))
                order, layer_order = torch.as_tensor(first), torch.as_tensor(first)
            else:
                a = torch.from_numpy(partitioned_adjacency(cfg.partition, cfg.max_hop, nodes=first))
                order, layer_order = torch.as_tensor(first), None
            self.register_buffer("node_order", order, persistent=False)
            self.stream_sizes = [len(SL79.groups[s]) for s in self.streams]
            chans = (cfg.in_channels, *cfg.gcn_channels)
            self.gcn = nn.Sequential(
                *[
                    SpatialGraphConv(ci, co, a, cfg.edge_importance, cfg.dropout, layer_order, cfg.norm)
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
            {s: FusedLinear(len(SL79.groups[s]) * node_dim, cfg.dim) for s in self.streams}
        )

    def forward(self, pose: torch.Tensor, frame_mask: torch.Tensor) -> dict[str, torch.Tensor]:
        b, t, v, c = pose.shape
        all_valid = not skips_padding(pose.device.type) or bool(frame_mask.all())  # host read: CPU only
        x = pose.reshape(b * t, v, c) if all_valid else pose[frame_mask]
        n = x.shape[0]
        out = {}
        if self.gcn is not None:
            # nodes ordered stream by stream, so each stream's nodes are one contiguous slice; dense layers
            # run frames-first (N, V, C), factored ones nodes-first (V, N, C)
            h = x.index_select(1, self.node_order)
            nodes_first = False
            for layer in self.gcn:
                if layer.runs_dense(h.device.type):
                    h = h.transpose(0, 1) if nodes_first else h
                    h, nodes_first = layer.forward_dense(h), False
                else:
                    h = h if nodes_first else h.transpose(0, 1)
                    h, nodes_first = layer.forward_nodes_first(h), True
            if nodes_first:
                parts = torch.split(h, self.stream_sizes, dim=0)
                feats = {s: p.transpose(0, 1).reshape(n, -1) for s, p in zip(self.streams, parts)}
            else:
                parts = torch.split(h, self.stream_sizes, dim=1)
                feats = {s: p.reshape(n, -1) for s, p in zip(self.streams, parts)}
        else:
            feats = {s: x.index_select(1, getattr(self, f"idx_{s}")).flatten(1) for s in self.streams}
        for s in self.streams:
            y = self.proj[s](feats[s])
            if all_valid:
                out[s] = y.view(b, t, -1) * frame_mask.unsqueeze(-1).to(y.dtype)
            else:
                rows = frame_mask.reshape(-1).nonzero().squeeze(1)
                out[s] = y.new_zeros(b * t, y.shape[-1]).index_copy(0, rows, y).view(b, t, -1)
        return out
