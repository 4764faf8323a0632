"""``build_index``: embed a collection of clips (pose files and videos) into a sign index.

Resumable: clips whose path is already in the index are skipped, shards are written atomically and often
(every ``shard_size`` clips or ``flush_seconds``), and Ctrl-C writes what was embedded before stopping, so
running the same command again continues. Files that cannot be read are reported (one line each, through
``on_error``) and skipped; they are tried again by the next build. The output directory is never one the
user owns: ``out`` must be absent, an empty directory, or an index of the same run.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from mslu.extract.video import VIDEO_EXTENSIONS
from mslu.search.ann import ANN_THRESHOLD, ann_available, check_mode, index_ann, use_ann
from mslu.search.embed import (
    POSE_SUFFIXES,
    VideoPoses,
    describe_embedding,
    embed_clips,
    file_message,
    is_video,
    load_clip,
    load_retrieval_run,
    retrieval_model_dir,
)
from mslu.search.store import RunInfo, SignIndex, is_index

log = logging.getLogger(__name__)

SUFFIXES = POSE_SUFFIXES + tuple(VIDEO_EXTENSIONS)


@dataclass
class BuildReport:
    """What a build did."""

    index: Path
    added: int = 0
    already: int = 0  # in the index before this build (skipped)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (path, one-line reason)
    total: int = 0  # clips in the index afterwards
    seconds: float = 0.0
    embed_seconds: float = 0.0
    ann: bool = False  # an ANN index was written / is up to date

    @property
    def rate(self) -> float:
        """Clips embedded per second of encoder time."""
        return self.added / self.embed_seconds if self.embed_seconds > 0 else 0.0


def _within(path: Path, parent: Path | None) -> bool:
    if parent is None:
        return False
    try:
        path.relative_to(parent)
        return True
    except ValueError:
        return False


def collect_inputs(
    inputs: Iterable[str | Path], exclude: Path | None = None, taken: Iterable[str] = ()
) -> tuple[list[tuple[Path, str]], list[tuple[str, str]]]:
    """``(resolved path, clip id)`` of the pose files and videos among ``inputs`` (directories searched
    recursively, hidden entries and ``exclude`` skipped), and the inputs that gave nothing (path, reason).

    A clip's id is its path relative to the directory it was found in (its file name when given as a
    file), made unique among ``taken`` ids with a ``~2``, ``~3``... suffix. In a directory, a video beside
    a pose file of the same stem is left out (its pose file is used)."""
    exclude = exclude.resolve() if exclude is not None else None
    found: dict[Path, str] = {}
    problems: list[tuple[str, str]] = []
    for item in inputs:
        p = Path(item)
        if p.is_dir():
            files = []
            for f in sorted(p.rglob("*")):
                rel = f.relative_to(p)
                if any(part.startswith(".") for part in rel.parts) or not f.is_file():
                    continue
                if f.suffix.lower() not in SUFFIXES or _within(f.resolve(), exclude):
                    continue
                if is_video(f) and any(f.with_suffix(s).is_file() for s in POSE_SUFFIXES):
                    continue
                files.append((f.resolve(), rel.as_posix()))
            if not files:
                problems.append((str(p), f"{p}: no pose files or videos in this directory"))
            for f, cid in files:
                found.setdefault(f, cid)
        elif p.is_file():
            found.setdefault(p.resolve(), p.name)
        else:
            problems.append((str(p), f"{p}: no such file or directory"))
    used = set(taken)
    out = []
    for f, cid in found.items():
        unique, n = cid, 1
        while unique in used:
            n += 1
            unique = f"{cid}~{n}"
        used.add(unique)
        out.append((f, unique))
    return out, problems


def check_output(out: str | Path, run: RunInfo) -> SignIndex | None:
    """The existing index of this run in ``out``, or None when ``out`` is absent or an empty directory.
    Anything else is refused (one-line ``ValueError``): the build never writes into the user's files."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"{out}: exists and is not a directory; choose a new --out")
    if not out.is_dir() or not any(out.iterdir()):
        return None
    if not is_index(out):
        raise ValueError(f"{out}: exists and is not a sign index; refusing to write into it "
                         "(choose a new --out)")  # fmt: skip
    index = SignIndex.open(out)
    if index.run.sha256 != run.sha256:
        raise ValueError(f"{out}: an index of another run ({index.run.path}); choose a new --out or "
                         "search it with its own run")  # fmt: skip
    return index


def open_output(out: str | Path, run: RunInfo, embedding: dict[str, Any]) -> SignIndex:
    """The index to write: a new one in an absent or empty directory, or the existing index of this run
    (see :func:`check_output`) when it stores the same embedding."""
    index = check_output(out, run)
    if index is not None:
        if index.embedding != embedding:
            raise ValueError(f"{out}: built with another embedding ({index.embedding}); choose a new --out")
        return index
    return SignIndex.create(out, run, embedding)


class _Writer:
    """Buffers embedded clips and writes them as shards (by count or age)."""

    def __init__(self, index: SignIndex, shard_size: int, flush_seconds: float):
        self.index, self.shard_size, self.flush_seconds = index, shard_size, flush_seconds
        self.clips: list[dict] = []
        self.pooled: list[np.ndarray] = []
        self.fine: list[np.ndarray] = []
        self.written = 0
        self._since = time.monotonic()

    def add(self, clips: list[dict], fine: list[np.ndarray], pooled: np.ndarray) -> None:
        for c, f, p in zip(clips, fine, pooled):
            self.clips.append({**c, "n": int(len(f))})
            self.fine.append(f)
            self.pooled.append(p)
        if len(self.clips) >= self.shard_size or time.monotonic() - self._since >= self.flush_seconds:
            self.flush()

    def flush(self) -> None:
        if self.clips:
            self.index.add_shard(self.clips, np.stack(self.pooled), self.fine)
            self.written += len(self.clips)
            self.clips, self.pooled, self.fine = [], [], []
        self._since = time.monotonic()


def build_index(
    run: str | Path,
    inputs: Iterable[str | Path],
    out: str | Path,
    *,
    batch_size: int = 32,
    shard_size: int = 1024,
    flush_seconds: float = 60.0,
    ann: str = "auto",
    ann_threshold: int = ANN_THRESHOLD,
    device: str = "auto",
    progress: bool = True,
    on_error: Callable[[str, str], None] | None = None,
    videos: Callable[[Path], Any] | None = None,
    width: int | None = None,
    height: int | None = None,
) -> BuildReport:
    """Embed every clip of ``inputs`` with the retrieval run ``run`` into the index ``out`` (see the module
    doc). ``on_error(path, message)`` is called for each file skipped (default: a log warning);
    ``width`` / ``height`` give the frame size of pose files that do not record it."""
    t0 = time.perf_counter()
    check_mode(ann)
    if batch_size < 1 or shard_size < 1:
        raise ValueError("batch size and shard size must be >= 1")
    report_error = on_error or (lambda path, msg: log.warning("skipped %s", msg))
    info = RunInfo.of(retrieval_model_dir(run))
    check_output(out, info)  # refuse a wrong --out before loading the model
    task, model, dev = load_retrieval_run(run, device)
    index = open_output(out, info, describe_embedding(model))
    report = BuildReport(index=index.root)
    with index.lock():
        index.clean_temporary()
        done = index.paths()
        files, problems = collect_inputs(inputs, exclude=index.root, taken=[c["id"] for c in index.clips()])
        for path, msg in problems:
            report.failed.append((path, msg))
            report_error(path, msg)
        pending = [(p, cid) for p, cid in files if str(p) not in done]
        report.already = len(files) - len(pending)
        writer = _Writer(index, shard_size, flush_seconds)
        video_poses = videos or VideoPoses()
        window: list[tuple[np.ndarray, dict]] = []

        def fail(path: str, error: BaseException | str) -> None:
            msg = file_message(path, error)
            report.failed.append((path, msg))
            report_error(path, msg)

        def embed_window() -> None:
            window.sort(key=lambda item: item[0].shape[0])  # similar lengths share a batch: less padding
            for i in range(0, len(window), batch_size):
                part = window[i : i + batch_size]
                t = time.perf_counter()
                try:
                    fine, pooled = embed_clips(task, model, [p for p, _ in part], dev)
                except Exception:  # noqa: BLE001 - find the clip that broke the batch, keep the others
                    fine, pooled, kept = [], [], []
                    for pose, meta in part:
                        try:
                            f, q = embed_clips(task, model, [pose], dev)
                        except Exception as e:  # noqa: BLE001
                            fail(meta["path"], f"cannot embed: {type(e).__name__}: {e}")
                            continue
                        fine += f
                        pooled.append(q[0])
                        kept.append((pose, meta))
                    part = kept
                    pooled = np.stack(pooled) if pooled else np.zeros((0, 1), np.float32)
                report.embed_seconds += time.perf_counter() - t
                if part:
                    writer.add([meta for _, meta in part], fine, pooled)
            window.clear()

        bar = tqdm(total=len(pending), unit="clip", desc="index", disable=not progress, dynamic_ncols=True)
        try:
            for path, cid in pending:
                try:
                    pose, meta = load_clip(path, video_poses, width, height)
                except Exception as e:  # noqa: BLE001 - every bad file is reported, the build goes on
                    fail(str(path), e)
                else:
                    window.append((pose, {"id": cid, "path": str(path), **meta}))
                    if len(window) >= 4 * batch_size:
                        embed_window()
                bar.update(1)
            embed_window()
        finally:
            writer.flush()  # also on Ctrl-C / errors: what was embedded is kept
            bar.close()
            report.added = writer.written
        index.refresh()
        report.total = len(index)
        if report.total and use_ann(ann, report.total, ann_threshold):
            index_ann(index)
            report.ann = True
        elif ann == "auto" and report.total >= ann_threshold and not ann_available():
            log.warning("%s: %d clips but usearch is not installed: searches will be exact "
                        "(pip install 'mslu[search]')", index.root, report.total)  # fmt: skip
    report.seconds = time.perf_counter() - t0
    return report
