"""Speed of the pose layer's hot paths on one core: ``normalize_for_model`` (data loader, per sample and
batched), ``to_frame_units`` and reading ``.pose`` files.

Usage: .venv/bin/python benchmarks/pose_speed.py [--frames 256] [--repeats 2000] [--pose FILE]
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from mslu.pose.io import read_pose  # noqa: E402
from mslu.pose.layouts import COCO_WHOLEBODY_133  # noqa: E402
from mslu.pose.normalize import normalize_for_model, to_frame_units  # noqa: E402
from mslu.pose.sequence import PoseSequence  # noqa: E402


def _time(fn, repeats: int) -> float:
    fn()
    t0 = time.perf_counter()
    for _ in range(repeats):
        fn()
    return (time.perf_counter() - t0) / repeats


def _report(name: str, dt: float, unit: str, frames: int) -> None:
    print(f"{name:<40} {dt * 1e3:8.3f} ms/{unit}  {frames / dt:10.0f} frames/s")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--frames", type=int, default=256)
    ap.add_argument("--repeats", type=int, default=2000)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--pose", type=Path, default=None, help="a .pose file to time reading")
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    pose = rng.uniform(0, 1, (args.frames, 79, 3)).astype(np.float32)
    pose[rng.uniform(size=(args.frames, 79)) < 0.1] = 0
    dt = _time(lambda: normalize_for_model(pose), args.repeats)
    _report(f"normalize_for_model  ({args.frames},79,3)", dt, "sample", args.frames)
    batch = np.stack([pose] * args.batch)
    dt = _time(lambda: normalize_for_model(batch), max(args.repeats // args.batch, 5))
    print(f"normalize_for_model  batch {args.batch}: {dt * 1e3:7.3f} ms/batch  "
          f"{args.batch * args.frames / dt:10.0f} frames/s")
    t = args.frames
    raw = np.concatenate([rng.uniform(0, 640, (t, 133, 2)), rng.uniform(0, 1, (t, 133, 1))], -1)
    seq = PoseSequence(raw, COCO_WHOLEBODY_133, 25.0, 640, 480)
    dt = _time(lambda: to_frame_units(seq), args.repeats)
    _report("to_frame_units       COCO-133 -> SL79", dt, "sample", args.frames)
    if args.pose:
        dt = _time(lambda: read_pose(args.pose), 20)
        n = read_pose(args.pose).num_frames
        print(f"read_pose            {args.pose.name}: {dt * 1e3:7.3f} ms/file  {n / dt:10.0f} frames/s")


if __name__ == "__main__":
    main()
