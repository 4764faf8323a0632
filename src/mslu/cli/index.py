"""``mslu index``: build a sign index of a collection of pose files / videos (``build``), describe one
(``info``). See docs/search.md."""

from __future__ import annotations

import argparse
import sys


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "index",
        help="build a searchable sign index with a retrieval run",
        description="Sign indexes for `mslu search` (docs/search.md).",
    )
    sub = p.add_subparsers(dest="index_command", metavar="ACTION")
    b = sub.add_parser(
        "build",
        help="embed pose files and videos into an index (resumable)",
        description="Embed every clip (pose files in any supported layout; videos through the MediaPipe "
        "extractor when installed) with a fine-tuned SL-RT run. Running it again on the same --out skips "
        "what is indexed already: it resumes an interrupted build and adds new files.",
    )
    b.add_argument("--run", required=True, help="fine-tuned retrieval run (`mslu finetune` task retrieval)")
    b.add_argument("inputs", nargs="+", metavar="FILES_OR_DIRS",
                   help=".pose / .json / .npy / .npz pose files, videos, or directories of them")  # fmt: skip
    b.add_argument("--out", required=True, help="index directory (new, empty, or an index of this run)")
    b.add_argument("--batch-size", type=int, default=32, help="clips per encoder forward (default 32)")
    b.add_argument("--ann", default="auto", choices=("auto", "on", "off"),
                   help="write an ANN index: auto = from 50,000 clips on (default)")  # fmt: skip
    b.add_argument("--width", type=int, help="frame width of pose files that do not record it (MMPose JSON)")
    b.add_argument("--height", type=int, help="frame height of pose files that do not record it")
    b.add_argument("--device", default="auto")
    b.add_argument("--no-progress", action="store_true", help="no progress bar")
    b.set_defaults(func=_build)
    i = sub.add_parser("info", help="describe an index", description="Clips, run and ANN state of an index.")
    i.add_argument("index")
    i.add_argument("--json", action="store_true", help="as JSON")
    i.set_defaults(func=_info)
    p.set_defaults(func=lambda args: (p.print_help(), 1)[1])


def _error(msg: object) -> int:
    print(f"error: {' '.join(str(msg).split())}", file=sys.stderr)
    return 2


def _build(args: argparse.Namespace) -> int:
    from tqdm.auto import tqdm

    from mslu.search import SignIndex, build_index, is_index

    def skipped(path: str, msg: str) -> None:
        tqdm.write(f"skipped: {msg}", file=sys.stderr)

    try:
        report = build_index(
            args.run, args.inputs, args.out, batch_size=args.batch_size, ann=args.ann, device=args.device,
            progress=not args.no_progress, on_error=skipped, width=args.width, height=args.height,
        )  # fmt: skip
    except KeyboardInterrupt:
        n = len(SignIndex.open(args.out)) if is_index(args.out) else 0
        print(f"mslu: interrupted; {args.out} holds {n} clips: run the same command to continue",
              file=sys.stderr)  # fmt: skip
        return 130
    except (OSError, ValueError, RuntimeError) as e:
        return _error(e)
    ann = ", ANN index written" if report.ann else ""
    failed = len(report.failed)
    print(f"{report.index}: {report.added} clips added, {report.already} already indexed, {failed} "
          f"skipped; {report.total} clips in all{ann} ({report.seconds:.1f} s)")  # fmt: skip
    return 1 if failed else 0


def _info(args: argparse.Namespace) -> int:
    import json

    from mslu.search import SignIndex
    from mslu.search.ann import ANN_THRESHOLD, AnnIndex

    try:
        index = SignIndex.open(args.index)
        loaded = AnnIndex.load(index.root / "ann")
    except (OSError, ValueError) as e:
        return _error(e)
    ann = "none"
    if loaded is not None:
        fresh = loaded[1].get("shards") == [s.name for s in index.shards]
        ann = f"{loaded[1]['rows']} rows" + ("" if fresh else " (stale: updated at the next search)")
    info = {
        "index": str(index.root),
        "clips": len(index),
        "shards": len(index.shards),
        "run": index.info["run"]["path"],
        "run_sha256": index.info["run"]["sha256"],
        "embedding": index.embedding,
        "ann": ann,
        "ann_threshold": ANN_THRESHOLD,
        "created": index.info.get("created"),
    }
    if args.json:
        print(json.dumps(info, ensure_ascii=False, indent=1))
    else:
        for k, v in info.items():
            print(f"{k:>13}: {v}")
    return 0
