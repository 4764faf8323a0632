"""Pre-training step benchmark: samples/s, padding fraction, peak memory and model FLOP utilisation (MFU).

MFU = model FLOPs per training step (forward + backward, counted by ``FlopCounterMode``) / step time, divided
by the matmul peak of the same machine in the same dtype, measured in the same run: the best FLOP/s of a few
large matmul shapes, sampled before and after every timed step (paired; a shared machine's speed changes
from second to second). Reported: the median over steps of FLOPs / step time / the better of its two
neighbouring peak samples (the same without padding frames' share); two best-of figures against the run's
best peak (steps whose neighbouring samples are both >= 90% of it; each batch's fastest step over the
rounds); and all FLOPs / all step time / the best peak. Model FLOPs are nominal: counted with the dense GCN
kernel and the fused-bias linear off (``mslu.models.kernels.fast_paths_off``), so the dense kernel's zeros
are not counted. ``--profile`` adds a table of the top operators of one step. The
`small` preset runs as ``configs/pretrain/synthetic_small.yaml`` trains it (batch, padding multiple).
Data loading is excluded from the step time (batches are collated beforehand); the padding fraction is that
of the length-bucketed sampler over one epoch of the synthetic corpus. On a loaded shared CPU,
``--threads 1`` gives the steadiest figures.

    .venv/bin/python benchmarks/pretrain_step.py                              # small preset, CPU, bf16
    .venv/bin/python benchmarks/pretrain_step.py --preset paper --device cuda --batch 64
    .venv/bin/python benchmarks/pretrain_step.py --set model.encoder.attn_impl=cpu_fused --profile
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from torch.profiler import ProfilerActivity, profile

from _common import PEAK_SHAPES, SMALL_CONFIG, MatmulPeak, bench_overrides, build_corpus, nominal_flops, sync
from mslu.data.batching import BucketBatchSampler, padding_fraction
from mslu.training.precision import resolve_precision
from mslu.training.pretrainer import PretrainTrainer
from mslu.training.run_config import load_config

TARGETS = {"cpu": 0.25, "cuda": 0.40}
PADDING_TARGET = 0.10


def peak_memory_mb(device: torch.device) -> float:
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated() / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="small")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--precision", default="auto", choices=["auto", "bf16", "fp32"],
                    help="auto: bf16 where the device computes it natively, else fp32 (run.precision)")
    ap.add_argument("--config", default=None,
                    help="trainer config the run starts from (default: configs/pretrain/synthetic_small.yaml "
                         "for the small preset, the library defaults otherwise)")
    ap.add_argument("--batch", type=int, default=None, help="batch per step (default: the config's)")
    ap.add_argument("--steps", type=int, default=6, help="timed steps")
    ap.add_argument("--warmup", type=int, default=2, help="extra untimed batches in the warm-up pass")
    ap.add_argument("--pad-to-multiple", type=int, default=None,
                    help="pad T to a multiple (default: the config's)")
    ap.add_argument("--num-samples", type=int, default=2500,
                    help="synthetic corpus size (2500: the main job's pre-training corpus)")
    ap.add_argument("--rounds", type=int, default=3, help="timed passes over the timed batches")
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: default)")
    ap.add_argument("--no-cache-compare", action="store_true", help="skip the run without text-feature cache")
    ap.add_argument("--corpus", default=None, help="existing corpus instead of a fresh synthetic one")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="extra trainer config override, e.g. model.encoder.attn_impl=eager (repeatable)")
    ap.add_argument("--profile", action="store_true", help="also print the top operators of one step")
    args = ap.parse_args()

    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    args.precision = resolve_precision(args.precision, device)
    dtype = torch.bfloat16 if args.precision == "bf16" else torch.float32
    peak = MatmulPeak(device, dtype, PEAK_SHAPES["cuda" if device.type == "cuda" else "cpu"])

    tmp = tempfile.TemporaryDirectory()
    t0 = time.perf_counter()
    corpus_root = args.corpus or str(build_corpus(Path(tmp.name) / "corpus", args.num_samples, 0).root)
    gen_s = time.perf_counter() - t0

    config = args.config or (str(SMALL_CONFIG) if args.preset == "small" else None)
    cfg = load_config(config, [
        f"model.preset={args.preset}", f"run.precision={args.precision}", f"run.device={args.device}",
        *bench_overrides(corpus_root, f"{tmp.name}/run", args.batch),
        *([f"data.pad_to_multiple={args.pad_to_multiple}"] if args.pad_to_multiple else []), *args.set])
    args.batch = int(cfg["data"]["batch_size"])
    args.pad_to_multiple = int(cfg["data"].get("pad_to_multiple", 1))
    t0 = time.perf_counter()
    trainer = PretrainTrainer(cfg)
    setup_s = time.perf_counter() - t0
    cache = trainer.text_cache
    lengths = trainer.dataset.lengths
    sampler = BucketBatchSampler(lengths, args.batch, seed=0, rank=0, world_size=1)
    pad = padding_fraction(lengths, list(sampler), args.pad_to_multiple)
    rng = np.random.default_rng(0)
    pad_random = padding_fraction(lengths, np.array_split(rng.permutation(len(lengths)),
                                                          max(1, len(lengths) // args.batch)))

    loader = iter(trainer._loader())
    need = args.warmup + args.steps
    batches = []
    while len(batches) < need:
        try:
            batches.append(next(loader))
        except StopIteration:
            loader = iter(trainer._loader())

    # Warm-up over every timed batch: oneDNN / cuDNN pick kernels once per new shape.
    for b in batches:
        trainer.train_step([b])

    timed_batches = batches[args.warmup :]
    flops = [nominal_flops(trainer, b) for b in timed_batches]  # a counted step is not timed

    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    sps_nocache = step_nocache = None
    if not args.no_cache_compare:
        trainer.text_cache = None
        sync(device)
        t = time.perf_counter()
        for b in timed_batches:
            trainer.train_step([b])
        sync(device)
        step_nocache = (time.perf_counter() - t) / len(timed_batches)
        sps_nocache = args.batch / step_nocache
        trainer.text_cache = cache

    # Paired measurement: each timed step sits between two peak samples and is compared with the better one.
    valid = [float(b["frame_mask"].float().mean()) for b in timed_batches]  # non-padding share of frames
    times, step_flops, mfus, mfus_valid, peaks, lows, faults = [], [], [], [], [], [], 0
    before = peak.sample()
    for _ in range(args.rounds):
        for b, f, vf in zip(timed_batches, flops, valid):
            sync(device)
            f0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
            t = time.perf_counter()
            trainer.train_step([b])
            sync(device)
            dt = time.perf_counter() - t
            faults += resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f0
            after = peak.sample()
            times.append(dt)
            step_flops.append(f)
            peaks.append(max(before, after))
            lows.append(min(before, after))
            mfus.append(f / dt / peaks[-1])
            mfus_valid.append(f * vf / dt / peaks[-1])
            before = after
    mem = peak_memory_mb(device)
    step_s = float(np.median(times))
    sps = args.batch / step_s
    flops_per_step = float(np.mean(flops))
    mfu = float(np.median(mfus))
    mfu_lo, mfu_hi = float(np.percentile(mfus, 25)), float(np.percentile(mfus, 75))
    mfu_conservative = sum(step_flops) / sum(times) / peak.best
    # steps taken while the machine ran at full speed: both neighbouring peak samples >= 90% of the best
    fast = [f / dt / peak.best for f, dt, lo in zip(step_flops, times, lows) if lo >= 0.9 * peak.best]
    mfu_fast = f"{100 * float(np.median(fast)):.1f}%" if fast else "n/a"
    # best of rounds: each batch's fastest step, against the run's best peak (both best-of measurements)
    nb = len(timed_batches)
    best_times = [min(times[i::nb]) for i in range(nb)]
    mfu_best = sum(flops) / sum(best_times) / peak.best

    target = TARGETS.get(device.type, 0)
    n_params = sum(p.numel() for p in trainer.model.parameters() if p.requires_grad)
    rows = [
        ("device", f"{device} ({torch.get_num_threads()} threads)" if device.type == "cpu"
         else torch.cuda.get_device_name()),
        ("preset / precision", f"{args.preset} / {args.precision}"),
        ("trainable parameters", f"{n_params / 1e6:.2f} M"),
        ("batch / timed steps", f"{args.batch} / {args.steps} x {args.rounds} rounds"),
        (f"matmul peak ({args.precision}, best of run)",
         f"{peak.best / 1e12:.3f} TFLOP/s  (next to steps: {min(peaks) / 1e12:.3f}-{max(peaks) / 1e12:.3f})"),
        ("model FLOPs per step (fwd+bwd)", f"{flops_per_step / 1e9:.1f} GFLOP"),
        ("step time (text cache, median)", f"{step_s * 1e3:.1f} ms"),
        ("samples/s (text cache)", f"{sps:.1f}"),
        ("achieved", f"{flops_per_step / step_s / 1e12:.3f} TFLOP/s"),
        ("MFU (median of paired steps)", f"{100 * mfu:.1f}%  (target >= {100 * target:.0f}%; "
                                          f"quartiles {100 * mfu_lo:.1f}-{100 * mfu_hi:.1f}%)"),
        ("MFU without padding frames", f"{100 * float(np.median(mfus_valid)):.1f}%  (FLOPs x share of "
                                        "non-padding frames: padding counted as waste)"),
        ("MFU, full-speed steps", f"{mfu_fast}  ({len(fast)} of {len(times)} steps whose neighbouring peak "
                                  "samples are both >= 90% of the best; vs the best peak)"),
        ("MFU, best of rounds", f"{100 * mfu_best:.1f}%  (each batch's fastest step / best peak; "
                                f"{sum(best_times) / nb * 1e3:.1f} ms per step)"),
        ("MFU vs best peak of the run", f"{100 * mfu_conservative:.1f}%  (all steps / run's best peak)"),
        ("padding, bucketed / random batches", f"{100 * pad:.1f}% / {100 * pad_random:.1f}%  "
                                                 f"(target <= {100 * PADDING_TARGET:.0f}%)"),
        ("host page faults per step", f"{faults / len(times):.0f}  (run.retain_host_memory="
                                       f"{cfg['run'].get('retain_host_memory', True)})"),
        ("peak memory", f"{mem:.0f} MiB ({'max allocated' if device.type == 'cuda' else 'max RSS'})"),
        ("corpus / text cache", f"{len(lengths)} samples, {len(cache) if cache else 0} unique sentences"),
        ("setup (model + cache) / corpus gen", f"{setup_s:.1f} s / {gen_s:.1f} s"),
    ]
    if sps_nocache is not None:
        rows += [("samples/s without text cache", f"{sps_nocache:.1f}"),
                 ("text cache saves", f"{100 * (1 - step_s / step_nocache):.1f}% of step time "
                                      f"({step_nocache * 1e3:.1f} -> {step_s * 1e3:.1f} ms)")]
    width = max(len(k) for k, _ in rows)
    for k, v in rows:
        print(f"{k:<{width}}  {v}")
    if args.profile:
        activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device.type == "cuda" else [])
        with profile(activities=activities, record_shapes=True) as prof:
            trainer.train_step([timed_batches[0]])
        sort = "self_cuda_time_total" if device.type == "cuda" else "self_cpu_time_total"
        print(prof.key_averages(group_by_input_shape=True).table(sort_by=sort, row_limit=30,
                                                                 max_name_column_width=40))
    tmp.cleanup()


if __name__ == "__main__":
    main()
