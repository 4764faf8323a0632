"""AdamW step time on the `small` encoder's parameters: the fused kernel (both trainers' default,
``optim.fused``) against the foreach implementation, alternating in one process."""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from mslu.models import PretrainConfig, SignPoseEncoder


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="small")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--steps", type=int, default=5, help="optimiser steps per round and variant")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    params = list(SignPoseEncoder(PretrainConfig.preset(args.preset).encoder).parameters())
    for p in params:
        p.grad = torch.randn_like(p)
    variants = {
        "fused": torch.optim.AdamW(params, lr=1e-4, fused=True),
        "foreach": torch.optim.AdamW(params, lr=1e-4, foreach=True),
    }
    times: dict[str, list[float]] = {k: [] for k in variants}
    for _ in range(args.rounds):
        for name, opt in variants.items():
            t = time.perf_counter()
            for _ in range(args.steps):
                opt.step()
            times[name].append((time.perf_counter() - t) / args.steps * 1e3)
    print(f"{args.preset} encoder: {sum(p.numel() for p in params) / 1e6:.2f} M parameters, "
          f"{args.threads} thread(s)")
    for name, v in times.items():
        print(f"  {name:8s} {statistics.median(v):7.1f} ms / step (median of {args.rounds} rounds)")
    print(f"  ratio    {statistics.median(times['foreach']) / statistics.median(times['fused']):7.2f}x")


if __name__ == "__main__":
    main()
