"""Extraction speed: frames/s per core of the bare MediaPipe Holistic estimator vs the full pipeline
(video decode + estimator + conversion to pixels/confidence + atomic .pose write), and the pipeline's
overhead over the bare estimator (target <= 10%).

The process is pinned to one CPU core (``--cores``) and timed in CPU seconds of the process (all its
threads), so the figures are per core and little affected by other load on a shared machine. The bare
estimator runs on frames decoded in advance; both runs reset the tracker per video, and each figure is the
best of ``--repeats`` passes. Videos: ../shared/poses (SOUP.mp4, the AUTSL clip), else a synthetic clip.

    .venv/bin/python benchmarks/extract_speed.py [--repeats 3] [--model-complexity 1]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("MSLU_SHARED", ROOT.parent / "shared"))


def synthetic_video(path: Path, n: int = 60, w: int = 320, h: int = 240) -> Path:
    import cv2

    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 25.0, (w, h))
    for i in range(n):
        frame = np.full((h, w, 3), 90, np.uint8)
        cv2.circle(frame, (w // 2 + int(40 * np.sin(i / 5)), h // 2), 30, (200, 170, 150), -1)
        writer.write(frame)
    writer.release()
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--model-complexity", type=int, default=1)
    ap.add_argument("--cores", type=int, default=1, help="pin to this many CPU cores (0: no pinning)")
    args = ap.parse_args()
    if args.cores and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[: args.cores])
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()

    from mslu.extract.mediapipe_backend import MediaPipeHolistic
    from mslu.extract.pipeline import ExtractConfig, process_one
    from mslu.extract.video import read_frames

    tmp = Path(tempfile.mkdtemp(prefix="mslu-extract-bench-"))
    videos = [SHARED / "poses/videos/SOUP.mp4", SHARED / "poses/autsl/signer0_sample1000_color.mp4"]
    videos = [v for v in videos if v.is_file()] or [synthetic_video(tmp / "synthetic.mp4")]
    est = MediaPipeHolistic(model_complexity=args.model_complexity)
    decoded = [read_frames(v)[0] for v in videos]
    n_frames = sum(len(f) for f in decoded)
    cfg = ExtractConfig(model_complexity=args.model_complexity)

    def bare() -> float:
        t = time.process_time()
        for frames in decoded:
            est.reset()
            for frame in frames:
                est._holistic.process(frame)
        return time.process_time() - t

    def full() -> float:
        t = time.process_time()
        for v in videos:
            process_one(v, tmp / f"{v.stem}.pose", Path(v.stem), cfg, est)
        return time.process_time() - t

    bare()  # warm-up
    t_bare, t_full = float("inf"), float("inf")
    for _ in range(args.repeats):  # interleaved so that load changes hit both
        t_bare = min(t_bare, bare())
        t_full = min(t_full, full())
    est.close()
    print(f"videos: {', '.join(v.name for v in videos)} ({n_frames} frames); cores: {cores}; "
          f"MediaPipe Holistic model_complexity={args.model_complexity}")
    print(f"bare estimator : {n_frames / t_bare:7.1f} frames/s per core (CPU time)")
    print(f"full pipeline  : {n_frames / t_full:7.1f} frames/s per core (CPU time)")
    print(f"overhead       : {100 * (t_full - t_bare) / t_bare:+7.1f} % (target <= 10 %)")


if __name__ == "__main__":
    main()
