"""``mslu finetune``: fine-tune a downstream task (ISLR, CSLR, GF-SLT, SL-RT) on a pre-trained encoder."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "finetune",
        help="fine-tune a downstream task (islr, cslr, slt, retrieval)",
        description="Fine-tune psi_SE + a task head (paper Sec. IV-B, Table III schedules). Writes "
        "metrics.json, history.csv, predictions.jsonl and model/ into the run directory.",
    )
    p.add_argument(
        "--task",
        choices=["islr", "cslr", "slt", "retrieval"],
        default=None,
        help="task (default: the config's `task:`)",
    )
    p.add_argument("--config", required=True,
                   help="YAML file or shipped config name, e.g. islr/wlasl100 (see `mslu configs`)")
    enc = p.add_mutually_exclusive_group()
    enc.add_argument("--encoder", default=None, help="pre-trained encoder directory (save_pretrained)")
    enc.add_argument("--scratch", action="store_true", help="random encoder, full lr (alpha = 0%% baseline)")
    p.add_argument("--out", default=None, help="run directory (overrides run.out)")
    p.add_argument("--resume", action="store_true", help="continue from the newest checkpoint in the run dir")
    p.add_argument("--force", action="store_true",
                   help="with --resume: continue even if run settings (batch, lr, seed, model) changed")
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="dotted override, e.g. --set optim.lr=3e-4 (repeatable)",
    )
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    import json

    from mslu.training.finetuner import run_finetune

    metrics = run_finetune(
        args.config,
        out_dir=args.out,
        encoder_dir=args.encoder,
        scratch=True if args.scratch else None,
        resume=args.resume, force=args.force,
        overrides=args.overrides,
        task=args.task,
    )
    key = metrics["main_metric"]
    print(f"test {key} = {metrics['test'][key]:.2f} (best dev {metrics['dev'].get(key, float('nan')):.2f})")
    print(json.dumps(metrics["test"], ensure_ascii=False))
    return 0
