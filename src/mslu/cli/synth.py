"""``mslu synth``: write the built-in synthetic sign-text corpus (and its downstream benchmarks)."""

from __future__ import annotations

import argparse
from pathlib import Path

from mslu.data.synth import BENCHMARK_KINDS, SynthConfig
from mslu.data.synth.writer import write_benchmark, write_pretraining_corpus


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "synth",
        help="generate the synthetic sign language corpus",
        description="Generate the synthetic sign-text corpus (three synthetic sign languages with English, "
        "German and Chinese texts) into a corpus directory; resumable (existing ids are skipped). "
        "With --benchmarks, also write the downstream benchmarks (islr, cslr, slt, retrieval) per language "
        "under OUT/benchmarks/<kind>-<language>.",
    )
    p.add_argument("--out", required=True, help="corpus directory")
    p.add_argument("--num-samples", type=int, default=10000, help="pre-training samples (default 10000)")
    p.add_argument("--seed", type=int, default=0, help="sample stream seed")
    p.add_argument("--world-seed", type=int, default=1234, help="seed of vocabularies, signs and signers")
    p.add_argument("--languages", nargs="+", default=["syn-en", "syn-de", "syn-zh"])
    p.add_argument("--vocab-size", type=int, default=100, help="signs per language")
    p.add_argument("--frac-isolated", type=float, default=0.4)
    p.add_argument("--frac-continuous", type=float, default=0.45)
    p.add_argument("--frac-unpaired", type=float, default=0.15)
    p.add_argument("--confusing-fraction", type=float, default=0.1, help="signs in non-manual-only pairs")
    p.add_argument("--cognate-fraction", type=float, default=0.2, help="concepts with alike signs everywhere")
    p.add_argument("--split", default="pretrain", choices=["pretrain", "train"])
    p.add_argument("--frame-step", type=int, default=1,
                   help="keep every N-th frame of the 25-fps animation (2: a 12.5-fps corpus; default 1)")
    p.add_argument("--shard-size", type=int, default=4096)
    p.add_argument(
        "--workers", type=int, default=1, help="generator processes (samples are written in order)"
    )
    p.add_argument("--benchmarks", action="store_true", help="also write the downstream benchmarks")
    p.add_argument(
        "--bench-sizes", type=int, nargs=3, default=[1000, 200, 200], metavar=("TRAIN", "DEV", "TEST")
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    cfg = SynthConfig(
        seed=args.seed,
        num_samples=args.num_samples,
        languages=tuple(args.languages),
        vocab_size=args.vocab_size,
        frac_isolated=args.frac_isolated,
        frac_continuous=args.frac_continuous,
        frac_unpaired=args.frac_unpaired,
        confusing_fraction=args.confusing_fraction,
        cognate_fraction=args.cognate_fraction,
        world_seed=args.world_seed,
        split=args.split,
        frame_step=args.frame_step,
    )
    out = Path(args.out)
    write_pretraining_corpus(out, cfg, workers=args.workers, shard_size=args.shard_size)
    if args.benchmarks:
        sizes = dict(zip(("train", "dev", "test"), args.bench_sizes, strict=True))
        for lang in cfg.languages:
            for kind in BENCHMARK_KINDS:
                write_benchmark(out / "benchmarks" / f"{kind}-{lang}", kind, lang, sizes, args.seed, cfg,
                                args.shard_size)  # fmt: skip
    return 0
