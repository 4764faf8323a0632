"""``mslu render FILE``: draw a pose file as a GIF, MP4 or PNG grid of skeleton frames."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

log = logging.getLogger(__name__)


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "render", help="draw a pose file (.pose, MMPose .json, .npy/.npz) as a GIF, MP4 or PNG grid"
    )
    p.add_argument("file", type=Path, help="pose file")
    p.add_argument("--out", type=Path, default=None, help="output .gif, .mp4 or .png (default: ./<name>.gif)")
    p.add_argument("--grid", type=int, default=16, help="frames in a .png grid (default 16)")
    p.add_argument("--raw", action="store_true", help="draw the file's own layout instead of SL79")
    p.add_argument("--size", type=int, default=384, help="longer side of a frame in pixels")
    p.add_argument("--caption", default=None, help="text drawn on every frame")
    p.add_argument("--fps", type=float, default=None, help="output frame rate (default: the file's)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing output file")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from mslu.pose.io import read_pose
    from mslu.pose.render import render

    out = args.out or Path(args.file.name.split(".")[0] + ".gif")
    if out.exists() and not args.overwrite:
        raise FileExistsError(f"{out} exists; choose another --out or pass --overwrite")
    seq = read_pose(args.file)
    path = render(seq, out, raw=args.raw, grid=args.grid, size=args.size, caption=args.caption, fps=args.fps)
    print(f"{path}: {seq.num_frames} frames, layout {seq.layout.name}")
    return 0
