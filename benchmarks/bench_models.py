"""Forward + backward time of PretrainModel on random data (CPU, bf16 autocast). Prints figures only.

Usage: .venv/bin/python benchmarks/bench_models.py [--preset small] [--batch 32] [--frames 128] [--steps 3]
"""

from __future__ import annotations

import argparse
import time

import torch

from mslu.models import PretrainConfig, PretrainModel


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--preset", default="small")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--frames", type=int, default=128)
    ap.add_argument("--words", type=int, default=24)
    ap.add_argument("--steps", type=int, default=3)
    args = ap.parse_args()
    cfg = PretrainConfig.preset(args.preset)
    cfg.text.hidden_size = 384  # random cached text features: the text encoder is not loaded
    model = PretrainModel(cfg).train()
    b, t = args.batch, args.frames
    batch = dict(
        pose=torch.rand(b, t, 79, 3),
        frame_mask=torch.ones(b, t, dtype=torch.bool),
        paired=torch.ones(b, dtype=torch.bool),
        text_features=torch.randn(b, args.words, 384),
        text_mask=torch.ones(b, args.words, dtype=torch.bool),
    )
    n_params = sum(p.numel() for p in model.trainable_parameters())
    times = []
    for _ in range(args.steps + 1):
        t0 = time.perf_counter()
        with torch.autocast("cpu", dtype=torch.bfloat16):
            out = model(batch)
        out["loss"].backward()
        times.append(time.perf_counter() - t0)
    step = min(times[1:])
    threads = torch.get_num_threads()
    print(f"preset={args.preset} params={n_params / 1e6:.2f}M batch={b} frames={t} threads={threads}")
    print(f"fwd+bwd {step:.3f} s/step, {b * t / step:.0f} frames/s, loss={out['loss'].item():.3f}")


if __name__ == "__main__":
    main()
