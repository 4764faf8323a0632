"""``mslu corpus {stats,validate,info,build}``: inspect, check and build pose-text corpora."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def register(subparsers) -> None:
    p = subparsers.add_parser("corpus", help="build, inspect and validate pose-text corpora")
    sub = p.add_subparsers(dest="corpus_command", metavar="SUBCOMMAND")
    p.set_defaults(func=lambda args: (p.print_help(), 1)[1])

    s = sub.add_parser("stats", help="Table I / Table II / Fig. 3 statistics of a corpus")
    s.add_argument("path", help="corpus directory")
    s.add_argument("--out", help="write stats.md, stats.json and durations.png here")
    s.add_argument("--bin-width", type=int, default=25, help="histogram bin width in frames")
    s.add_argument("--coverage-samples", type=int, default=2000,
                   help="keypoint coverage per part and source over at most this many samples per source "
                        "(evenly spaced; 0: all; -1: no coverage table)")
    s.set_defaults(func=_stats)

    v = sub.add_parser("validate", help="check every shard and sample; list all problems")
    v.add_argument("path", help="corpus directory")
    v.add_argument("--max-problems", type=int, default=None, help="stop after this many problems")
    v.set_defaults(func=_validate)

    i = sub.add_parser("info", help="summary of a corpus (samples, frames, shards, size, columns)")
    i.add_argument("path", help="corpus directory")
    i.set_defaults(func=_info)

    b = sub.add_parser("build", help="build a corpus from a recipe (mslu.data.build)")
    b.add_argument("--recipe", required=True, help="recipe YAML")
    b.add_argument("--out", required=True, help="output corpus directory")
    b.set_defaults(func=_build)


def _open(path: str):
    from mslu.data.corpus import Corpus, CorpusError

    try:
        return Corpus(path)
    except CorpusError as e:
        print(f"error: {e}", file=sys.stderr)
        return None


def _stats(args: argparse.Namespace) -> int:
    from mslu.data.corpus import CorpusError
    from mslu.data.stats import (
        compute_coverage,
        compute_stats,
        render_coverage_markdown,
        render_stats_markdown,
        write_stats,
    )

    corpus = _open(args.path)
    if corpus is None:
        return 2
    title = Path(args.path).name or str(args.path)
    try:
        coverage = None
        if args.coverage_samples >= 0:
            coverage = compute_coverage(corpus, max_samples=args.coverage_samples or None)
        if args.out:
            stats = write_stats(corpus, args.out, title=title, bin_width=args.bin_width, coverage=coverage)
        else:
            stats = compute_stats(corpus, bin_width=args.bin_width)
    except CorpusError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(render_stats_markdown(stats, title), end="")
    if coverage is not None:
        print("\n" + render_coverage_markdown(coverage), end="")
    if args.out:
        print(f"\nwrote {Path(args.out) / 'stats.md'}, stats.json, durations.png")
    return 0


def _validate(args: argparse.Namespace) -> int:
    from mslu.data.corpus import validate_corpus

    problems = validate_corpus(args.path, max_problems=args.max_problems)
    for p in problems:
        print(p)
    if problems:
        print(f"{len(problems)} problem(s) in {args.path}", file=sys.stderr)
        return 1
    print(f"{args.path}: OK")
    return 0


def _info(args: argparse.Namespace) -> int:
    corpus = _open(args.path)
    if corpus is None:
        return 2
    info = corpus.info()
    for k, v in info.items():
        print(f"{k:16s} {v}")
    return 0


def _build(args: argparse.Namespace) -> int:
    try:
        from mslu.data.build import build_corpus
    except ImportError as e:
        print(
            f"error: corpus building is unavailable (mslu.data.build could not be imported: {e})",
            file=sys.stderr,
        )
        return 2
    result = build_corpus(args.recipe, args.out)
    if result is not None:
        report = result.to_dict() if hasattr(result, "to_dict") else result
        try:
            print(json.dumps(report, indent=1, default=str))
        except TypeError:
            print(report)
    return 0
