"""``mslu ablate``: the paper's ablation tables on the synthetic benchmark, several seeds, resumable."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "ablate",
        help="run ablation tables (XII-XIX) on the synthetic benchmark",
        description="Pre-train every variant of the tables (one config value each) and fine-tune the tasks "
        "from it, for each seed; writes OUT/ablations.md with the paper's direction and a verdict per row. "
        "Finished runs are reused: run it again to continue.",
    )
    p.add_argument("--tables", nargs="+", default=["XIV", "XV", "XVIII", "XIX"],
                   help="XII XIII XIV XV XVI XVII XVIII XIX (default XIV XV XVIII XIX)")
    p.add_argument("--tasks", nargs="+", default=["islr", "retrieval"],
                   choices=["islr", "cslr", "slt", "retrieval"])
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1])
    p.add_argument("--scale", type=float, default=0.5, help="of the main job's sizes / epochs")
    p.add_argument("--out", default="runs/ablate")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    p.add_argument("--frame-step", type=int, default=2,
                   help="of the synthetic corpus, as in `mslu demo` (default 2: 12.5 fps)")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from pathlib import Path

    import torch

    from mslu.demo.ablations import AblationConfig, run_ablations

    cfg = AblationConfig(tables=tuple(args.tables), tasks=tuple(args.tasks), seeds=tuple(args.seeds),
                         out=Path(args.out), scale=args.scale, threads=args.threads,
                         frame_step=args.frame_step)
    torch.set_num_threads(cfg.demo.num_threads())
    path = run_ablations(cfg)
    print(path.read_text())
    print(f"written to {path}")
    return 0
