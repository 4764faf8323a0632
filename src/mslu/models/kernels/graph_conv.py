"""ST-GCN's spatial graph convolution in two mathematically identical forms.

``out[w] = sum_k sum_v A_k[v, w] (W_k x[v] + b_k)`` for a (K, V, W) adjacency ``a`` and a 1x1 projection
``weight`` (K * C_out, C_in), ``bias`` (K * C_out) (partition k's rows are ``k * C_out ... (k+1) * C_out``):

* :func:`factored_graph_conv`, "aggregate, then project", nodes-first ``(V, N, C)``: one big matmul of the
  stacked adjacency with all frames' node features, one batched matmul with the stacked weights; these are
  the model's nominal FLOPs;
* :func:`dense_graph_conv`, frames-first ``(N, V, C)``: the whole layer as one ``(V * C_in) x (V * C_out)``
  kernel ``K[(v, c), (w, o)] = sum_k A_k[v, w] W_k[o, c]`` applied to every frame with one matmul. More
  multiply-adds (the kernel is mostly zeros) but no reorder copies: faster on CPUs for narrow layers such as
  the first one (3 input channels). Which form runs: :func:`mslu.models.kernels.use_dense_graph_conv`.
"""

from __future__ import annotations

import torch

from mslu.models.kernels.linear import linear


def _bias(a: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """(W, C_out): ``sum_k colsum(A_k)[w] * b_k``."""
    return a.sum(1).t() @ bias.view(a.shape[0], -1)


def dense_graph_conv(
    x: torch.Tensor, a: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor
) -> torch.Tensor:
    """(N, V, C_in) -> (N, V, C_out)."""
    n, v, c = x.shape
    k = a.shape[0]
    co = weight.shape[0] // k
    kernel = torch.einsum("kvw,koc->vcwo", a, weight.view(k, co, c)).reshape(v * c, v * co)
    return linear(x.reshape(n, v * c), kernel.t(), _bias(a, bias).reshape(v * co)).view(n, v, co)


def factored_graph_conv(
    x: torch.Tensor, a: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor
) -> torch.Tensor:
    """(V, N, C_in) -> (V, N, C_out)."""
    v, n, c = x.shape
    k = a.shape[0]
    co = weight.shape[0] // k
    # aggregate: z[k, w, n, c] = sum_v a[k, v, w] x[v, n, c]  (one (K*W, V) @ (V, N*C) matmul)
    z = torch.matmul(a.transpose(1, 2).reshape(k * v, v), x.reshape(v, n * c))
    z = z.view(k, v, n, c).permute(1, 2, 0, 3).reshape(v, n, k * c)
    w = weight.view(k, co, c).permute(1, 0, 2).reshape(co, k * c)  # (C_out, K*C_in)
    return torch.baddbmm(_bias(a, bias).unsqueeze(1), z, w.t().expand(v, k * c, co))
