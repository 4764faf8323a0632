"""What the web demo does with one upload: read it (pose file or video), check the limits, render the SL79
skeleton as an animated GIF, run every loaded fine-tuned model on it and, with an index, find its nearest
clips. Independent of the web framework (see :mod:`mslu.serve.app`), so it is tested without a server.

Nothing is written into the run or index directories: uploads and the rendered GIF live in a temporary
directory of the caller's (the app makes one per request and deletes it afterwards).
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from mslu.extract.video import VIDEO_EXTENSIONS, VideoReader
from mslu.pose.io import read_pose
from mslu.pose.layouts import SL79
from mslu.pose.mapping import to_sl79
from mslu.pose.normalize import to_frame_units
from mslu.pose.render import render_frames, save_frames
from mslu.pose.sequence import PoseSequence
from mslu.search import SignIndex, SignSearcher
from mslu.search.embed import POSE_SUFFIXES, VideoPoses, one_line
from mslu.tasks.run_dir import load_model, model_dir, resolve_device

log = logging.getLogger(__name__)

ACCEPTED = tuple(POSE_SUFFIXES) + tuple(VIDEO_EXTENSIONS)
TASK_TITLES = {
    "islr": "Isolated sign recognition (ISLR)",
    "cslr": "Continuous sign recognition (CSLR)",
    "slt": "Translation (GF-SLT)",
    "retrieval": "Sign-text retrieval (SL-RT)",
}


@dataclass(frozen=True)
class Limits:
    """What one upload may be. ``max_upload_mb``: body size; ``max_frames``: frames of the clip (a video's
    container count is checked before any pose is extracted); ``max_unpacked_mb``: what an ``.npz`` may
    unpack to (a small zip can hold a huge array); ``render_frames`` / ``render_size``: the GIF (longer
    clips are subsampled); ``search_k``: nearest clips shown."""

    max_upload_mb: float = 50.0
    max_frames: int = 1500
    max_unpacked_mb: float = 512.0
    render_frames: int = 150
    render_size: int = 320
    search_k: int = 5

    def __post_init__(self) -> None:
        if not self.max_upload_mb > 0:
            raise ValueError(f"--max-upload-mb must be > 0, got {self.max_upload_mb}")
        if self.max_frames < 1:
            raise ValueError(f"--max-frames must be >= 1, got {self.max_frames}")
        if self.render_frames < 1 or self.render_size < 16 or self.search_k < 1:
            raise ValueError("render_frames, search_k must be >= 1 and render_size >= 16")

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)


class UploadError(ValueError):
    """A bad upload: its message is shown on the page. ``status``: the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(" ".join(str(message).split()))
        self.status = status


@dataclass
class LoadedRun:
    """One fine-tuned run, loaded once when the server starts."""

    name: str
    path: Path
    task: Any
    model: Any

    @property
    def task_name(self) -> str:
        return str(self.task.name)

    def describe(self) -> dict[str, Any]:
        title = TASK_TITLES.get(self.task_name, self.task_name)
        return {"name": self.name, "task": self.task_name, "title": title}


def _short(error: BaseException, limit: int = 300) -> str:
    msg = one_line(error) or type(error).__name__
    return msg if len(msg) <= limit else msg[:limit] + " ..."


def load_run(path: str | Path, device: torch.device, name: str | None = None) -> LoadedRun:
    """A run directory (or its ``model/`` folder) in eval mode; one-line errors for a bad one."""
    d = model_dir(path)  # FileNotFoundError names the directory
    try:
        task, model = load_model(d, device)
    except (KeyError, RuntimeError) as e:  # a config of another version, or weights that do not fit
        raise ValueError(f"{path}: the saved model does not load into this mslu's model ({_short(e, 200)})") \
            from None
    model.eval()
    run_name = name or (Path(path).name if Path(path).name != "model" else Path(path).parent.name)
    return LoadedRun(run_name or str(path), Path(path), task, model)


def _unique_names(paths: Sequence[str | Path]) -> list[str]:
    names: list[str] = []
    for p in paths:
        p = Path(p)
        base = (p.parent.name if p.name == "model" else p.name) or str(p)
        name, k = base, 2
        while name in names:
            name, k = f"{base} ({k})", k + 1
        names.append(name)
    return names


def make_searcher(index: str | Path, runs: Sequence[LoadedRun], device: torch.device) -> SignSearcher:
    """A searcher over ``index``, sharing the loaded model when one of ``runs`` is the run it was built with
    (else it loads that run, from the path the index records)."""
    idx = SignIndex.open(index)
    for r in runs:
        if r.task_name == "retrieval" and idx.run.matches(model_dir(r.path)):
            return SignSearcher(idx, model=(r.task, r.model))
    return SignSearcher(idx, device=device)


class Engine:
    """The loaded runs (and searcher) of one server, and :meth:`analyse` for one uploaded file.

    ``videos``: ``path -> PoseSequence`` for video uploads (default: the MediaPipe extractor, when
    installed). One analysis runs at a time (the models share the CPU / GPU)."""

    def __init__(
        self,
        runs: Sequence[LoadedRun],
        searcher: SignSearcher | None = None,
        limits: Limits | None = None,
        device: torch.device | str = "cpu",
        videos: Callable[[Path], PoseSequence] | None = None,
        index_path: str | Path | None = None,
    ):
        if not runs and searcher is None:
            raise ValueError("nothing to serve: give at least one --run (or an --index)")
        self.runs = list(runs)
        self.searcher = searcher
        self.limits = limits or Limits()
        self.device = resolve_device(device)
        self.videos = videos or VideoPoses()
        self.index_path = str(index_path) if index_path is not None else (
            str(searcher.index.root) if searcher is not None else None)  # fmt: skip
        self._lock = threading.Lock()

    @classmethod
    def load(
        cls,
        runs: Sequence[str | Path],
        index: str | Path | None = None,
        device: str | torch.device = "auto",
        limits: Limits | None = None,
        videos: Callable[[Path], PoseSequence] | None = None,
    ) -> Engine:
        """Load every run (and the index's searcher) once."""
        dev = resolve_device(device)
        loaded = [load_run(p, dev, n) for p, n in zip(runs, _unique_names(runs))]
        searcher = make_searcher(index, loaded, dev) if index is not None else None
        return cls(loaded, searcher, limits, dev, videos, index)

    def info(self) -> dict[str, Any]:
        """What the page shows before any upload: the runs, the index, the limits, the accepted files."""
        index = None
        if self.searcher is not None:
            index = {"path": self.index_path, "clips": len(self.searcher.index)}
        return {
            "runs": [r.describe() for r in self.runs],
            "index": index,
            "limits": asdict(self.limits) | {"max_upload_bytes": self.limits.max_upload_bytes},
            "accepted": list(ACCEPTED),
        }

    # ---- one upload ----
    def analyse(
        self,
        path: str | Path,
        name: str,
        work: str | Path,
        width: int | None = None,
        height: int | None = None,
    ) -> dict[str, Any]:
        """Everything the page shows for the file at ``path`` (uploaded as ``name``); ``work``: a scratch
        directory for the GIF. Raises :class:`UploadError` for a file that cannot be used; a model that
        fails on a good file is reported in its own card."""
        t0 = time.perf_counter()
        path, work = Path(path), Path(work)
        with self._lock:
            seq, pose, meta = self.read(path, name, width, height)
            skeleton = self.render(seq, work)
            with torch.no_grad():
                runs = [self._predict(r, pose) for r in self.runs]
                search = self._search(pose) if self.searcher is not None else None
        return {
            "ok": True,
            "file": meta,
            "skeleton": {"mime": "image/gif", "data": skeleton},
            "runs": runs,
            "search": search,
            "seconds": round(time.perf_counter() - t0, 3),
        }

    def read(
        self, path: Path, name: str, width: int | None = None, height: int | None = None
    ) -> tuple[PoseSequence, np.ndarray, dict[str, Any]]:
        """(SL79 sequence in pixels, (T, 79, 3) frame-unit pose, file facts); messages name ``name``."""
        suffix = Path(name).suffix.lower()
        lim = self.limits
        try:
            if suffix in VIDEO_EXTENSIONS:
                with VideoReader(path) as reader:
                    if reader.num_frames > lim.max_frames:
                        msg = f"the video has {reader.num_frames} frames; this server takes at most"
                        raise UploadError(f"{name}: {msg} {lim.max_frames}", 413)
                seq = self.videos(path)
                source = "video"
            elif suffix in POSE_SUFFIXES:
                if suffix == ".npz":
                    self._check_npz(path, name)
                seq = read_pose(path)
                source = "pose"
            else:
                kinds = f"pose files: {', '.join(POSE_SUFFIXES)}; videos: {', '.join(VIDEO_EXTENSIONS)}"
                raise UploadError(f"{name}: unsupported file type {suffix or '(none)'!r}; {kinds}", 415)
        except UploadError:
            raise
        except Exception as e:  # noqa: BLE001 - any reader failure is a bad file, told on the page
            if not isinstance(e, OSError | ValueError | RuntimeError):
                log.warning("reading %s failed", name, exc_info=True)
            raise UploadError(self._rename(e, path, name, suffix)) from None
        if seq.num_frames == 0:
            raise UploadError(f"{name}: no frames")
        if seq.num_frames > lim.max_frames:
            msg = f"{seq.num_frames} frames; this server takes at most {lim.max_frames}"
            raise UploadError(f"{name}: {msg}", 413)
        layout = seq.layout.name
        seq.width = seq.width or int(width or 0)
        seq.height = seq.height or int(height or 0)
        if seq.width <= 0 or seq.height <= 0:
            raise UploadError(f"{name}: the file does not record its frame size; enter the width and height "
                              "of the video it was extracted from")  # fmt: skip
        try:
            sl = to_sl79(seq)
            pose = to_frame_units(sl)
        except Exception as e:  # noqa: BLE001
            msg = f"a {layout} pose that cannot be mapped to SL79 ({_short(e)})"
            raise UploadError(f"{name}: {msg}") from None
        valid = (pose[..., 2] > 0).any(-1)
        meta = {
            "name": name,
            "source": source,
            "layout": layout,
            "frames": int(pose.shape[0]),
            "fps": round(float(seq.fps or 0.0), 3),
            "width": int(seq.width),
            "height": int(seq.height),
            "frames_with_pose": int(valid.sum()),
        }
        if not valid.any():
            raise UploadError(f"{name}: no joint was detected in any of its {pose.shape[0]} frames")
        return sl, pose, meta

    def render(self, seq: PoseSequence, work: Path) -> str:
        """The SL79 skeleton as an animated GIF, base64 (subsampled to ``limits.render_frames`` frames)."""
        import base64

        step = max(1, math.ceil(seq.num_frames / self.limits.render_frames))
        fps = float(seq.fps or 25.0) / step
        sub = PoseSequence(seq.data[::step], SL79, fps, seq.width, seq.height)
        frames = render_frames(sub, size=self.limits.render_size)
        out = save_frames(frames, Path(work) / "skeleton.gif", fps=fps)
        return base64.b64encode(out.read_bytes()).decode("ascii")

    # ---- helpers ----
    def _predict(self, run: LoadedRun, pose: np.ndarray) -> dict[str, Any]:
        card = run.describe()
        try:
            result = run.task.predict(run.model, pose, self.device)
        except Exception as e:  # noqa: BLE001 - one model failing must not hide the others
            if not isinstance(e, OSError | ValueError):
                log.warning("run %s failed on an upload", run.name, exc_info=True)
            return card | {"error": _short(e)}
        return card | {"result": json.loads(json.dumps(result, default=float))}

    def _search(self, pose: np.ndarray) -> dict[str, Any]:
        try:
            hits = self.searcher.search_pose(pose, self.limits.search_k)
        except Exception as e:  # noqa: BLE001
            log.warning("index search failed on an upload", exc_info=True)
            return {"error": _short(e)}
        return {"clips": len(self.searcher.index), "hits": [h.to_dict() for h in hits]}

    def _check_npz(self, path: Path, name: str) -> None:
        limit = self.limits.max_unpacked_mb * 1024 * 1024
        try:
            with zipfile.ZipFile(path) as z:
                total = sum(i.file_size for i in z.infolist())
        except (zipfile.BadZipFile, OSError) as e:
            raise UploadError(f"{name}: not a readable .npz archive ({_short(e)})") from None
        if total > limit:
            raise UploadError(f"{name}: unpacks to {total / 2**20:.0f} MB; this server takes at most "
                              f"{self.limits.max_unpacked_mb:g} MB", 413)  # fmt: skip

    @staticmethod
    def _rename(error: BaseException, path: Path, name: str, suffix: str) -> str:
        """The reader's message, with the temporary path replaced by the uploaded name."""
        msg = _short(error).replace(str(path), name)
        if not isinstance(error, OSError | ValueError | RuntimeError):
            msg = f"not a readable {suffix} file ({type(error).__name__}: {msg})"
        return msg if name in msg else f"{name}: {msg}"
