"""Forward + backward speed of PretrainModel on random data (CPU, bf16 autocast). Prints figures only.

Reports the step time, frames/s, the model FLOPs of one step (``torch.utils.flop_counter.FlopCounterMode``,
forward + backward) and the model FLOP utilisation (MFU) against a bf16 matmul peak measured in the same run
(the best of a few square ``F.linear`` sizes), so that ratios are comparable on a shared, noisy machine.

Usage: .venv/bin/python benchmarks/bench_models.py [--preset small] [--batch 32] [--frames 128] [--steps 5]
       [--threads N] [--padding 0.25] [--profile]
"""

from __future__ import annotations

import argparse
import time

import torch
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode

from mslu.models import PretrainConfig, PretrainModel


def matmul_peak(dtype: torch.dtype = torch.bfloat16, sizes: tuple[int, ...] = (1024, 2048)) -> float:
    """Best measured FLOP/s of a square matmul (F.linear) in ``dtype``."""
    best = 0.0
    for n in sizes:
        a, w = torch.randn(n, n, dtype=dtype), torch.randn(n, n, dtype=dtype)
        F.linear(a, w)
        reps = max(2, int(2e10 // (2 * n**3)))
        for _ in range(3):
            t0 = time.perf_counter()
            for _ in range(reps):
                F.linear(a, w)
            best = max(best, 2 * n**3 * reps / (time.perf_counter() - t0))
    return best


def make_batch(b: int, t: int, words: int, padding: float) -> dict:
    g = torch.Generator().manual_seed(0)
    frame_mask = torch.ones(b, t, dtype=torch.bool)
    if padding > 0:  # sequence lengths uniform in [(1 - 2 * padding) t, t]
        lengths = torch.randint(int((1 - 2 * padding) * t), t + 1, (b,), generator=g)
        frame_mask = torch.arange(t)[None] < lengths[:, None]
    return dict(
        pose=torch.rand(b, t, 79, 3, generator=g) * frame_mask[..., None, None],
        frame_mask=frame_mask,
        paired=torch.ones(b, dtype=torch.bool),
        text_features=torch.randn(b, words, 384, generator=g),
        text_mask=torch.ones(b, words, dtype=torch.bool),
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--preset", default="small")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--frames", type=int, default=128)
    ap.add_argument("--words", type=int, default=24)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    ap.add_argument("--padding", type=float, default=0.0, help="mean fraction of padding frames")
    ap.add_argument("--profile", action="store_true", help="print the top ops of one step")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    cfg = PretrainConfig.preset(args.preset)
    cfg.text.hidden_size = 384  # random cached text features: the text encoder is not loaded
    torch.manual_seed(0)
    model = PretrainModel(cfg).train()
    b, t = args.batch, args.frames
    batch = make_batch(b, t, args.words, args.padding)
    n_params = sum(p.numel() for p in model.trainable_parameters())

    def step() -> torch.Tensor:
        with torch.autocast("cpu", dtype=torch.bfloat16):
            out = model(batch)
        out["loss"].backward()
        model.zero_grad(set_to_none=True)
        return out["loss"]

    step()
    counter = FlopCounterMode(display=False)
    with counter:
        loss = step()
    flops = counter.get_total_flops()
    peak = matmul_peak()
    times = []
    for _ in range(args.steps):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    peak = max(peak, matmul_peak())  # measured again after the steps: the machine's load changes
    best, median = min(times), sorted(times)[len(times) // 2]
    frames = int(batch["frame_mask"].sum())
    print(
        f"preset={args.preset} params={n_params / 1e6:.2f}M batch={b} frames={t} valid={frames} "
        f"threads={torch.get_num_threads()}"
    )
    print(
        f"fwd+bwd best {best:.3f} s/step (median {median:.3f}), {frames / best:.0f} frames/s, "
        f"loss={loss:.3f}"
    )
    print(
        f"model {flops / 1e9:.1f} GFLOP/step, {flops / best / 1e9:.1f} GFLOP/s; bf16 matmul peak "
        f"{peak / 1e9:.0f} GFLOP/s; MFU {100 * flops / best / peak:.1f}%"
    )
    if args.profile:
        from torch.profiler import ProfilerActivity, profile

        with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
            step()
        print(
            prof.key_averages(group_by_input_shape=True).table(
                sort_by="self_cpu_time_total", row_limit=30, max_name_column_width=40
            )
        )


if __name__ == "__main__":
    main()
