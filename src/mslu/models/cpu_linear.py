"""Linear layer for CPU bf16 training: oneDNN's linear with the bias fused into the matmul.

Under CPU bf16 autocast, ``F.linear`` runs ``addmm``, which first copies the broadcast bias into the output
and then accumulates the matmul into it: one extra pass over the (rows x out_features) output, as costly as a
GELU on this memory-bound work. :func:`linear` calls ``torch.ops.mkldnn._linear_pointwise`` (the oneDNN
primitive PyTorch's own compiler uses on x86 CPUs) instead, with the bias applied inside the kernel, and
computes the backward with the same matmuls as ``addmm``'s. Same equations, same dtypes as autocast; used
only on CPU with bf16 autocast and autograd on, everywhere else it is ``F.linear``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from mslu.models.switch import Switch

_fused = Switch()
_available: bool | None = None


def plain_linear():
    """Use ``F.linear`` everywhere inside the block (for comparisons and tests)."""
    return _fused.off()


def _mkldnn_available() -> bool:
    global _available
    if _available is None:
        try:
            x = torch.zeros(2, 4, dtype=torch.bfloat16)
            w = torch.zeros(3, 4, dtype=torch.bfloat16)
            torch.ops.mkldnn._linear_pointwise(x, w, torch.zeros(3, dtype=torch.bfloat16), "none", [], "")
            _available = True
        except (AttributeError, RuntimeError, NotImplementedError):
            _available = False
    return _available


class _FusedBiasLinear(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
        ctx.save_for_backward(x, weight)
        ctx.has_bias = bias is not None
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
        if ctx.has_bias and ctx.needs_input_grad[2]:
            gb = g.sum(0)
        return gx, gw, gb


def linear(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None) -> torch.Tensor:
    """``F.linear(x, weight, bias)``; on CPU under bf16 autocast with autograd, the fused-bias oneDNN path."""
    if (
        _fused.on
        and bias is not None
        and x.device.type == "cpu"
        and torch.is_grad_enabled()
        and torch.is_autocast_enabled("cpu")
        and torch.get_autocast_dtype("cpu") == torch.bfloat16
        and x.shape[-1] == weight.shape[1]
        and _mkldnn_available()
    ):
        dt = torch.bfloat16
        with torch.autocast("cpu", enabled=False):
            return _FusedBiasLinear.apply(x.to(dt), weight.to(dt), bias.to(dt))
    return F.linear(x, weight, bias)
