"""``mslu ingest NAME --root R --poses P --out D``: one dataset release + its pose files -> a corpus."""

from __future__ import annotations

import argparse
import json
import sys


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "ingest", help="build a corpus from one dataset (official annotations + .pose files)",
        description="Ingest one dataset into a corpus (a one-source recipe of mslu.data.build). "
        "Datasets: wlasl, msasl, nmfs_csl, slr500, phoenix2014, phoenix2014t, csl_daily, how2sign, bobsl.")
    p.add_argument("name", help="dataset name (see mslu.data.datasets.INGESTORS)")
    p.add_argument("--root", required=True, help="the dataset's release folder (official annotation files)")
    p.add_argument("--poses", required=True, help="folder of the .pose files (named after clip / video ids)")
    p.add_argument("--out", required=True, help="output corpus directory (resumed when it exists)")
    p.add_argument("--splits", nargs="+", default=["train"],
                   help="splits to include: train dev test, or all (default: train)")
    p.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                   help="ingestor option, VALUE parsed as YAML (e.g. --option test_signers=[9,10])")
    p.add_argument("--limit", type=int, default=None, help="at most this many clips")
    p.add_argument("--shard-size", type=int, default=4096, help="samples per corpus shard")
    p.add_argument("--no-benchmarks", action="store_true", help="do not write benchmark split files")
    p.set_defaults(func=_ingest)


def _ingest(args: argparse.Namespace) -> int:
    import yaml

    from mslu.data.build import RecipeError, build_corpus

    options = {}
    for item in args.option:
        key, sep, value = item.partition("=")
        if not sep or not key:
            print(f"error: --option expects KEY=VALUE, got {item!r}", file=sys.stderr)
            return 2
        options[key.strip()] = yaml.safe_load(value)
    splits = "all" if args.splits == ["all"] else args.splits
    recipe = {
        "name": args.name, "shard_size": args.shard_size, "include_splits": splits,
        "benchmarks": "none" if args.no_benchmarks else "all",
        "sources": [{"name": args.name, "root": args.root, "poses": args.poses, "options": options,
                     "limit": args.limit}],
    }
    try:
        stats = build_corpus(recipe, args.out)
    except (RecipeError, KeyError, TypeError, ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(stats, indent=1, ensure_ascii=False))
    return 0
