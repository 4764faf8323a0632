"""L_PR (Eq. 3) and L_STC (Eq. 5) against direct loop-based references."""

from __future__ import annotations

import math

import torch

from mslu.models.losses import info_nce, pose_reconstruction_loss, pose_reconstruction_terms


def test_pr_loss_matches_loop_and_ignores_unmasked_and_zero_conf():
    torch.manual_seed(0)
    b, t, k = 2, 3, 5
    rec, target = torch.randn(b, t, k, 2), torch.randn(b, t, k, 2)
    conf = torch.rand(b, t, k)
    conf[0, 0, 0] = 0.0
    mask = torch.rand(b, t, k) < 0.5
    mask[0, 0, 0] = True
    num = den = 0.0
    for i in range(b):
        for f in range(t):
            for j in range(k):
                if mask[i, f, j]:
                    e = ((rec[i, f, j] - target[i, f, j]) ** 2).mean()
                    num += conf[i, f, j] * e
                    den += conf[i, f, j]
    torch.testing.assert_close(pose_reconstruction_loss(rec, target, conf, mask), num / den)
    torch.testing.assert_close(pose_reconstruction_loss(rec, target, conf, mask, "sum"), num)
    torch.testing.assert_close(pose_reconstruction_loss(rec, target, conf, mask, "batch_mean"), num / b)
    n_masked = (mask & (conf > 0)).sum()
    torch.testing.assert_close(
        pose_reconstruction_loss(rec, target, conf, mask, "masked_mean"), num / n_masked
    )
    # unmasked keypoints and zero-confidence joints do not matter
    rec2 = rec.clone()
    rec2[~mask] += 10.0
    rec2[0, 0, 0] += 10.0
    torch.testing.assert_close(pose_reconstruction_loss(rec2, target, conf, mask), num / den)
    rec3 = rec.clone().requires_grad_()
    pose_reconstruction_terms(rec3, target, conf, mask)[0].backward()
    assert (rec3.grad[~mask] == 0).all() and (rec3.grad[0, 0, 0] == 0).all()
    assert rec3.grad[mask & (conf > 0)].abs().sum(-1).gt(0).all()


def test_info_nce_matches_eq5_loop():
    torch.manual_seed(0)
    bsz, tau = 5, 0.07
    sim = torch.rand(bsz, bsz) * 2 - 1
    got = info_nce(sim, sim.T, torch.arange(bsz), torch.tensor(1 / tau), bsz)
    ref = 0.0
    for i in range(bsz):
        a = math.exp(sim[i, i] / tau) / sum(math.exp(sim[i, j] / tau) for j in range(bsz))
        c = math.exp(sim[i, i] / tau) / sum(math.exp(sim[j, i] / tau) for j in range(bsz))
        ref += -math.log(a * c)
    torch.testing.assert_close(got, torch.tensor(ref / (2 * bsz)))


def test_info_nce_local_rows_sum_to_global():
    """Splitting rows across 'ranks' (each scaled by W) averages to the global loss."""
    torch.manual_seed(1)
    sim = torch.randn(6, 6)
    scale = torch.tensor(10.0)
    full = info_nce(sim, sim.T, torch.arange(6), scale, 6)
    parts = [
        info_nce(sim[r], sim.T[r], torch.arange(6)[r], scale, 6, world=2) for r in (slice(0, 4), slice(4, 6))
    ]
    torch.testing.assert_close((parts[0] + parts[1]) / 2, full)
