"""Generation speed of the synthetic corpus (mslu synth) on one core.

Usage: .venv/bin/python benchmarks/synth_speed.py [--num-samples 3000]
Prints samples/s and frames/s (wall clock and process CPU time) for the pre-training stream and for
an ISLR benchmark stream; numpy's thread pools are limited to one thread.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import time  # noqa: E402

from mslu.data.synth import SynthConfig, build_benchmark, generate_samples  # noqa: E402


def _measure(name: str, samples) -> None:
    t0, c0 = time.perf_counter(), time.process_time()
    n = frames = 0
    for s in samples:
        n += 1
        frames += s.num_frames
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    print(
        f"{name:<12} {n:>6} samples  mean {frames / n:5.1f} frames  "
        f"wall {n / wall:7.0f} samples/s ({frames / wall:8.0f} frames/s)  "
        f"cpu {n / cpu:7.0f} samples/s ({frames / cpu:8.0f} frames/s)"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--num-samples", type=int, default=3000)
    args = ap.parse_args()
    cfg = SynthConfig(num_samples=args.num_samples)
    list(generate_samples(SynthConfig(num_samples=5)))  # build the languages (cached) before timing
    _measure("pretrain", generate_samples(cfg))
    _measure("islr", build_benchmark("islr", "syn-en", args.num_samples, 0, 0, cfg=cfg))
    _measure("slt", build_benchmark("slt", "syn-de", args.num_samples, 0, 0, cfg=cfg))


if __name__ == "__main__":
    main()
