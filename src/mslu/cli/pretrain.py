"""``mslu pretrain``: pre-train the sign pose encoder (single process or under torchrun)."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "pretrain", help="pre-train the sign pose encoder (L_PR + L_STC)",
        description="Pre-train on a mslu corpus. Multi-GPU: torchrun --nproc_per_node 8 -m mslu.cli pretrain "
                    "--config FILE; multi-node: add --nnodes N --rdzv_backend c10d --rdzv_endpoint H:P.")
    p.add_argument("--config", required=True,
                   help="YAML file or shipped config name, e.g. pretrain/sl1.5m_paper (see `mslu configs`)")
    p.add_argument("--out", default=None, help="run directory (overrides run.out)")
    p.add_argument("--resume", action="store_true", help="continue from the newest checkpoint in the run dir")
    p.add_argument("--force", action="store_true",
                   help="with --resume: continue even if run settings (batch, lr, seed, model) changed")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="dotted override, e.g. --set optim.lr=3e-4 (repeatable)")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from mslu.training.pretrainer import run_pretrain
    from mslu.training.run_config import load_config

    overrides = list(args.overrides)
    if args.out:
        overrides.append(f"run.out={args.out}")
    cfg = load_config(args.config, overrides)
    metrics = run_pretrain(cfg, resume=args.resume, force=args.force)
    if metrics:
        print("final: " + ", ".join(f"{k}={v:.4g}" for k, v in metrics.items()))
    return 0
