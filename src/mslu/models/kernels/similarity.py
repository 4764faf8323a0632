"""The fine-grained similarity m_ij of Eq. 4 for all pairs, with a written-out backward.

Inputs: L2-normalised clips ``sign`` (B1, n, d) and words ``text`` (B2, m, d), each clip's weight in the
mean over clips ``clip_weight`` (B1, n) (1 / #valid clips, 0 for padding), the word mask ``word_mask``
(B2, m) as 0 / 1 floats and the dtype of Z's matmuls. Output (B1, B2) float32.

Z (B1, n, B2, m) comes from one matmul of all clips with all words, laid out (sign, clip, text, word) so
that every reduction over words runs over contiguous memory. The softmax needs no max shift (cosines lie in
[-1, 1]) and is folded into the row sums ``r = sum_b P_b Z_b``; the backward is written out: ``dZ_b = dL/dr
* P_b * (1 + Z_b - r)`` (product rule plus the softmax's Jacobian), then two matmuls for the clip and word
gradients. :func:`fine_similarity_autograd` is the same computation step by step, for comparisons.
"""

from __future__ import annotations

import torch


class FineSimilarity(torch.autograd.Function):
    @staticmethod
    def forward(ctx, sign, text, clip_weight, word_mask, mm_dtype):
        b1, n, d = sign.shape
        b2, m, _ = text.shape
        s = sign.reshape(b1 * n, d).to(mm_dtype)
        t = text.reshape(b2 * m, d).to(mm_dtype)
        z = torch.mm(s, t.t()).float().view(b1, n, b2, m)  # Z for every (sign, clip, text, word)
        e = z.exp().mul_(word_mask)  # softmax numerators, padded words 0 (|Z| <= 1: no overflow)
        denom = e.sum(-1).clamp_(min=torch.finfo(torch.float32).tiny)  # a text without words gives r = 0
        r = (e * z).sum(-1).div_(denom)  # row sums of softmax_row(Z) * Z: (B1, n, B2)
        ctx.save_for_backward(s, t, z, e, r, denom, clip_weight)
        ctx.dtypes = (sign.dtype, text.dtype)
        return torch.einsum("iaj,ia->ij", r, clip_weight)

    @staticmethod
    def backward(ctx, grad):
        s, t, z, e, r, denom, clip_weight = ctx.saved_tensors
        b1, n, b2, m = z.shape
        with torch.autocast(z.device.type, enabled=False):  # backward() may be called under autocast
            g_row = (grad.unsqueeze(1) * clip_weight.unsqueeze(2)).div_(denom)  # dL/dr / denom
            # d r / d Z_b = P_b (1 + Z_b - r): the product rule plus the softmax's Jacobian
            gz = (z - r.unsqueeze(-1)).add_(1.0).mul_(e).mul_(g_row.unsqueeze(-1))  # z itself kept
            gz = gz.view(b1 * n, b2 * m).to(s.dtype)
            g_sign = torch.mm(gz, t).view(b1, n, -1).to(ctx.dtypes[0])
            g_text = torch.mm(gz.t(), s).view(b2, m, -1).to(ctx.dtypes[1])
        return g_sign, g_text, None, None, None


def fine_similarity_written(sign, text, clip_weight, word_mask, mm_dtype) -> torch.Tensor:
    return FineSimilarity.apply(sign, text, clip_weight, word_mask, mm_dtype)


def fine_similarity_autograd(sign, text, clip_weight, word_mask, mm_dtype) -> torch.Tensor:
    z = torch.einsum("iad,jbd->iajb", sign.to(mm_dtype), text.to(mm_dtype)).float()
    pad = word_mask[None, None] == 0
    att = z.masked_fill(pad, float("-inf")).softmax(-1).nan_to_num(0.0)
    r = (att * z).sum(-1)
    return torch.einsum("iaj,ia->ij", r, clip_weight)
