"""``mslu synth``: write the built-in synthetic sign-text corpus (and its downstream benchmarks)."""

from __future__ import annotations

import argparse
import logging
import time

log = logging.getLogger(__name__)


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
    p.add_argument("--shard-size", type=int, default=4096)
    p.add_argument(
        "--workers", type=int, default=1, help="generator processes (samples are written in order)"
    )
    p.add_argument("--benchmarks", action="store_true", help="also write the downstream benchmarks")
    p.add_argument(
        "--bench-sizes", type=int, nargs=3, default=[1000, 200, 200], metavar=("TRAIN", "DEV", "TEST")
    )
    p.set_defaults(func=run)


def _write(root, ids: list[str], make, shard_size: int) -> None:
    """Write the samples ``make(indices)`` for the ``ids`` not yet in the corpus at ``root``."""
    from mslu.data.corpus import CorpusWriter

    t0 = time.perf_counter()
    with CorpusWriter(root, shard_size=shard_size) as w:
        todo = [i for i, sid in enumerate(ids) if sid not in w]
        for sample in make(todo):
            w.add(sample)
    report = w.report
    log.info("%s: %d written, %d already there, %d skipped (%.1f s)", root, report.written,
             len(ids) - len(todo), len(report.skipped), time.perf_counter() - t0)  # fmt: skip
    for sid, problem in report.skipped[:10]:
        log.warning("skipped %s: %s", sid, problem)


def _chunk(job) -> list:
    from mslu.data.synth import make_samples

    cfg, indices = job
    return list(make_samples(cfg, indices))


def _parallel(cfg, todo: list[int], workers: int):
    """Samples ``todo`` of the stream of ``cfg``, in order, made by ``workers`` processes."""
    from mslu.data.synth import make_samples

    if workers <= 1 or len(todo) < 256:
        yield from make_samples(cfg, todo)
        return
    import multiprocessing as mp

    step = 256
    jobs = ((cfg, todo[k : k + step]) for k in range(0, len(todo), step))
    with mp.get_context("spawn").Pool(workers) as pool:
        for samples in pool.imap(_chunk, jobs):
            yield from samples


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from mslu.data.synth import (
        BENCHMARK_KINDS,
        SynthConfig,
        benchmark_sample_id,
        make_benchmark_samples,
        sample_id,
    )

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
    )
    out = Path(args.out)
    ids = [sample_id(cfg, i) for i in range(cfg.num_samples)]
    _write(out, ids, lambda todo: _parallel(cfg, todo, args.workers), args.shard_size)
    if args.benchmarks:
        sizes = dict(zip(("train", "dev", "test"), args.bench_sizes, strict=True))
        for lang in cfg.languages:
            for kind in BENCHMARK_KINDS:
                plan = [(split, i) for split, n in sizes.items() for i in range(n)]
                ids = [benchmark_sample_id(kind, lang, split, i, args.seed) for split, i in plan]

                def make(todo, kind=kind, lang=lang, plan=plan):
                    for split in sizes:
                        idx = [plan[j][1] for j in todo if plan[j][0] == split]
                        yield from make_benchmark_samples(kind, lang, split, idx, args.seed, cfg)

                _write(out / "benchmarks" / f"{kind}-{lang}", ids, make, args.shard_size)
    return 0
