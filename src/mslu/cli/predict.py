"""``mslu predict``: run a fine-tuned model on pose files (or videos, with the MediaPipe backend)."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "predict",
        help="predict with a fine-tuned run on .pose files or videos",
        description="Prints per input: top-5 classes (ISLR), glosses (CSLR), the "
        "translation (GF-SLT) or the nearest training sentences (SL-RT), as JSON lines.",
    )
    p.add_argument("--run", required=True, help="run directory written by `mslu finetune`")
    p.add_argument("inputs", nargs="+", help=".pose / .json / .npy / .npz pose files or videos")
    p.add_argument("--device", default="auto")
    p.set_defaults(func=_run)


def load_input(path: str):
    """(T, 79, 3) pose in frame units from a pose file, or from a video via MediaPipe when importable."""
    from pathlib import Path

    from mslu.extract.video import VIDEO_EXTENSIONS
    from mslu.pose.mapping import to_sl79
    from mslu.pose.normalize import to_frame_units

    if Path(path).suffix.lower() in VIDEO_EXTENSIONS:
        try:
            from mslu.extract.pipeline import ExtractConfig, extract_video, make_estimator

            seq = extract_video(path, make_estimator(ExtractConfig()))
        except ImportError as e:
            raise ValueError(f"{path}: videos need the MediaPipe backend ({e}); extract poses first") from e
    else:
        from mslu.pose.io import read_pose

        seq = read_pose(path)
    return to_frame_units(to_sl79(seq))


def _run(args: argparse.Namespace) -> int:
    import json

    from mslu.tasks.run_dir import load_model, resolve_device

    device = resolve_device(args.device)
    task, model = load_model(args.run, device)
    status = 0
    for path in args.inputs:
        try:
            pose = load_input(path)
            out = task.predict(model, pose, device)
        except (OSError, ValueError) as e:
            print(json.dumps({"input": path, "error": str(e)}, ensure_ascii=False))
            status = 1
            continue
        print(json.dumps({"input": path, "task": task.name, **out}, ensure_ascii=False))
    return status
