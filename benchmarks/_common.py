"""Helpers shared by the benchmark scripts (imported as ``import _common``: a script run as
``python benchmarks/<name>.py`` has its own folder on ``sys.path``)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import torch
from torch.utils.flop_counter import FlopCounterMode

from mslu.data.corpus import Corpus, CorpusWriter
from mslu.data.synth import SynthConfig, generate_samples
from mslu.models.kernels import fast_paths_off

SMALL_CONFIG = Path(__file__).resolve().parents[1] / "configs" / "pretrain" / "synthetic_small.yaml"
PEAK_SHAPES = {
    "cpu": [(1024, 1024, 1024), (2048, 1024, 1024), (3072, 768, 3072)],
    "cuda": [(8192, 8192, 8192), (16384, 8192, 8192)],
}


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


class MatmulPeak:
    """Best achieved FLOP/s of large ``dtype`` matmuls (several shapes: the fastest one differs between
    machines), sampled between timed steps so that each step has a peak measured next to it."""

    def __init__(self, device: torch.device, dtype: torch.dtype, shapes: list[tuple[int, int, int]]):
        self.device = device
        self.ops = [
            (2 * m * k * n, torch.randn(m, k, device=device).to(dtype),
             torch.randn(k, n, device=device).to(dtype))
            for m, k, n in shapes
        ]  # fmt: skip
        self.best = 0.0
        for _, a, b in self.ops:
            a @ b
        sync(device)

    def sample(self, reps: int = 2) -> float:
        """Best FLOP/s over ``reps`` runs of every shape, now; also updates the run's overall best."""
        best = 0.0
        for _ in range(reps):
            for flop, a, b in self.ops:
                sync(self.device)
                t = time.perf_counter()
                a @ b
                sync(self.device)
                best = max(best, flop / (time.perf_counter() - t))
        self.best = max(self.best, best)
        return best


def build_corpus(root: Path, num_samples: int, seed: int) -> Corpus:
    """A fresh synthetic pre-training corpus of ``num_samples`` samples at ``root``."""
    with CorpusWriter(root) as w:
        for s in generate_samples(SynthConfig(seed=seed, num_samples=num_samples)):
            w.add(s)
    return Corpus(root)


def bench_overrides(corpus: str, out: str, batch: int | None) -> list[str]:
    """Trainer config overrides every step benchmark uses: its corpus and output folder, quiet runs, the
    text-feature cache in memory, and ``batch`` (None: the config's)."""
    return [
        f"data.corpus={corpus}", f"run.out={out}", "run.progress=false", "run.tensorboard=false",
        "data.text_cache=true", "data.text_cache_dir=null", *([f"data.batch_size={batch}"] if batch else []),
    ]  # fmt: skip


def nominal_flops(trainer, batch: dict) -> int:
    """Model FLOPs of one training step on ``batch`` (the step is taken), in the plain forms: factored GCN
    (the dense kernel's zeros are not counted) and ``F.linear`` (the counter does not see oneDNN's)."""
    with FlopCounterMode(display=False) as fc, fast_paths_off("dense_graph_conv", "fused_linear"):
        trainer.train_step([batch])
    return fc.get_total_flops()


def alternate(fns: dict[str, Callable[[], object]], reps: int) -> dict[str, float]:
    """Best wall time (s) of each function, the functions run in turn ``reps`` times (after two warm-ups)."""
    for f in fns.values():
        f()
        f()
    best = dict.fromkeys(fns, float("inf"))
    for _ in range(reps):
        for k, f in fns.items():
            t = time.perf_counter()
            f()
            best[k] = min(best[k], time.perf_counter() - t)
    return best
