"""2-process DDP (gloo, CPU) on a global batch split by the bucketed sampler == 1 process on the batch."""

import os
import socket

import numpy as np
import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

WORLD = 2
GLOBAL_BATCH = 8


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _global_batch():
    """Fixed poses, texts, masks M and cached text features for 8 samples (one unpaired)."""
    g = torch.Generator().manual_seed(7)
    lengths = [20, 18, 17, 15, 12, 11, 9, 8]
    items = []
    for i, t in enumerate(lengths):
        pose = torch.rand(t, 79, 3, generator=g).numpy().astype(np.float32)
        paired = i != 5
        items.append({"pose": pose, "text": f"word{i} other{i % 3}" if paired else None,
                      "text_language": "en" if paired else None, "paired": paired, "index": i})
    mask = torch.rand(GLOBAL_BATCH, max(lengths), 79, generator=g) < 0.4
    feats = torch.randn(GLOBAL_BATCH, 5, 32, generator=g)
    tmask = torch.ones(GLOBAL_BATCH, 5, dtype=torch.bool)
    tmask[::2, 3:] = False
    return lengths, items, mask, feats, tmask


def _model():
    from mslu.models import PretrainConfig, PretrainModel

    cfg = PretrainConfig.preset("tiny")
    cfg.text.hidden_size = 32
    torch.manual_seed(0)
    return PretrainModel(cfg, text_encoder=None)


def _batch(idx):
    from mslu.data.batching import collate_pose_text

    lengths, items, mask, feats, tmask = _global_batch()
    b = collate_pose_text([items[i] for i in idx])
    t = b["pose"].shape[1]
    b["mask"] = mask[idx, :t]
    b["text_features"], b["text_mask"] = feats[idx], tmask[idx]
    return b


def _grads(model):
    return {n: p.grad.detach().clone() for n, p in model.named_parameters() if p.grad is not None}


def _worker(rank, port, out_dir):
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)
    dist.init_process_group("gloo", rank=rank, world_size=WORLD)
    try:
        from torch.nn.parallel import DistributedDataParallel

        from mslu.data.batching import BucketBatchSampler

        lengths = _global_batch()[0]
        sampler = BucketBatchSampler(lengths, GLOBAL_BATCH, seed=3, rank=rank, world_size=WORLD)
        (idx,) = list(sampler)
        ddp = DistributedDataParallel(_model())
        out = ddp(_batch(idx))
        out["loss"].backward()
        loss = out["loss"].detach().clone()
        dist.all_reduce(loss)
        result = {"loss": loss / WORLD, "grads": _grads(ddp.module), "idx": idx}
        torch.save(result, f"{out_dir}/rank{rank}.pt")
    finally:
        dist.destroy_process_group()


def test_two_process_ddp_matches_single_process(tmp_path):
    mp.spawn(_worker, args=(_free_port(), str(tmp_path)), nprocs=WORLD, join=True)
    ranks = [torch.load(tmp_path / f"rank{r}.pt", weights_only=True) for r in range(WORLD)]
    assert sorted(ranks[0]["idx"] + ranks[1]["idx"]) == list(range(GLOBAL_BATCH))  # disjoint, complete

    model = _model()
    out = model(_batch(list(range(GLOBAL_BATCH))))
    out["loss"].backward()
    ref = _grads(model)
    assert float(ranks[0]["loss"]) == pytest.approx(out["loss"].item(), rel=1e-5, abs=1e-6)
    for r in ranks:
        assert r["grads"].keys() == ref.keys()
        for name, g in ref.items():
            torch.testing.assert_close(r["grads"][name], g, rtol=1e-4, atol=1e-6, msg=name)
