"""The dataset ingestor interface: official annotations -> :class:`Annotation` -> corpus :class:`Sample`.

An ingestor reads a dataset's *official* annotation files (``annotations``) and pairs each clip with a pose
file (``samples``). Pose files are pose-format ``.pose`` files (or anything :func:`mslu.pose.io.read_pose`
reads) named after the clip or video id. For each annotation the pose root is searched for, in order:

1. ``<pose_root>/<annotation.id>.pose``: a pose file of the trimmed clip, used as is;
2. ``<pose_root>/<annotation.media_id>.pose``: a pose file of the whole (untrimmed) video, cut to the
   annotation's start/end frames or seconds.

When id and media id are the same (WLASL: the video id) only the second applies; for clip-level datasets
(Phoenix, CSL-Daily) there is no window, so nothing is cut. A
missing, unreadable or empty pose file does not stop a run: the clip is reported (``on_skip``) and skipped.
"""

from __future__ import annotations

import json
import logging
import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, ClassVar

import numpy as np

from mslu.data.schema import Sample
from mslu.data.templates import template_sentence
from mslu.pose.io import read_pose
from mslu.pose.mapping import to_sl79
from mslu.pose.normalize import coordinate_kind, frame_units

log = logging.getLogger(__name__)

POSE_SUFFIXES = (".pose", ".npz", ".npy", ".json", ".pose.gz", ".npz.gz", ".npy.gz", ".json.gz")
OFFICIAL_SPLITS = ("train", "dev", "test")
_SPLIT_ALIASES = {"train": "train", "training": "train", "val": "dev", "valid": "dev", "validation": "dev",
                  "dev": "dev", "test": "test", "testing": "test", "public_test": "test"}

SkipCallback = Callable[[str, str], None]


def canonical_split(split: str, where: str = "") -> str:
    """Map an official split name (``val``, ``validation``, ...) to ``train`` / ``dev`` / ``test``."""
    key = str(split).strip().lower()
    if key not in _SPLIT_ALIASES:
        raise ValueError(f"{where}unknown split {split!r}")
    return _SPLIT_ALIASES[key]


@dataclass
class Annotation:
    """One clip as the official annotation files describe it.

    Frames are 0-based with ``end_frame`` exclusive; times are seconds from the start of the media file.
    ``media_id`` names the (possibly untrimmed) video the clip lies in; ``media`` is the video's path
    relative to the dataset root as the release names it (informative only).
    """

    id: str
    split: str
    media_id: str = ""
    media: str = ""
    signer: str = ""
    text: str | None = None
    gloss: list[str] | None = None
    label: int | None = None
    start_frame: int | None = None
    end_frame: int | None = None
    start_time: float | None = None
    end_time: float | None = None
    box: list[float] | None = None
    extra: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.media_id:
            self.media_id = self.id

    @property
    def trimmed(self) -> bool:
        """True when the annotation cuts a window out of its media file."""
        return any(v is not None for v in (self.start_frame, self.end_frame, self.start_time, self.end_time))


class PoseUnavailable(Exception):
    """The pose of a clip cannot be used; the message is the skip reason."""


def load_json(path: Path) -> Any:
    """A JSON annotation file; a one-line ``ValueError`` naming it when it is not UTF-8 JSON."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except UnicodeDecodeError as e:
        raise ValueError(f"{path}: not UTF-8 text ({e.reason} at byte {e.start})") from None
    except (json.JSONDecodeError, RecursionError) as e:
        why = " ".join(str(e).split()) or "nested too deeply"
        raise ValueError(f"{path}: not a readable JSON file ({why})") from None


class DatasetIngestor(ABC):
    """Base class of the per-dataset ingestors.

    Subclasses set the class attributes and implement :meth:`annotations`. ``root`` is the dataset's
    release folder (its official annotation files); ``options`` are dataset-specific keyword options.
    """

    name: ClassVar[str]
    sign_language: ClassVar[str]
    text_language: ClassVar[str]
    tasks: ClassVar[tuple[str, ...]]  # e.g. ("islr",), ("cslr", "slt", "slrt")
    paired: ClassVar[bool] = True  # False: clips have no sentence (unpaired in pre-training)
    isolated: ClassVar[bool] = False  # True: texts are template sentences built from the gloss
    default_fps: ClassVar[float] = 25.0

    def __init__(self, root: str | Path, **options: Any):
        self.root = Path(root)
        if options:
            raise TypeError(f"{type(self).__name__}: unknown options {sorted(options)}")

    # -- annotations ------------------------------------------------------------------------------
    @abstractmethod
    def annotations(self, split: str | None = None) -> Iterator[Annotation]:
        """Clips of ``split`` (``train`` / ``dev`` / ``test``; all when None), from the official files."""

    def benchmarks(self) -> dict[str, dict[str, list[str]]]:
        """Downstream benchmark splits: ``{benchmark: {split: [sample ids]}}``.

        Default: one benchmark named after the dataset with its official splits. Datasets with several
        benchmark subsets (WLASL100/300/..., MS-ASL100/...) override this.
        """
        out: dict[str, list[str]] = {}
        for ann in self.annotations():
            out.setdefault(ann.split, []).append(self.sample_id(ann))
        return {self.name: out}

    def sample_id(self, ann: Annotation) -> str:
        """Corpus-wide unique id: ``<dataset>/<clip id>``."""
        return f"{self.name}/{ann.id}"

    def _check_split(self, split: str | None) -> str | None:
        return None if split is None else canonical_split(split, f"{self.name}: ")

    def _file(self, *candidates: str, what: str) -> Path:
        """The first of ``candidates`` (relative to root) that exists; a clear error otherwise."""
        for rel in candidates:
            p = self.root / rel
            if p.is_file():
                return p
        looked = ", ".join(candidates)
        raise FileNotFoundError(f"{self.name}: no {what} under {self.root} (looked for {looked})")

    # -- texts ------------------------------------------------------------------------------------
    def text_for(self, ann: Annotation) -> str | None:
        """The sentence paired with a clip: the annotation text, or a template sentence for isolated signs."""
        if not self.paired:
            return None
        if self.isolated:
            word = ann.text if ann.text else (ann.gloss[0] if ann.gloss else "")
            return template_sentence(word, self.text_language)
        return ann.text

    # -- samples ----------------------------------------------------------------------------------
    def find_pose(self, pose_root: Path, ann: Annotation) -> tuple[Path, bool]:
        """(pose file, needs trimming) for ``ann``; raises :class:`PoseUnavailable` when there is none."""
        candidates = [(ann.media_id, ann.trimmed)]
        if ann.id != ann.media_id:  # a clip-level file (already cut) comes first
            candidates.insert(0, (ann.id, False))
        root = pose_root.resolve()
        for stem, cut in candidates:
            parts = PurePosixPath(str(stem).replace("\\", "/")).parts
            if not parts or parts[0] in ("/", "~") or ".." in parts or str(stem).startswith("~"):
                raise PoseUnavailable(f"clip id {stem!r} of the annotations is no path inside {pose_root}")
            for suffix in POSE_SUFFIXES:
                p = pose_root / f"{stem}{suffix}"
                if p.is_file():
                    if not p.resolve().is_relative_to(root):
                        raise PoseUnavailable(f"{p} leads outside {pose_root} (a symbolic link?)")
                    return p, cut
        raise PoseUnavailable(f"no pose file {ann.id}.pose or {ann.media_id}.pose under {pose_root}")

    def samples(
        self,
        pose_root: str | Path,
        split: str | None = None,
        on_skip: SkipCallback | None = None,
        skip_ids: Iterable[str] | None = None,
        annotations: Iterable[Annotation] | None = None,
    ) -> Iterator[Sample]:
        """Corpus samples of ``split``: each annotation paired with its pose, in SL-79 frame units.

        Clips whose pose is missing or bad are passed to ``on_skip(sample_id, reason)`` (default: logged)
        and skipped. ``skip_ids`` (sample ids) are not loaded at all (resuming a build).
        """
        pose_root = Path(pose_root)
        skip = set(skip_ids or ())
        report = on_skip or (lambda sid, why: log.warning("skipping %s: %s", sid, why))
        anns = self.annotations(split) if annotations is None else annotations
        for ann in anns:
            sid = self.sample_id(ann)
            if sid in skip:
                continue
            try:
                yield self.make_sample(pose_root, ann)
            except PoseUnavailable as exc:
                report(sid, str(exc))

    def make_sample(self, pose_root: Path, ann: Annotation) -> Sample:
        """Build the :class:`Sample` of one annotation; :class:`PoseUnavailable` when its pose is unusable."""
        path, cut = self.find_pose(pose_root, ann)
        full = self._load_cached(path)
        pose = full.pose
        if cut:
            start, end = frame_window(ann, pose.shape[0], full.fps)
            pose = pose[start:end]
        text = self.text_for(ann)
        extra: dict[str, Any] = {"clip_id": ann.id, "media": ann.media or ann.media_id,
                                 "pose_file": path.name}
        if ann.box is not None:
            extra["box"] = [float(v) for v in ann.box]
        if cut:
            extra["window"] = _window_repr(ann)
        extra.update(ann.extra)
        return Sample(
            id=self.sample_id(ann),
            pose=pose,
            source=self.name,
            sign_language=self.sign_language,
            text=text,
            text_language=self.text_language,
            gloss=list(ann.gloss) if ann.gloss else None,
            label=ann.label,
            split=ann.split,
            signer=str(ann.signer),
            fps=full.fps or self.default_fps,
            width=full.width,
            height=full.height,
            estimator=full.estimator,
            paired=bool(self.paired and text),
            extra=extra,
        )

    def _load_cached(self, path: Path) -> LoadedPose:
        """Load a pose file, keeping the last one: consecutive clips of one video read it once."""
        cache = getattr(self, "_pose_cache", None)
        if cache is not None and cache[0] == path:
            return cache[1]
        loaded = load_pose_frames(path)
        self._pose_cache = (path, loaded)
        return loaded


def _window_repr(ann: Annotation) -> dict[str, float | int | None]:
    if ann.start_time is not None or ann.end_time is not None:
        return {"start_time": ann.start_time, "end_time": ann.end_time}
    return {"start_frame": ann.start_frame, "end_frame": ann.end_frame}


def frame_window(ann: Annotation, num_frames: int, fps: float) -> tuple[int, int]:
    """The ``[start, end)`` frame window of ``ann`` in a pose stream of ``num_frames`` frames at ``fps``.

    Times are converted with ``round(t * fps)``; a missing bound means the start / end of the stream.
    """
    if ann.start_time is not None or ann.end_time is not None:
        if not fps or fps <= 0:
            raise PoseUnavailable(f"cannot cut by seconds: pose fps is {fps}")
        start = 0 if ann.start_time is None else int(round(ann.start_time * fps))
        end = num_frames if ann.end_time is None else int(round(ann.end_time * fps))
    else:
        start = ann.start_frame or 0
        end = num_frames if ann.end_frame is None else ann.end_frame
    start, end = max(start, 0), min(end, num_frames)
    if end <= start:
        raise PoseUnavailable(f"window {_window_repr(ann)} is empty in a pose of {num_frames} frames")
    return start, end


@dataclass
class LoadedPose:
    """A whole pose file in SL-79 frame units with its stream properties."""

    pose: np.ndarray  # (T, 79, 3) float32
    fps: float
    width: int
    height: int
    estimator: str
    coordinates: str = "pixels"  # how the file stored x, y: "pixels" or "normalized"


def load_pose_frames(
    path: Path,
    layout: str | None = None,
    fps: float | None = None,
    width: int | None = None,
    height: int | None = None,
    coordinates: str = "auto",
    default_width: int | None = None,
    default_height: int | None = None,
    channels: str | None = None,
    default_fps: float | None = None,
) -> LoadedPose:
    """Read a pose file and convert it to SL-79 frame units (``to_sl79`` then frame units).

    ``layout`` / ``channels`` go to the reader (a declared layout for ``.npy`` / JSON). Frame size and fps:
    ``width`` / ``height`` / ``fps`` (e.g. from a labels table) win over the file's own, which wins over
    ``default_width`` / ``default_height`` / ``default_fps`` (e.g. a command-line flag; 25 fps otherwise).
    ``coordinates``: ``pixels``, ``normalized`` or ``auto`` (:func:`mslu.pose.normalize.coordinate_kind`).
    Any failure is raised as :class:`PoseUnavailable` naming the file.
    """

    try:
        seq = read_pose(path, layout=layout, fps=fps or default_fps, channels=channels)
    except Exception as exc:  # any reader error: corrupt file, unknown layout, ...
        raise PoseUnavailable(f"cannot read pose file {path.name}: {exc}") from exc
    if seq.num_frames == 0:
        raise PoseUnavailable(f"pose file {path.name} has no frames")
    w = int(width or seq.width or default_width or 0)
    h = int(height or seq.height or default_height or 0)
    try:
        kind = coordinate_kind(seq) if coordinates == "auto" else coordinates
        pose = np.asarray(frame_units(to_sl79(seq), kind, w, h), dtype=np.float32)
    except Exception as exc:
        raise PoseUnavailable(f"cannot map pose file {path.name} to SL-79: {exc}") from exc
    if not np.isfinite(pose).all():
        raise PoseUnavailable(f"pose file {path.name} has NaN/inf values after normalisation")
    own = float(seq.fps) if seq.fps and math.isfinite(seq.fps) and seq.fps > 0 else 0.0
    fps_out = float(fps or 0) or own
    estimator = str(seq.meta.get("estimator", "") or seq.layout.name)
    return LoadedPose(pose, fps_out, w, h, estimator, kind)
