"""Transformer encoder block of the branch encoders MEnc / Non_MEnc.

Pre-norm (``norm_first``, the default): ``x = x + Drop(SelfAttn(LN1(x)))``, ``x = x + Drop(FFN(LN2(x)))``
with ``FFN(x) = fc2(Drop(GELU(fc1(x))))``; post-norm puts each LayerNorm after its residual sum instead.
Multi-head self-attention uses one fused q/k/v projection, ignores padding keys and calls the attention
function named by ``attn_impl`` (:func:`mslu.models.kernels.attention_function`). Dropout (one rate) is
applied to the attention probabilities, after GELU and on both residual branches, as in
``nn.TransformerEncoderLayer``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from mslu.models.kernels import FusedLinear, attention_function, check_attention


class SelfAttention(nn.Module):
    """``forward(x (B,T,W), key_mask (B,T) bool True = valid) -> (B,T,W)``."""

    def __init__(self, width: int, heads: int, dropout: float = 0.0, attn_impl: str = "sdpa"):
        super().__init__()
        if width % heads:
            raise ValueError(f"width {width} is not a multiple of heads {heads}")
        self.heads, self.dropout, self.attn_impl = heads, dropout, check_attention(attn_impl)
        self.qkv = FusedLinear(width, 3 * width)
        self.out_proj = FusedLinear(width, width)
        nn.init.xavier_uniform_(self.qkv.weight)  # nn.MultiheadAttention's initialisation
        nn.init.zeros_(self.qkv.bias)
        nn.init.zeros_(self.out_proj.bias)

    def forward(self, x: torch.Tensor, key_mask: torch.Tensor | None) -> torch.Tensor:
        b, t, w = x.shape
        q, k, v = self.qkv(x).view(b, t, 3, self.heads, w // self.heads).permute(2, 0, 3, 1, 4).unbind(0)
        attend = attention_function(self.attn_impl, x.device.type)
        out = attend(q, k, v, key_mask, self.dropout if self.training else 0.0)  # (B, T, H, d)
        return self.out_proj(out.reshape(b, t, w))


class EncoderBlock(nn.Module):
    """``forward(x (B,T,W), key_mask (B,T) bool True = valid) -> (B,T,W)``."""

    def __init__(
        self,
        width: int,
        heads: int,
        ffn_dim: int,
        dropout: float = 0.0,
        attn_impl: str = "sdpa",
        norm_first: bool = True,
    ):
        super().__init__()
        self.norm_first = norm_first
        self.norm1 = nn.LayerNorm(width)
        self.self_attn = SelfAttention(width, heads, dropout, attn_impl)
        self.norm2 = nn.LayerNorm(width)
        self.fc1 = FusedLinear(width, ffn_dim)
        self.fc2 = FusedLinear(ffn_dim, width)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, key_mask: torch.Tensor | None) -> torch.Tensor:
        if self.norm_first:
            x = x + self.dropout(self.self_attn(self.norm1(x), key_mask))
            return x + self.dropout(self.feed_forward(self.norm2(x)))
        x = self.norm1(x + self.dropout(self.self_attn(x, key_mask)))
        return self.norm2(x + self.dropout(self.feed_forward(x)))

    def feed_forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.dropout(F.gelu(self.fc1(x))))
