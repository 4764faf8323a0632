"""Linear layer for CPU bf16 training: oneDNN's linear with the bias fused into the matmul.

Under CPU bf16 autocast, ``F.linear`` runs ``addmm``, which first copies the broadcast bias into the output
and then accumulates the matmul into it: one extra pass over the (rows x out_features) output.
:func:`linear` calls ``torch.ops.mkldnn._linear_pointwise`` (the oneDNN primitive PyTorch's own compiler
uses on x86 CPUs) instead, with the bias applied inside the kernel, and computes the backward with the same
matmuls as ``addmm``'s: same outputs, gradients and dtypes as autocast. Where it applies is decided by
:func:`mslu.models.kernels.use_fused_linear`; everywhere else it is ``F.linear``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from mslu.models.kernels.select import use_fused_linear


class _FusedBiasLinear(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(x, weight)
        y = torch.ops.mkldnn._linear_pointwise(x.reshape(-1, x.shape[-1]), weight, bias, "none", [], "")
        return y.view(*x.shape[:-1], weight.shape[0])

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        x, weight = ctx.saved_tensors
        g = grad.reshape(-1, grad.shape[-1])
        gx = gw = gb = None
        if ctx.needs_input_grad[0]:
            gx = (g @ weight).view(x.shape)
        if ctx.needs_input_grad[1]:
            gw = g.t() @ x.reshape(-1, x.shape[-1])
        if ctx.needs_input_grad[2]:
            gb = g.sum(0)
        return gx, gw, gb


def linear(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None) -> torch.Tensor:
    """``F.linear(x, weight, bias)``, as the fused-bias oneDNN kernel where that applies."""
    if use_fused_linear(x, weight, bias):
        dt = torch.bfloat16
        with torch.autocast("cpu", enabled=False):
            return _FusedBiasLinear.apply(x.to(dt), weight.to(dt), bias.to(dt))
    return F.linear(x, weight, bias)


class FusedLinear(nn.Linear):
    """An ``nn.Linear`` (same parameters, hooks and ``isinstance``) whose forward is :func:`linear`."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return linear(x, self.weight, self.bias)
