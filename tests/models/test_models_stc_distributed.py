"""L_STC under torch.distributed (2 gloo processes, uneven batches) equals the single-process loss."""

from __future__ import annotations

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from mslu.models.losses import sign_text_contrastive_loss
from mslu.models.similarity import fine_similarity

SIZES = (3, 2)  # paired samples per rank


def _data():
    g = torch.Generator().manual_seed(0)
    sign = [torch.randn(b, n, 4, generator=g) for b, n in zip(SIZES, (5, 3))]
    text = [torch.randn(b, m, 4, generator=g) for b, m in zip(SIZES, (2, 6))]
    smask = [torch.rand(s.shape[:2], generator=g) < 0.8 for s in sign]
    tmask = [torch.rand(t.shape[:2], generator=g) < 0.8 for t in text]
    for m in smask + tmask:
        m[:, 0] = True
    return sign, text, smask, tmask


def _pad(xs, dim_size):
    return torch.cat([torch.nn.functional.pad(x, (0, 0, 0, dim_size - x.shape[1])) for x in xs])


def _pad_mask(ms, dim_size):
    return torch.cat([torch.nn.functional.pad(m, (0, dim_size - m.shape[1])) for m in ms])


def _worker(rank: int, world: int, init: str, out: str):
    dist.init_process_group("gloo", init_method=init, rank=rank, world_size=world)
    sign, text, smask, tmask = _data()
    s = sign[rank].clone().requires_grad_()
    t = text[rank].clone().requires_grad_()
    scale = torch.tensor(5.0, requires_grad=True)
    loss, _ = sign_text_contrastive_loss(fine_similarity, s, smask[rank], t, tmask[rank], scale)
    loss.backward()
    torch.save({"loss": loss.detach(), "gs": s.grad, "gt": t.grad, "gscale": scale.grad}, f"{out}/{rank}.pt")
    dist.destroy_process_group()


def test_distributed_stc_equals_single_process(tmp_path):
    world = 2
    mp.spawn(_worker, args=(world, f"file://{tmp_path}/init", str(tmp_path)), nprocs=world, join=True)
    res = [torch.load(tmp_path / f"{r}.pt", weights_only=True) for r in range(world)]
    sign, text, smask, tmask = _data()
    s = [x.clone().requires_grad_() for x in sign]
    t = [x.clone().requires_grad_() for x in text]
    scale = torch.tensor(5.0, requires_grad=True)
    loss, _ = sign_text_contrastive_loss(
        fine_similarity, _pad(s, 5), _pad_mask(smask, 5), _pad(t, 6), _pad_mask(tmask, 6), scale
    )
    loss.backward()
    # mean of rank losses = global loss; DDP averages gradients: mean over ranks = single-process gradient
    torch.testing.assert_close(sum(r["loss"] for r in res) / world, loss.detach())
    torch.testing.assert_close(sum(r["gscale"] for r in res) / world, scale.grad)
    for r in range(world):
        torch.testing.assert_close(res[r]["gs"] / world, s[r].grad)
        torch.testing.assert_close(res[r]["gt"] / world, t[r].grad)
