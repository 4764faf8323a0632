"""2-process DDP pre-training (gloo, CPU) killed after a checkpoint and resumed == the uninterrupted run,
bit for bit: weights, optimiser state, every logged row once; each rank draws its own masks."""

from __future__ import annotations

import csv
import os
import socket

import torch
import torch.multiprocessing as mp
from toy import make_tiny_trainer, write_toy_corpus

WORLD = 2
RUN = {"optim.max_steps": 6, "run.checkpoint_every": 3, "data.batch_size": 8, "data.max_frames": 32}


class Killed(Exception):
    pass


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _worker(rank: int, port: int, corpus: str, out: str, mode: str) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank),
                      WORLD_SIZE=str(WORLD), LOCAL_RANK=str(rank))
    torch.set_num_threads(1)
    trainer = make_tiny_trainer(out, corpus, **RUN)
    states = {}
    forward = trainer.model.forward

    def recording_forward(batch, *a, **k):  # the RNG state the model's masks are drawn from
        states.setdefault(trainer.step + 1, torch.get_rng_state().clone())
        return forward(batch, *a, **k)

    trainer.model.forward = recording_forward
    if mode == "killed":
        log = trainer._log

        def log_then_die(*a, **k):
            row = log(*a, **k)
            if trainer.step == 5:  # two logged steps after the step-3 checkpoint
                raise Killed
            return row

        trainer._log = log_then_die
    if mode == "resumed":
        assert trainer.resume()
    try:
        trainer.fit()
    except Killed:
        pass
    finally:
        torch.save(states, f"{out}/rng_rank{rank}.pt")
        torch.distributed.barrier()
        torch.distributed.destroy_process_group()


def _spawn(corpus, out, mode):
    out.mkdir(exist_ok=True)
    mp.spawn(_worker, args=(_free_port(), str(corpus), str(out), mode), nprocs=WORLD, join=True)


def _rows(path):
    with open(path, newline="") as f:
        return [{k: v for k, v in r.items() if k != "samples_per_s"} for r in csv.DictReader(f)]


def test_killed_and_resumed_ddp_run_is_bit_identical(tmp_path):
    corpus = tmp_path / "corpus"
    write_toy_corpus(corpus, n=40)
    straight, interrupted = tmp_path / "straight", tmp_path / "interrupted"
    _spawn(corpus, straight, "straight")
    _spawn(corpus, interrupted, "killed")
    names = sorted(p.name for p in (interrupted / "checkpoints").iterdir())
    assert names == ["step-3.pt", "step-3.pt.sha256"]
    assert len(_rows(interrupted / "metrics.csv")) == 5
    resumed_states = {}
    for r in range(WORLD):
        resumed_states[r] = torch.load(interrupted / f"rng_rank{r}.pt", weights_only=True)
    _spawn(corpus, interrupted, "resumed")

    a = torch.load(straight / "checkpoints" / "step-6.pt", weights_only=True)
    b = torch.load(interrupted / "checkpoints" / "step-6.pt", weights_only=True)
    assert a["model"].keys() == b["model"].keys()
    for k in a["model"]:
        assert torch.equal(a["model"][k], b["model"][k]), k
    for sa, sb in zip(a["optimizer"]["state"].values(), b["optimizer"]["state"].values()):
        for k in sa:
            assert torch.equal(sa[k], sb[k]), k
    rows_a, rows_b = _rows(straight / "metrics.csv"), _rows(interrupted / "metrics.csv")
    assert [r["step"] for r in rows_b] == [str(s) for s in range(1, 7)]  # each step once after the resume
    assert rows_a == rows_b

    ranks = [torch.load(straight / f"rng_rank{r}.pt", weights_only=True) for r in range(WORLD)]
    resumed = [torch.load(interrupted / f"rng_rank{r}.pt", weights_only=True) for r in range(WORLD)]
    assert sorted(ranks[0]) == list(range(1, 7)) and sorted(resumed[0]) == [4, 5, 6]
    for step in range(1, 7):
        assert not torch.equal(ranks[0][step], ranks[1][step]), f"ranks share masks at step {step}"
    for r in range(WORLD):
        for step in (4, 5, 6):  # the resumed run draws what the uninterrupted one drew
            assert torch.equal(resumed[r][step], ranks[r][step]), (r, step)
        for step in (1, 2, 3):
            assert torch.equal(resumed_states[r][step], ranks[r][step]), (r, step)
