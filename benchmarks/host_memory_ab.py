"""Page faults and step time of `small`-preset CPU pre-training steps with and without
``run.retain_host_memory`` (``mslu.training.host_memory``).

The malloc setting cannot be undone inside a process, so each variant runs in its own child process; the
children alternate (default, retained, default, ...) so that the shared machine's speed changes hit both
alike. Each child warms up, then times ``--rounds`` passes over the same batches and prints its fastest
step and its page faults per step. Page faults are exact; times on a shared CPU are noisy, hence several
pairs and medians.

    taskset -c 0 .venv/bin/python benchmarks/host_memory_ab.py --pairs 4
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from _common import build_corpus
from mslu.training.pretrainer import PretrainTrainer
from mslu.training.run_config import load_config


def child(corpus: str, retain: bool, batches: int, rounds: int, threads: int) -> None:
    torch.set_num_threads(threads)
    with tempfile.TemporaryDirectory() as tmp:
        cfg = load_config(None, [
            "model.preset=small", f"data.corpus={corpus}", "data.batch_size=32", f"run.out={tmp}/run",
            "run.precision=auto", "run.device=cpu", "run.progress=false", "run.tensorboard=false",
            f"run.retain_host_memory={str(retain).lower()}"])
        tr = PretrainTrainer(cfg)
        it = iter(tr._loader())
        bs = [next(it) for _ in range(batches)]
        for b in bs:  # warm-up: kernels chosen, memory reserved
            tr.train_step([b])
        times, faults = [], 0
        for _ in range(rounds):
            for b in bs:
                f0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
                t = time.perf_counter()
                tr.train_step([b])
                times.append(time.perf_counter() - t)
                faults += resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f0
    print(json.dumps({"min_ms": min(times) * 1e3, "median_ms": statistics.median(times) * 1e3,
                      "faults": faults / len(times)}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pairs", type=int, default=4)
    ap.add_argument("--batches", type=int, default=4)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--num-samples", type=int, default=300)
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        corpus, retain = args.child.rsplit(",", 1)
        child(corpus, retain == "1", args.batches, args.rounds, args.threads)
        return

    res: dict[str, list[dict]] = {"default malloc": [], "retain_host_memory": []}
    with tempfile.TemporaryDirectory() as tmp:
        root = str(build_corpus(Path(tmp) / "corpus", args.num_samples, 0).root)
        for _ in range(args.pairs):
            for name, flag in (("default malloc", 0), ("retain_host_memory", 1)):
                out = subprocess.run(
                    [sys.executable, __file__, "--child", f"{root},{flag}", "--batches", str(args.batches),
                     "--rounds", str(args.rounds), "--threads", str(args.threads)],
                    capture_output=True, text=True, check=True)
                res[name].append(json.loads(out.stdout.strip().splitlines()[-1]))
    print(f"{'variant':20s} {'faults/step':>12s} {'min step ms (median of runs)':>30s}  runs (min ms)")
    for name, runs in res.items():
        mins = [r["min_ms"] for r in runs]
        print(f"{name:20s} {statistics.median(r['faults'] for r in runs):12.0f} "
              f"{statistics.median(mins):30.1f}  {' '.join(f'{m:.0f}' for m in mins)}")
    a = statistics.median(r["min_ms"] for r in res["default malloc"])
    b = statistics.median(r["min_ms"] for r in res["retain_host_memory"])
    print(f"step time ratio retained / default: {b / a:.3f}")


if __name__ == "__main__":
    main()
