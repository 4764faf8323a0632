"""Attention functions: ``fn(q, k, v, key_mask, dropout=0.0) -> (B, T, H, d)``, softmax(q k^T / sqrt(d)) v.

``q``, ``k``, ``v``: (B, H, T, d). ``key_mask``: (B, T) bool, True = a key that takes part (None: all of
them). ``dropout``: on the attention probabilities (give 0 outside training). Three implementations of the
same equations, chosen by name through :func:`mslu.models.kernels.attention_function`:

* ``sdpa_attention``: ``F.scaled_dot_product_attention`` (flash / memory-efficient kernels on GPUs; on CPU
  with autograd its math kernel, whose backward is faster than the CPU flash kernel's at these sizes);
* ``eager_attention``: written out (``baddbmm`` with the padding bias, float32 softmax, ``bmm``) and
  differentiated by autograd: the reference;
* ``fused_cpu_attention``: the eager forward with a hand-written backward (:class:`AttentionCore`) that
  writes dQ, dK and dV into one buffer and scales the score gradient once. Attention dropout is not part of
  it: with dropout it runs the eager form.
"""

from __future__ import annotations

from contextlib import nullcontext

import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel


def padding_bias(key_mask: torch.Tensor | None, heads: int, like: torch.Tensor) -> torch.Tensor:
    """Additive score bias (B*H, 1, T) in ``like``'s dtype and device, -inf on ignored keys; (1, 1, T) zeros
    without a mask (T = ``like.shape[-2]``)."""
    t = like.shape[-2]
    if key_mask is None:
        return like.new_zeros(1, 1, t)
    b = key_mask.shape[0]
    bias = like.new_zeros(b, 1, 1, t)
    bias = bias.masked_fill(~key_mask.view(b, 1, 1, t), float("-inf"))
    return bias.expand(b, heads, 1, t).reshape(b * heads, 1, t)


def attention_probs(q: torch.Tensor, k: torch.Tensor, bias: torch.Tensor, scale: float) -> torch.Tensor:
    """Softmax over keys of ``scale * q k^T + bias`` for (B*H, T, d) inputs, in float32 (as autocast does
    on GPUs; the CPU's bf16 softmax is also slow for rows of odd length)."""
    scores = torch.baddbmm(bias.to(q.dtype), q, k.transpose(1, 2), alpha=scale)
    return scores.softmax(-1, dtype=torch.float32)


def _heads_first(x: torch.Tensor) -> torch.Tensor:
    """(B, H, T, d) -> (B*H, T, d)."""
    b, h, t, d = x.shape
    return x.reshape(b * h, t, d)


def eager_attention(q, k, v, key_mask=None, dropout: float = 0.0) -> torch.Tensor:
    b, h, t, d = q.shape
    bias = padding_bias(key_mask, h, k)
    p = attention_probs(_heads_first(q), _heads_first(k), bias, d**-0.5).to(v.dtype)
    p = F.dropout(p, dropout) if dropout > 0 else p
    return torch.bmm(p, _heads_first(v)).view(b, h, t, d).transpose(1, 2)


def sdpa_attention(q, k, v, key_mask=None, dropout: float = 0.0) -> torch.Tensor:
    mask = None if key_mask is None else key_mask[:, None, None, :]
    cpu_training = q.device.type == "cpu" and torch.is_grad_enabled()
    with sdpa_kernel([SDPBackend.MATH]) if cpu_training else nullcontext():
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=dropout)
    return out.transpose(1, 2)


def fused_cpu_attention(q, k, v, key_mask=None, dropout: float = 0.0) -> torch.Tensor:
    if dropout > 0:
        return eager_attention(q, k, v, key_mask, dropout)
    b, h, t, d = q.shape
    bias = padding_bias(key_mask, h, k)
    return AttentionCore.apply(q, k, v, bias).view(b, t, h, d)


class AttentionCore(torch.autograd.Function):
    """``forward(q, k, v (B,H,T,d), bias (B*H|1, 1, T)) -> (B, T, H*d)``; ``bias`` gets no gradient.

    Same equations and dtypes as :func:`eager_attention`; the backward writes dQ, dK and dV into one
    (3, B*H, T, d) buffer (returned as views: the caller's q/k/v split then costs one copy, not two)."""

    @staticmethod
    def forward(ctx, q, k, v, bias):
        b, h, t, d = q.shape
        q, k, v = torch.stack((q, k, v)).view(3, b * h, t, d).unbind(0)
        scale = d**-0.5
        p32 = attention_probs(q, k, bias, scale)
        p = p32.to(v.dtype)
        ctx.save_for_backward(q, k, v, p32, p)
        ctx.scale, ctx.shape = scale, (b, h, t, d)
        return torch.bmm(p, v).view(b, h, t, d).transpose(1, 2).reshape(b, t, h * d)

    @staticmethod
    def backward(ctx, grad):
        q, k, v, p32, p = ctx.saved_tensors
        b, h, t, d = ctx.shape
        go = grad.reshape(b, t, h, d).transpose(1, 2).reshape(b * h, t, d).to(v.dtype)
        dqkv = q.new_empty(3, b * h, t, d)
        torch.bmm(p.transpose(1, 2), go, out=dqkv[2])  # dV = P^T dO
        dp = torch.bmm(go, v.transpose(1, 2)).float()  # dP = dO V^T
        ds = torch._softmax_backward_data(dp, p32, -1, torch.float32)
        ds = ds.mul_(ctx.scale).to(q.dtype)  # dS = scale * softmax'(dP)
        torch.bmm(ds, k, out=dqkv[0])  # dQ = dS K
        torch.bmm(ds.transpose(1, 2), q, out=dqkv[1])  # dK = dS^T Q
        dq, dk, dv = dqkv.view(3, b, h, t, d).unbind(0)
        return dq, dk, dv, None
