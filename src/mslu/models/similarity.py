"""Sign-text similarity: fine-grained psi_FSTS (Eq. 4 and the paragraph after it) and the coarse variant.

Fine-grained, for a sign sequence i and a text j (all B x B pairs at once, no Python loop over pairs):

1. ``F_text = MLP(F_TE)`` (m x d_e); ``F_sign = MLP(AvgPool(F_SE, s))`` (n x d_e). The average pooling uses
   non-overlapping windows of ``s`` frames over valid frames only (a window's mean ignores padding frames), so
   a sequence of t valid frames gives n = ceil(t / s) clips.
2. Both are L2-normalised; ``Z = F_sign,i F_text,j^T`` (n x m, cosine similarities); padded words and
   clips are masked.
3. Row softmax over the words of T_j, then "multiply the resulting matrix with Z" is read element-wise:
   ``Zhat = softmax_row(Z) * Z`` -- each clip's similarities re-weighted by its attention over the words.
4. Row sums (one value per clip), then the mean over the valid clips gives m_ij.

All tokens of the text (including the <eos> and language tokens of Eq. 2 and any [CLS]) take part.
All B x B pairs are computed at once (:mod:`mslu.models.kernels.similarity`: one matmul, written-out
backward). The matmuls run in the autocast dtype when autocast is on (``matmul="autocast"``: bf16 inputs,
float32 accumulation; m_ij moves by ~1e-4) or in float32 (``matmul="float32"``); everything after them is
float32. ``chunk`` > 0 bounds memory to O(B * chunk * n * m) by looping over blocks of texts.

Coarse-grained (Tab. XVIII): pose = learnable [CLS] output of the encoder, text = mean of its token features;
m_ij = cosine similarity of the projected global features.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from mslu.models.kernels import fine_similarity_function


def mlp(in_dim: int, out_dim: int) -> nn.Sequential:
    """Two-layer projector."""
    return nn.Sequential(nn.Linear(in_dim, out_dim), nn.GELU(), nn.Linear(out_dim, out_dim))


def window_pool(
    features: torch.Tensor, frame_mask: torch.Tensor, s: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """AvgPool(F, s) over valid frames: (B, T, D), (B, T) -> clips (B, ceil(T/s), D), clip mask (B,
    ceil(T/s))."""
    if s < 1:
        raise ValueError(f"window size s must be >= 1, got {s}")
    b, t, d = features.shape
    n = math.ceil(t / s)
    pad = n * s - t
    w = frame_mask.to(features.dtype)
    f = F.pad(features * w.unsqueeze(-1), (0, 0, 0, pad)).view(b, n, s, d).sum(2)
    cnt = F.pad(w, (0, pad)).view(b, n, s).sum(2)
    return f / cnt.clamp(min=1).unsqueeze(-1), cnt > 0


MATMUL_MODES = ("autocast", "float32")


def _check_matmul(matmul: str) -> str:
    if matmul not in MATMUL_MODES:
        raise ValueError(f"unknown similarity matmul {matmul!r}; use one of {MATMUL_MODES}")
    return matmul


def _matmul_dtype(device: torch.device, matmul: str) -> torch.dtype:
    if _check_matmul(matmul) == "autocast" and torch.is_autocast_enabled(device.type):
        return torch.get_autocast_dtype(device.type)
    return torch.float32


def fine_similarity(
    sign: torch.Tensor,
    sign_mask: torch.Tensor,
    text: torch.Tensor,
    text_mask: torch.Tensor,
    chunk: int = 0,
    matmul: str = "autocast",
) -> torch.Tensor:
    """m_ij for every sign i (B1, n, d) and text j (B2, m, d) -> (B1, B2) float32. Inputs need not be
    normalised."""
    mm_dtype = _matmul_dtype(sign.device, matmul)
    with torch.autocast(sign.device.type, enabled=False):
        sign = F.normalize(sign.float(), dim=-1)
        text = F.normalize(text.float(), dim=-1)
        valid = sign_mask.float()
        clip_weight = valid / valid.sum(-1, keepdim=True).clamp(min=1)
        words = text_mask.float()
        step = max(text.shape[0] if chunk <= 0 else chunk, 1)
        fn = fine_similarity_function()
        out = [
            fn(sign, text[j : j + step], clip_weight, words[j : j + step], mm_dtype)
            for j in range(0, text.shape[0], step)
        ]
        if not out:
            return sign.new_zeros(sign.shape[0], 0)
        return torch.cat(out, dim=1)


def coarse_similarity(sign: torch.Tensor, text: torch.Tensor) -> torch.Tensor:
    """Cosine similarity of global features (B1, d) x (B2, d) -> (B1, B2)."""
    with torch.autocast(sign.device.type, enabled=False):
        return F.normalize(sign.float(), dim=-1) @ F.normalize(text.float(), dim=-1).T


def masked_mean(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    w = mask.to(x.dtype).unsqueeze(-1)
    return (x * w).sum(1) / w.sum(1).clamp(min=1)


class SignTextSimilarity(nn.Module):
    """Projectors + similarity. ``kind="fine"`` (psi_FSTS) or ``"coarse"``."""

    def __init__(
        self,
        sign_dim: int,
        text_dim: int,
        embed_dim: int = 512,
        window: int = 4,
        kind: str = "fine",
        chunk: int = 0,
        matmul: str = "autocast",
    ):
        super().__init__()
        if kind not in ("fine", "coarse"):
            raise ValueError(f"unknown similarity {kind!r}; use 'fine' or 'coarse'")
        self.kind, self.window, self.chunk, self.matmul = kind, window, chunk, _check_matmul(matmul)
        self.sign_proj = mlp(sign_dim, embed_dim)
        self.text_proj = mlp(text_dim, embed_dim)

    def embed_sign(
        self, f_se: torch.Tensor, frame_mask: torch.Tensor, cls: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """F_sign (B, n, d_e) and its clip mask (fine), or (B, 1, d_e) from [CLS] (coarse)."""
        if self.kind == "coarse":
            if cls is None:
                raise ValueError(
                    "coarse similarity needs the encoder's [CLS] output (encoder.cls_token=True)"
                )
            return self.sign_proj(cls).unsqueeze(1), frame_mask.new_ones(cls.shape[0], 1, dtype=torch.bool)
        clips, clip_mask = window_pool(f_se, frame_mask, self.window)
        return self.sign_proj(clips), clip_mask

    def embed_text(self, f_te: torch.Tensor, text_mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """F_text (B, m, d_e) and its mask (fine), or (B, 1, d_e) from the mean of the tokens (coarse)."""
        if self.kind == "coarse":
            g = masked_mean(f_te, text_mask)
            return self.text_proj(g).unsqueeze(1), text_mask.new_ones(g.shape[0], 1, dtype=torch.bool)
        return self.text_proj(f_te), text_mask.bool()

    def similarity(
        self, sign: torch.Tensor, sign_mask: torch.Tensor, text: torch.Tensor, text_mask: torch.Tensor
    ) -> torch.Tensor:
        """Similarity matrix M (B1, B2) of embedded signs and texts."""
        if self.kind == "coarse":
            return coarse_similarity(sign[:, 0], text[:, 0])
        return fine_similarity(sign, sign_mask, text, text_mask, self.chunk, self.matmul)
