"""Batch pose extraction: videos -> ``.pose`` files, in parallel, resumable, shardable.

* Inputs: video files and directories (searched recursively for :data:`VIDEO_EXTENSIONS`), sorted and
  de-duplicated. ``shard=(i, n)`` keeps ``videos[i::n]`` of that sorted list (0 <= i < n), so n jobs with
  i = 0..n-1 split the work disjointly and completely whatever order a scheduler starts them in.
* Output: ``OUT/<stem>.pose`` for a video given as a file; ``OUT/<path relative to the directory>.pose`` for
  a video found under a directory. Each file is written to a temporary name and renamed when complete, so an
  existing output is a finished one and is skipped on the next run (resume).
* One estimator per worker process (``ProcessPoolExecutor`` with a ``spawn`` context; ``workers=1`` runs in
  this process). A video that fails (unreadable, estimator error, bad hand file) is recorded in
  ``OUT/errors.csv`` (``errors-<i>of<n>.csv`` for a shard) and the batch goes on.
* ``max_side``: the paper scales the longest side of WLASL / MSASL frames to 256 before estimation
  (Sec. III-A); frames larger than ``max_side`` are resized for the estimator and the keypoints scaled back
  to the original frame's pixels, so width/height stay the video's.
"""

from __future__ import annotations

import csv
import logging
import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mslu.extract.base import Estimator
from mslu.extract.hand_refine import load_hands, refine_hands
from mslu.extract.mediapipe_backend import MediaPipeHolistic
from mslu.extract.rtmlib_backend import RTMLibWholeBody
from mslu.extract.video import VIDEO_EXTENSIONS, VideoError, VideoReader
from mslu.pose.io import write_pose
from mslu.pose.sequence import PoseSequence

log = logging.getLogger(__name__)

BACKENDS = ("mediapipe", "rtmlib")


@dataclass
class ExtractConfig:
    """Estimator and pipeline options (all picklable, sent to every worker)."""

    backend: str = "mediapipe"
    model_complexity: int = 1  # MediaPipe Holistic 0 | 1 | 2
    refine_face_landmarks: bool = False  # MediaPipe: 478 face points instead of 468
    world: bool = False  # MediaPipe: append the 33 world landmarks (576 / 586 layouts)
    det_model: str | None = None  # rtmlib: person detector .onnx
    pose_model: str | None = None  # rtmlib: whole-body (RTMW / DWPose) .onnx
    pose_input_size: tuple[int, int] = (288, 384)  # rtmlib: (width, height)
    device: str = "cpu"
    max_side: int = 0  # resize frames whose longest side exceeds this (0: never); paper: 256 for WLASL/MSASL
    hands: str | None = None  # hand refinement: one .npz/.npy, or a directory of <video stem>.npz
    hand_mode: str = "available"


@dataclass
class ExtractReport:
    """What a batch did: outputs written, skipped (already done) and failed (with the reason)."""

    written: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    frames: int = 0
    seconds: float = 0.0


def make_estimator(cfg: ExtractConfig) -> Estimator:
    """The estimator a config describes."""
    if cfg.backend == "mediapipe":
        return MediaPipeHolistic(cfg.model_complexity, cfg.refine_face_landmarks, cfg.world)
    if cfg.backend == "rtmlib":
        return RTMLibWholeBody(cfg.det_model, cfg.pose_model, pose_input_size=tuple(cfg.pose_input_size),
                               device=cfg.device)
    raise ValueError(f"unknown backend {cfg.backend!r}; choose from {BACKENDS}")


def collect_videos(inputs: list[str | Path]) -> list[tuple[Path, Path]]:
    """Sorted, de-duplicated ``(video, relative output stem)`` pairs from files and directories."""
    found: dict[Path, Path] = {}
    for item in inputs:
        p = Path(item)
        if p.is_dir():
            for v in p.rglob("*"):
                if v.is_file() and v.suffix.lower() in VIDEO_EXTENSIONS:
                    found.setdefault(v.resolve(), v.relative_to(p).with_suffix(""))
        elif p.exists():
            found.setdefault(p.resolve(), Path(p.stem))
        else:
            raise FileNotFoundError(f"no such video file or directory: {p}")
    return sorted(found.items(), key=lambda kv: (str(kv[1]), str(kv[0])))


def parse_shard(text: str) -> tuple[int, int]:
    """``"i/n"`` -> (i, n) with 0 <= i < n."""
    try:
        i, n = (int(x) for x in text.split("/"))
    except ValueError:
        raise ValueError(f"--shard must look like i/n (e.g. 0/4), got {text!r}") from None
    if n < 1 or not 0 <= i < n:
        raise ValueError(f"--shard {text!r}: need n >= 1 and 0 <= i < n")
    return i, n


def shard_items(items: list, shard: tuple[int, int] | None) -> list:
    """The shard's share of an already sorted list: ``items[i::n]``."""
    if shard is None:
        return list(items)
    i, n = shard
    return list(items[i::n])


def _hands_file(cfg: ExtractConfig, video: Path, rel: Path) -> Path | None:
    if not cfg.hands:
        return None
    h = Path(cfg.hands)
    if h.is_file():
        return h
    for cand in (h / rel.with_suffix(".npz"), h / rel.with_suffix(".npy"), h / f"{video.stem}.npz",
                 h / f"{video.stem}.npy"):
        if cand.is_file():
            return cand
    return None


def extract_video(video: str | Path, estimator: Estimator, max_side: int = 0) -> PoseSequence:
    """Run ``estimator`` frame by frame over one video; x, y in the video's pixels."""
    import cv2

    estimator.reset()
    frames = []
    with VideoReader(video) as reader:
        w, h = reader.width, reader.height
        scale = max_side / max(w, h) if max_side and max(w, h) > max_side else 1.0
        sw, sh = (round(w * scale), round(h * scale)) if scale != 1.0 else (w, h)
        for frame in reader:
            if frame.shape[0] != h or frame.shape[1] != w:
                raise VideoError(f"{video}: frame size changes mid-video ({frame.shape[1]}x{frame.shape[0]})")
            if scale != 1.0:
                frame = cv2.resize(frame, (sw, sh), interpolation=cv2.INTER_AREA)
            frames.append(estimator.process(frame, sw, sh))
        fps = reader.fps
    data = np.stack(frames).astype(np.float32)
    if scale != 1.0:
        data[..., 0] *= w / sw
        data[..., 1] *= h / sh
    meta = {"estimator": estimator.name, "video": Path(video).name}
    return PoseSequence(data=data, layout=estimator.layout, fps=fps, width=w, height=h, meta=meta)


def write_atomic(seq: PoseSequence, path: Path) -> None:
    """Write ``seq`` to ``path`` through a temporary file renamed into place when complete."""

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}.pose")
    try:
        write_pose(seq, tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def process_one(video: Path, out: Path, rel: Path, cfg: ExtractConfig, estimator: Estimator) -> int:
    """Extract, refine hands if configured, write. Returns the number of frames."""
    seq = extract_video(video, estimator, cfg.max_side)
    hands = _hands_file(cfg, video, rel)
    if hands is not None:
        seq = refine_hands(seq, load_hands(hands), cfg.hand_mode, source=str(hands))
    elif cfg.hands and Path(cfg.hands).is_dir():
        log.info("%s: no hand file in %s; keeping the estimator's hands", video, cfg.hands)
    write_atomic(seq, out)
    return seq.num_frames


# --- worker side -------------------------------------------------------------------------------------------
_WORKER: dict = {}


def _init_worker(cfg: ExtractConfig) -> None:
    _WORKER["cfg"] = cfg
    _WORKER["estimator"] = make_estimator(cfg)


def _work(video: str, out: str, rel: str) -> tuple[str, int, str | None]:
    try:
        n = process_one(Path(video), Path(out), Path(rel), _WORKER["cfg"], _WORKER["estimator"])
        return video, n, None
    except Exception as e:  # noqa: BLE001 - every per-video failure is reported, the batch goes on
        return video, 0, f"{type(e).__name__}: {e}"


def output_path(out_dir: Path, rel: Path) -> Path:
    """``OUT/<relative stem>.pose``."""
    return out_dir / rel.parent / f"{rel.name}.pose"


def run_extraction(
    inputs: list[str | Path],
    out_dir: str | Path,
    cfg: ExtractConfig | None = None,
    workers: int = 1,
    shard: tuple[int, int] | None = None,
    progress: bool = True,
) -> ExtractReport:
    """Extract every (shard's) video under ``inputs`` into ``out_dir``; see the module docstring."""
    from tqdm import tqdm

    cfg = cfg or ExtractConfig()
    if cfg.backend not in BACKENDS:
        raise ValueError(f"unknown backend {cfg.backend!r}; choose from {BACKENDS}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    report = ExtractReport()
    todo = []
    for video, rel in shard_items(collect_videos(inputs), shard):
        out = output_path(out_dir, rel)
        if out.is_file() and out.stat().st_size > 0:
            report.skipped.append(str(video))
        else:
            todo.append((str(video), str(out), str(rel)))
    start = time.perf_counter()
    bar = tqdm(total=len(todo), desc="extract", unit="video", disable=not progress)

    def record(video: str, n: int, err: str | None) -> None:
        if err is None:
            report.written.append(video)
            report.frames += n
        else:
            log.warning("%s: %s", video, err)
            report.failed.append((video, err))
        bar.update(1)

    if todo and workers <= 1:
        _init_worker(cfg)
        try:
            for item in todo:
                record(*_work(*item))
        finally:
            _WORKER.pop("estimator").close()
    elif todo:
        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(min(workers, len(todo)), mp_context=ctx, initializer=_init_worker,
                                 initargs=(cfg,)) as pool:
            futures = {pool.submit(_work, *item): item[0] for item in todo}
            for fut in as_completed(futures):
                try:
                    record(*fut.result())
                except Exception as e:  # noqa: BLE001 - a worker died (e.g. the estimator failed to load)
                    record(futures[fut], 0, f"{type(e).__name__}: {e}")
    bar.close()
    report.seconds = time.perf_counter() - start
    _write_errors(out_dir, shard, report)
    return report


def _write_errors(out_dir: Path, shard: tuple[int, int] | None, report: ExtractReport) -> Path:
    name = "errors.csv" if shard is None else f"errors-{shard[0]}of{shard[1]}.csv"
    path = out_dir / name
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["video", "error"])
        w.writerows(sorted(report.failed))
    return path
