"""A/B of whole pre-training steps in one process: variants run in turn, so a shared machine's speed changes
hit them alike. Each variant is its own trainer, built from the same config and seed as the others plus its
own config overrides, and may turn fast paths off (their plain forms, same equations).

    taskset -c 0 .venv/bin/python benchmarks/pretrain_ab.py --threads 1 \\
        --variant sdpa: --variant cpu_fused:model.encoder.attn_impl=cpu_fused
    taskset -c 0 .venv/bin/python benchmarks/pretrain_ab.py --threads 1 \\
        --variant mslu: --variant autograd-similarity:@similarity_backward

``--variant NAME:ITEMS`` with comma-separated ITEMS: ``KEY=VALUE`` (a trainer config override, as
``mslu pretrain --set``) or ``@FAST_PATH`` (one of ``mslu.models.kernels.FastPaths`` turned off:
``@fused_linear``, ``@dense_graph_conv``, ``@similarity_backward``). Prints, per variant, the best and median
time per step over the rounds, model FLOPs (nominal, as ``pretrain_step.py`` counts them), MFU of the best
round against the run's best matmul peak, and the best-round time relative to the first variant.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from dataclasses import fields
from pathlib import Path

import numpy as np
import torch

from _common import PEAK_SHAPES, SMALL_CONFIG, MatmulPeak, bench_overrides, build_corpus, nominal_flops
from mslu.models.kernels import FastPaths, fast_paths_off
from mslu.training.pretrainer import PretrainTrainer
from mslu.training.run_config import load_config

FAST_PATH_NAMES = [f.name for f in fields(FastPaths)]


def parse_variant(text: str) -> tuple[str, list[str], list[str]]:
    name, sep, items = text.partition(":")
    if not sep or not name:
        raise SystemExit(f"--variant {text!r}: expected NAME:ITEMS (ITEMS may be empty)")
    overrides, offs = [], []
    for item in filter(None, (i.strip() for i in items.split(","))):
        if item.startswith("@"):
            if item[1:] not in FAST_PATH_NAMES:
                raise SystemExit(f"--variant {name}: unknown fast path {item!r}; known: "
                                 f"{', '.join(FAST_PATH_NAMES)}")
            offs.append(item[1:])
        elif "=" in item:
            overrides.append(item)
        else:
            raise SystemExit(f"--variant {name}: {item!r} is neither KEY=VALUE nor @FAST_PATH")
    return name, overrides, offs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--variant", action="append", required=True, metavar="NAME:ITEMS")
    ap.add_argument("--config", default=str(SMALL_CONFIG), help="trainer config every variant starts from")
    ap.add_argument("--batch", type=int, default=None, help="batch per step (default: the config's)")
    ap.add_argument("--num-samples", type=int, default=2500, help="synthetic corpus size")
    ap.add_argument("--steps", type=int, default=4, help="timed batches per variant")
    ap.add_argument("--rounds", type=int, default=6, help="timed passes (variants alternate in each)")
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: default)")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="config override for every variant (repeatable)")
    args = ap.parse_args()
    if len(args.variant) < 2:
        raise SystemExit("give at least two --variant")
    if args.threads:
        torch.set_num_threads(args.threads)

    variants = [parse_variant(v) for v in args.variant]
    tmp = tempfile.TemporaryDirectory()
    corpus = build_corpus(Path(tmp.name) / "corpus", args.num_samples, 0).root
    runs = []
    for i, (name, overrides, offs) in enumerate(variants):
        cfg = load_config(args.config, [
            "run.device=cpu", *bench_overrides(str(corpus), f"{tmp.name}/run{i}", args.batch), *args.set,
            *overrides])
        trainer = PretrainTrainer(cfg)
        loader = iter(trainer._loader())
        batches = [next(loader) for _ in range(args.steps)]

        def step(b, trainer=trainer, offs=offs):
            with fast_paths_off(*offs):
                return trainer.train_step([b])

        for b in batches:  # warm-up: kernels are set up once per shape
            step(b)
        flops = sum(nominal_flops(trainer, b) for b in batches)
        runs.append({"name": name, "step": step, "batches": batches, "flops": flops / len(batches),
                     "times": []})

    peak = MatmulPeak(torch.device("cpu"), torch.bfloat16, PEAK_SHAPES["cpu"])
    peak.sample()
    for _ in range(args.rounds):
        for r in runs:
            t = time.perf_counter()
            for b in r["batches"]:
                r["step"](b)
            r["times"].append((time.perf_counter() - t) / len(r["batches"]))
        peak.sample(1)

    base = min(runs[0]["times"])
    print(f"matmul peak (bf16, best of run): {peak.best / 1e12:.3f} TFLOP/s; {args.steps} batches x "
          f"{args.rounds} rounds per variant, {torch.get_num_threads()} threads")
    print(f"{'variant':24s} {'best ms':>8s} {'median':>8s} {'GFLOP':>7s} {'MFU':>6s} {'vs 1st':>7s}")
    for r in runs:
        best = min(r["times"])
        print(f"{r['name'][:24]:24s} {best * 1e3:8.1f} {np.median(r['times']) * 1e3:8.1f} "
              f"{r['flops'] / 1e9:7.1f} {100 * r['flops'] / best / peak.best:5.1f}% {best / base:6.3f}x")
    tmp.cleanup()


if __name__ == "__main__":
    main()
