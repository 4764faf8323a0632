"""Objectives: L_PR (Eq. 3), L_STC (Eq. 5) with a cross-rank gather, and their helpers.

L_PR: per keypoint, the squared error averaged over (x, y), times M (masked) * C (confidence), summed. The
``reduction`` divides that sum by: ``weighted_mean`` sum(M*C) (default, stable), ``masked_mean`` the number of
masked keypoints with C > 0, ``batch_mean`` B, or ``sum`` 1 (Eq. 3 as written). Padding frames are never
masked, hence never in the loss; zero-confidence joints have weight 0.

L_STC: Eq. 5 = (CE over rows of M/tau + CE over columns of M/tau) / 2 summed over the batch, i.e. CLIP's
symmetric InfoNCE. tau is learnable via ``logit_scale = log(1/tau)`` (init tau = 0.07), exp clamped to
``max_logit_scale`` as in CLIP.

Distributed: each rank gathers the sign and text embeddings of all ranks with the autograd-aware
``torch.distributed.nn.functional.all_gather`` (variable batch / sequence sizes are padded), and computes the
loss terms of its own G_r rows (sign -> all texts) and its own G_r columns (text -> all signs), divided by 2G
(G = global number of paired samples) and multiplied by the world size W. The mean over ranks is then the
global loss, and DDP's gradient averaging (sum / W) yields exactly the single-process gradient on the global
batch, because the gather's backward sums the gradient contributions of all ranks. ``normalizer`` does the
same for L_PR.
"""

from __future__ import annotations

import torch
import torch.distributed as dist
import torch.distributed.nn.functional as dist_fn
import torch.nn.functional as F


def distributed() -> bool:
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def pose_reconstruction_terms(
    rec: torch.Tensor,
    target: torch.Tensor,
    conf: torch.Tensor,
    mask: torch.Tensor,
    reduction: str = "weighted_mean",
) -> tuple[torch.Tensor, torch.Tensor]:
    """Numerator and denominator of L_PR. rec/target (B,T,K,2), conf/mask (B,T,K)."""
    err = (rec.float() - target.float()).pow(2).mean(-1)
    w = mask.float() * conf.float().clamp(0.0, 1.0)
    num = (w * err).sum()
    if reduction == "weighted_mean":
        den = w.sum()
    elif reduction == "masked_mean":
        den = (mask & (conf > 0)).sum().float()
    elif reduction == "batch_mean":
        den = torch.tensor(float(rec.shape[0]), device=rec.device)
    elif reduction == "sum":
        den = torch.ones((), device=rec.device)
    else:
        raise ValueError(f"unknown L_PR reduction {reduction!r}")
    return num, den.detach()


def normalizer(den: torch.Tensor) -> torch.Tensor:
    """Global denominator / W (so that the rank losses average to the global loss); den itself if not DDP."""
    if not distributed():
        return den
    g = den.detach().clone()
    dist.all_reduce(g)
    return g / dist.get_world_size()


def pose_reconstruction_loss(
    rec: torch.Tensor,
    target: torch.Tensor,
    conf: torch.Tensor,
    mask: torch.Tensor,
    reduction: str = "weighted_mean",
) -> torch.Tensor:
    """L_PR (Eq. 3) on one process (0 when nothing is masked)."""
    num, den = pose_reconstruction_terms(rec, target, conf, mask, reduction)
    return num / den.clamp(min=1e-8) if reduction != "sum" else num


def _pad_to(x: torch.Tensor, shape: list[int]) -> torch.Tensor:
    pads: list[int] = []
    for have, want in zip(reversed(x.shape), reversed(shape)):
        pads += [0, want - have]
    return F.pad(x, pads)


def gather_padded(x: torch.Tensor, with_grad: bool = True) -> tuple[torch.Tensor, list[int]]:
    """All-gather tensors whose sizes differ across ranks; concatenated along dim 0 (other dims zero-padded).

    Returns the concatenation and every rank's dim-0 size.
    """
    world = dist.get_world_size()
    shape = torch.tensor(list(x.shape), dtype=torch.long, device=x.device)
    shapes = [torch.zeros_like(shape) for _ in range(world)]
    dist.all_gather(shapes, shape)
    big = torch.stack(shapes).max(0).values.tolist()
    xp = _pad_to(x, big).contiguous()
    if with_grad:
        parts = list(dist_fn.all_gather(xp))
    else:
        parts = [torch.empty_like(xp) for _ in range(world)]
        dist.all_gather(parts, xp)
    sizes = [int(s[0]) for s in shapes]
    return torch.cat([p[:n] for p, n in zip(parts, sizes)]), sizes


def info_nce(
    sim_rows: torch.Tensor,
    sim_cols: torch.Tensor,
    targets: torch.Tensor,
    logit_scale: torch.Tensor,
    total: int,
    world: int = 1,
) -> torch.Tensor:
    """Eq. 5 terms of local samples. sim_rows[r, j] = m(sign_r, text_j); sim_cols[r, j] = m(sign_j,
    text_r)."""
    if total == 0:
        return (sim_rows.sum() + sim_cols.sum()) * 0.0 + logit_scale * 0.0
    row = F.cross_entropy(logit_scale * sim_rows, targets, reduction="sum")
    col = F.cross_entropy(logit_scale * sim_cols, targets, reduction="sum")
    return (row + col) * (world / (2.0 * total))


def sign_text_contrastive_loss(
    similarity_fn,
    sign: torch.Tensor,
    sign_mask: torch.Tensor,
    text: torch.Tensor,
    text_mask: torch.Tensor,
    logit_scale: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor]:
    """L_STC over the (global) batch of paired embeddings; returns (loss, local similarity rows).

    ``similarity_fn(sign, sign_mask, text, text_mask) -> (B1, B2)``. Under torch.distributed the negatives
    come from every rank (see module docstring for the gradient scaling).
    """
    if not distributed():
        sim = similarity_fn(sign, sign_mask, text, text_mask)
        tgt = torch.arange(sim.shape[0], device=sim.device)
        return info_nce(sim, sim.T, tgt, logit_scale, sim.shape[0]), sim
    rank, world = dist.get_rank(), dist.get_world_size()
    all_sign, sizes = gather_padded(sign)
    all_sign_mask, _ = gather_padded(sign_mask.to(torch.uint8), with_grad=False)
    all_text, _ = gather_padded(text)
    all_text_mask, _ = gather_padded(text_mask.to(torch.uint8), with_grad=False)
    n_sign, n_text = all_sign.shape[1], all_text.shape[1]
    sign_l = _pad_to(sign, [sign.shape[0], n_sign, sign.shape[2]])
    sign_ml = _pad_to(sign_mask.bool(), [sign.shape[0], n_sign])
    text_l = _pad_to(text, [text.shape[0], n_text, text.shape[2]])
    text_ml = _pad_to(text_mask.bool(), [text.shape[0], n_text])
    offset = sum(sizes[:rank])
    tgt = torch.arange(offset, offset + sign.shape[0], device=sign.device)
    # local rows use local (graph-connected) features; the gathered copies carry the other ranks' gradients
    rows = similarity_fn(sign_l, sign_ml, all_text, all_text_mask.bool())
    cols = similarity_fn(all_sign, all_sign_mask.bool(), text_l, text_ml).T
    return info_nce(rows, cols, tgt, logit_scale, sum(sizes), world), rows
