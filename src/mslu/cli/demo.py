"""``mslu demo``: the main job on the built-in synthetic corpus."""

from __future__ import annotations

import argparse


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "demo",
        help="main job: synthetic corpus -> pre-train -> fine-tune all tasks -> report",
        description="Build the synthetic corpus, pre-train the small preset, fine-tune ISLR, CSLR, "
        "GF-SLT and SL-RT from the pre-trained encoder and from scratch, and write OUT/report.md "
        "(at --scale 1: 9-10 minutes on a 2-core CPU in fp32).",
    )
    p.add_argument("--out", default="runs/demo", help="run directory (default runs/demo)")
    p.add_argument("--scale", type=float, default=1.0, help="multiply data sizes and epochs (default 1.0)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--tasks",
        nargs="+",
        default=["islr", "cslr", "slt", "retrieval"],
        choices=["islr", "cslr", "slt", "retrieval"],
    )
    p.add_argument(
        "--threads",
        type=int,
        default=None,
        help="torch CPU threads per process (default: the cores shared out among the processes running at "
        "once; use 1 on a machine busy with other jobs, where threads wait for each other)",
    )
    p.add_argument(
        "--frame-step",
        type=int,
        default=2,
        help="keep every N-th frame of the synthetic signers' 25-fps animation (default 2: 12.5 fps)",
    )
    p.add_argument(
        "--fresh", action="store_true", help="pre-train again even if OUT holds an encoder of the same config"
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bars (stage lines only)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from mslu.demo import DemoConfig, run_demo

    cfg = DemoConfig(
        out=Path(args.out),
        scale=args.scale,
        seed=args.seed,
        tasks=tuple(args.tasks),
        threads=args.threads,
        frame_step=args.frame_step,
        reuse=not args.fresh,
        progress=not args.no_progress,
    )
    path = run_demo(cfg)
    print(f"report written to {path}")
    return 0
