"""``mslu extract VIDEOS_OR_DIRS... --out DIR``: whole-body pose extraction to ``.pose`` files."""

from __future__ import annotations

import argparse


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "extract",
        help="extract whole-body poses from videos into .pose files",
        description="Run a whole-body pose estimator frame by frame over videos and write .pose files. "
        "Parallel over videos, resumable (finished outputs are skipped), shardable; per-video errors go "
        "to OUT/errors.csv. See docs/extraction.md.",
    )
    p.add_argument("inputs", nargs="+", metavar="VIDEOS_OR_DIRS", help="video files and/or directories")
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--backend", choices=("mediapipe", "rtmlib"), default="mediapipe")
    p.add_argument("--workers", type=int, default=1, help="parallel worker processes (one estimator each)")
    p.add_argument("--shard", default=None, metavar="i/n",
                   help="process only videos[i::n] of the sorted list")
    p.add_argument("--hands", default=None, metavar="FILE_OR_DIR",
                   help="hand estimator output to refine hands with (.npz/.npy, or a directory of "
                   "<video stem>.npz)")
    p.add_argument("--hand-mode", choices=("available", "higher"), default="available",
                   help="replace a hand when the refined one exists, or only when its confidence is higher")
    p.add_argument("--model-complexity", type=int, choices=(0, 1, 2), default=1, help="MediaPipe Holistic")
    p.add_argument("--refine-face", action="store_true", help="MediaPipe: 478 refined face landmarks")
    p.add_argument("--world", action="store_true", help="MediaPipe: also store the 33 world landmarks")
    p.add_argument("--det-model", default=None, help="rtmlib: person detector .onnx (YOLOX / RTMDet)")
    p.add_argument("--pose-model", default=None, help="rtmlib: whole-body .onnx (RTMW / DWPose)")
    p.add_argument("--pose-input-size", type=int, nargs=2, default=(288, 384), metavar=("W", "H"),
                   help="rtmlib: pose model input width and height")
    p.add_argument("--device", default="cpu", help="rtmlib: cpu | cuda")
    p.add_argument("--max-side", type=int, default=0,
                   help="resize frames whose longest side exceeds this before estimation (paper: 256 for "
                   "WLASL/MSASL); keypoints are stored in the original frame's pixels")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from mslu.extract.pipeline import ExtractConfig, parse_shard, run_extraction

    cfg = ExtractConfig(
        backend=args.backend, model_complexity=args.model_complexity, refine_face_landmarks=args.refine_face,
        world=args.world, det_model=args.det_model, pose_model=args.pose_model,
        pose_input_size=tuple(args.pose_input_size), device=args.device, max_side=args.max_side,
        hands=args.hands, hand_mode=args.hand_mode,
    )
    shard = parse_shard(args.shard) if args.shard else None
    report = run_extraction(args.inputs, args.out, cfg, workers=args.workers, shard=shard,
                            progress=not args.no_progress)
    fps = report.frames / report.seconds if report.seconds else 0.0
    print(f"written {len(report.written)}, skipped (done) {len(report.skipped)}, "
          f"failed {len(report.failed)}; {report.frames} frames in {report.seconds:.1f} s "
          f"({fps:.1f} frames/s)")
    for video, err in report.failed:
        print(f"FAILED {video}: {err}")
    return 1 if report.failed else 0
