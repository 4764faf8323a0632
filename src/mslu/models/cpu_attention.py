"""Scaled dot-product self-attention core for CPU training, with a hand-written backward.

Takes the fused q/k/v projection ``(B, T, 3, H, d)`` and returns the heads' outputs ``(B, T, H * d)``: the
same equations and dtypes as the explicit ``baddbmm -> float32 softmax -> bmm`` form autograd would
differentiate, but the backward writes dQ, dK and dV straight into one ``(3, B*H, T, d)`` buffer (autograd's
``unbind`` backward stacks three separate gradients with an extra ``cat``: a full copy of the q/k/v
activations per layer) and scales the score gradient once instead of dQ and dK separately. Attention dropout
is not supported here (the caller falls back to autograd). ``reference_attention()`` switches to the autograd
form for comparisons.
"""

from __future__ import annotations

import torch

from mslu.models.switch import Switch

_core = Switch()


def reference_attention():
    """Differentiate attention with autograd instead of :class:`AttentionCore` inside the block."""
    return _core.off()


def enabled() -> bool:
    return _core.on


def split_heads(qkv: torch.Tensor) -> torch.Tensor:
    """(B, T, 3, H, d) -> (3, B*H, T, d), contiguous."""
    b, t, _, h, d = qkv.shape
    return qkv.permute(2, 0, 3, 1, 4).reshape(3, b * h, t, d)


def merge_heads(o: torch.Tensor, b: int) -> torch.Tensor:
    """(B*H, T, d) -> (B, T, H*d), contiguous."""
    bh, t, d = o.shape
    h = bh // b
    return o.view(b, h, t, d).transpose(1, 2).reshape(b, t, h * d)


def padding_bias(key_padding_mask: torch.Tensor | None, b: int, h: int, t: int, dtype) -> torch.Tensor:
    """Additive score bias (B*H, 1, T) (or (1, 1, T) without padding); True / -inf = ignored key."""
    if key_padding_mask is None:
        return torch.zeros(1, 1, t, dtype=dtype)
    if key_padding_mask.dtype == torch.bool:
        bias = key_padding_mask.new_zeros(b, 1, t, dtype=dtype)
        bias = bias.masked_fill(key_padding_mask.view(b, 1, t), float("-inf"))
    else:
        bias = key_padding_mask.view(b, 1, t).to(dtype)
    return bias.unsqueeze(1).expand(b, h, 1, t).reshape(b * h, 1, t)


def attention_probs(q: torch.Tensor, k: torch.Tensor, bias: torch.Tensor, scale: float) -> torch.Tensor:
    """Softmax over keys of ``scale * q k^T + bias``, in float32 (as accurate as autocast's on GPUs; and the
    CPU's bf16 softmax is slow for rows of odd length)."""
    scores = torch.baddbmm(bias.to(q.dtype), q, k.transpose(1, 2), alpha=scale)
    return scores.softmax(-1, dtype=torch.float32)


class AttentionCore(torch.autograd.Function):
    """``forward(qkv (B,T,3,H,d), bias (B*H|1, 1, T)) -> (B, T, H*d)``; ``bias`` gets no gradient."""

    @staticmethod
    def forward(ctx, qkv: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        b, t, _, h, d = qkv.shape
        q, k, v = split_heads(qkv).unbind(0)
        scale = d**-0.5
        p32 = attention_probs(q, k, bias, scale)
        p = p32.to(v.dtype)
        ctx.save_for_backward(q, k, v, p32, p)
        ctx.scale, ctx.shape = scale, qkv.shape
        return merge_heads(torch.bmm(p, v), b)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        q, k, v, p32, p = ctx.saved_tensors
        b, t, _, h, d = ctx.shape
        go = grad.reshape(b, t, h, d).transpose(1, 2).reshape(b * h, t, d).to(v.dtype)
        dqkv = q.new_empty(3, b * h, t, d)
        torch.bmm(p.transpose(1, 2), go, out=dqkv[2])  # dV = P^T dO
        dp = torch.bmm(go, v.transpose(1, 2)).float()  # dP = dO V^T
        ds = torch._softmax_backward_data(dp, p32, -1, torch.float32)
        ds = ds.mul_(ctx.scale).to(q.dtype)  # dS = scale * softmax'(dP)
        torch.bmm(ds, k, out=dqkv[0])  # dQ = dS K
        torch.bmm(ds.transpose(1, 2), q, out=dqkv[1])  # dK = dS^T Q
        gqkv = dqkv.view(3, b, h, t, d).permute(1, 3, 0, 2, 4).contiguous()
        return gqkv, None
