"""``mslu evaluate``: evaluate a fine-tuned run on a split of its corpus."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "evaluate",
        help="evaluate a fine-tuned run (metrics of a split)",
        description="Re-evaluate RUN/model on a split of the run's corpus; prints "
        "the metrics as JSON and writes RUN/eval_<split>.json.",
    )
    p.add_argument("--run", required=True, help="run directory written by `mslu finetune`")
    p.add_argument("--split", default="test", help="train | dev | test (default test)")
    p.add_argument("--corpus", default=None, help="corpus path (default: the run config's data.corpus)")
    p.add_argument("--device", default="auto")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    from mslu.tasks.run_dir import evaluate_run

    corpus = None
    if args.corpus:
        from mslu.data.corpus import Corpus

        corpus = Corpus(args.corpus)
    res = evaluate_run(args.run, args.split, corpus=corpus, device=args.device)
    out = {"task": res["task"], "split": args.split, "metrics": res["metrics"]}
    (Path(args.run) / f"eval_{args.split}.json").write_text(json.dumps(out, indent=1, ensure_ascii=False))
    print(json.dumps(out, ensure_ascii=False))
    return 0
