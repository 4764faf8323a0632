"""``mslu predict``: run a fine-tuned model on pose files (or videos, with the MediaPipe backend).

Inputs: every pose format and layout :func:`mslu.pose.io.read_pose` reads (``.pose``, ``.npy`` / ``.npz``,
the JSON kinds, OpenPose frame folders, ``.skels`` / ``file.skels#N``, gzip-compressed too) and videos.
Frame size and coordinates: ``--width`` / ``--height`` fill in a frame size the file lacks,
``--coordinates`` says whether x, y are pixels or normalised (default: detected); ``--layout`` /
``--channels`` declare what a bare array holds.

Each input's layout and keypoint coverage (per part) are compared with the training data of the run: its
``model/input_profile.json`` when present, else the profile of its training split read from the training
corpus (``data.corpus`` of the run config). A layout never seen in training, or a part (body, face, mouth,
either hand) present in training but missing in the input (or the reverse) gives a warning, on stderr and
in the input's JSON line (``warnings``).
"""

from __future__ import annotations

import argparse
import sys


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "predict",
        help="predict with a fine-tuned run on pose files (any supported format and layout) or videos",
        description="Prints per input: top-5 classes (ISLR), glosses (CSLR), the "
        "translation (GF-SLT) or the nearest training sentences (SL-RT), as JSON lines; warns when an "
        "input's layout or keypoint coverage differs from the training data's.",
    )
    p.add_argument("--run", required=True, help="run directory written by `mslu finetune`")
    p.add_argument("inputs", nargs="+", help="pose files (.pose .json .npy .npz .skels, .gz too; OpenPose "
                                             "folders) or videos")
    p.add_argument("--device", default="auto")
    p.add_argument("--layout", help="keypoint layout of arrays / JSON whose keypoint count is ambiguous")
    p.add_argument("--channels", help="channels of (T, K, C) arrays: xy, xyc, xyz or xyzc")
    p.add_argument("--coordinates", default="auto", choices=("auto", "pixels", "normalized"),
                   help="x, y in pixels or normalised by the frame size (default: detected)")
    p.add_argument("--width", type=int, help="frame width in pixels (for files that store none)")
    p.add_argument("--height", type=int, help="frame height in pixels (for files that store none)")
    p.add_argument("--fps", type=float, help="frame rate (for files that store none)")
    p.set_defaults(func=_run)


def read_input(path: str, layout: str | None = None, fps: float | None = None, channels: str | None = None):
    """The :class:`PoseSequence` of a pose file, or of a video via MediaPipe when importable."""
    from pathlib import Path

    from mslu.extract.video import VIDEO_EXTENSIONS

    if Path(path).suffix.lower() in VIDEO_EXTENSIONS:
        try:
            from mslu.extract.pipeline import ExtractConfig, extract_video, make_estimator

            return extract_video(path, make_estimator(ExtractConfig()))
        except ImportError as e:
            raise ValueError(f"{path}: videos need the MediaPipe backend ({e}); extract poses first") from e
    from mslu.pose.io import read_pose

    return read_pose(path, layout=layout, fps=fps, channels=channels)


def load_input(path: str, coordinates: str = "auto", width: int | None = None, height: int | None = None,
               layout: str | None = None, fps: float | None = None, channels: str | None = None):
    """(T, 79, 3) pose in frame units and the layout it was read in, from a pose file or a video. Frame
    size: the file's own, else ``width`` / ``height``."""
    from mslu.pose.mapping import to_sl79
    from mslu.pose.normalize import frame_units

    seq = read_input(path, layout, fps, channels)
    w, h = seq.width or width, seq.height or height
    return frame_units(to_sl79(seq), coordinates, w, h), seq.layout.name


def training_profile(run: str) -> tuple[dict | None, str]:
    """(profile of the run's training data, where it came from) or (None, why not)."""
    import json
    from pathlib import Path

    from mslu.data.corpus import Corpus, CorpusError
    from mslu.data.stats import input_profile
    from mslu.tasks.dataset import split_view
    from mslu.tasks.run_dir import model_dir

    d = model_dir(run)
    saved = d / "input_profile.json"
    if saved.is_file():
        try:
            return json.loads(saved.read_text(encoding="utf-8")), str(saved)
        except (OSError, ValueError) as e:
            return None, f"{saved} is unreadable ({e})"
    cfg = json.loads((d / "config.json").read_text(encoding="utf-8")).get("config", {})
    data = cfg.get("data") or {}
    root = data.get("corpus")
    if not root or not Path(root).is_dir():
        return None, f"the training corpus {root!r} of the run is not available"
    try:
        corpus = Corpus(root)
        view = split_view(corpus, (data.get("splits") or {}).get("train", "train"), data.get("benchmark"),
                          data.get("split_dir"))
    except (CorpusError, OSError, ValueError) as e:
        return None, f"cannot read the training split of {root} ({e})"
    return input_profile(view), f"training split of {root}"


def _run(args: argparse.Namespace) -> int:
    import json

    from mslu.data.stats import coverage_warnings, pose_coverage
    from mslu.tasks.run_dir import load_model, resolve_device

    device = resolve_device(args.device)
    task, model = load_model(args.run, device)
    profile, source = training_profile(args.run)
    if profile is None:
        print(f"warning: input coverage not checked: {source}", file=sys.stderr)
    status = 0
    for path in args.inputs:
        try:
            pose, layout = load_input(path, args.coordinates, args.width, args.height, args.layout, args.fps,
                                      args.channels)
            warnings = coverage_warnings(profile, layout, pose_coverage(pose)) if profile else []
            out = task.predict(model, pose, device)
        except (OSError, ValueError) as e:
            print(json.dumps({"input": path, "error": str(e)}, ensure_ascii=False))
            status = 1
            continue
        for w in warnings:
            print(f"warning: {path}: {w}", file=sys.stderr)
        record = {"input": path, "task": task.name, "layout": layout, **out}
        if warnings:
            record["warnings"] = warnings
        print(json.dumps(record, ensure_ascii=False))
    return status
