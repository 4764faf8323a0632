"""On-disk pose-text corpus: a sharded, memory-mapped Apache Arrow IPC (Feather v2) format.

Layout of a corpus directory ``ROOT``::

    ROOT/manifest.json          committed shards (file, samples, frames, bytes) -- the source of truth
    ROOT/shard-00000.arrow      Arrow IPC file, one record batch, uncompressed (memory-mappable)
    ROOT/shard-00001.arrow
    ...

Each shard has one row per :class:`~mslu.data.schema.Sample`: the metadata columns of :data:`SCHEMA`
(``extra`` as a JSON string, ``gloss`` as ``list<string>``), ``num_frames`` (int32) and ``pose``, a
``large_list<halffloat>`` holding the sample's (T, 79, 3) float16 keypoints flattened (x / width,
y / height, confidence). Uncompressed IPC was chosen over Parquet: a shard is opened with
``pa.memory_map`` and the pose of any sample is a zero-copy numpy view (O(1) random access, no row-group
decode); float16 costs 474 bytes per frame, and general-purpose compression gains little on it.

Atomicity and resume (one writer per corpus, enforced by an ``flock`` on ``ROOT/.lock``): a shard is
written to ``shard-XXXXX.arrow.tmp``, fsynced, ``os.replace``d to its final name, then ``manifest.json``
is rewritten the same way. A shard exists for readers only once the manifest lists it. Re-opening a root
with :class:`CorpusWriter` deletes stray temp files and shard files the manifest does not list (their
samples were never committed), loads the ids already committed and skips them as duplicates, so an
interrupted build, run again, ends with every sample exactly once. When the ``with`` block exits on an
exception the samples added so far (all validated) are committed before the exception propagates; a killed
process loses only the uncommitted buffer.

Reading: :class:`Corpus` gives ``len``, random access ``corpus[i]``, ``corpus.pose(i)``, streaming
``iter(corpus)``, ``corpus.lengths`` (from the small ``num_frames`` column: pose pages are never touched),
``corpus.metadata`` (all columns but pose) and views (``subset`` / ``filter``) with the same API. Poses
come back as read-only float16 views of the mapped file; ``np.asarray(pose, np.float32)`` copies.
Validation on read: shard sizes and row counts are checked against the manifest when a shard is opened,
and every decoded pose is checked for the right number of values and for NaN/inf, raising
:class:`CorpusError` that names the shard file and the sample. :func:`validate_corpus` reports all problems.
"""

from __future__ import annotations

import json
import os
import re

try:
    import fcntl
except ImportError:  # Windows: no advisory lock; keep to one writer per corpus
    fcntl = None
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.ipc as ipc

from mslu.data.schema import NUM_KEYPOINTS, Sample, SampleError, validate_sample

FORMAT_NAME = "mslu-corpus"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
LOCK = ".lock"
SHARD_PATTERN = "shard-{:05d}.arrow"
_SHARD_RE = re.compile(r"^shard-(\d{5,})\.arrow$")
VALUES_PER_FRAME = NUM_KEYPOINTS * 3

SCHEMA = pa.schema(
    [
        pa.field("id", pa.string(), nullable=False),
        pa.field("source", pa.string()),
        pa.field("sign_language", pa.string()),
        pa.field("text", pa.string()),
        pa.field("text_language", pa.string()),
        pa.field("gloss", pa.list_(pa.string())),
        pa.field("label", pa.int64()),
        pa.field("split", pa.string()),
        pa.field("signer", pa.string()),
        pa.field("fps", pa.float64()),
        pa.field("width", pa.int32()),
        pa.field("height", pa.int32()),
        pa.field("estimator", pa.string()),
        pa.field("paired", pa.bool_()),
        pa.field("extra", pa.string()),
        pa.field("num_frames", pa.int32()),
        pa.field("pose", pa.large_list(pa.float16())),
    ],
    metadata={"mslu.format": FORMAT_NAME, "mslu.version": str(FORMAT_VERSION), "mslu.layout": "SL79"},
)
META_COLUMNS = [f.name for f in SCHEMA if f.name != "pose"]
_F16_EXP_MASK = np.uint16(0x7C00)


def _has_nonfinite(values16: np.ndarray) -> bool:
    """NaN/inf test on float16 through its bit pattern (all exponent bits set), much faster than isfinite."""
    bits = values16.reshape(-1).view(np.uint16)
    return bool(((bits & _F16_EXP_MASK) == _F16_EXP_MASK).any())


class CorpusError(RuntimeError):
    """A corpus (or one shard / sample in it) is missing, corrupt or inconsistent with its manifest."""


# ----------------------------------------------------------------------------------------------- writing


@dataclass
class WriteReport:
    """What a :class:`CorpusWriter` session did: ``written`` samples, ``skipped`` (id, problem) pairs
    for invalid samples, ``duplicates`` ids already in the corpus (or added twice)."""

    written: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)

    def skipped_by_reason(self) -> dict[str, int]:
        """Number of skipped samples per kind of problem (details such as frame indices removed)."""
        return dict(Counter(problem_kind(p) for _, p in self.skipped))

    def to_dict(self) -> dict:
        return {
            "written": self.written,
            "skipped": len(self.skipped),
            "skipped_by_reason": self.skipped_by_reason(),
            "duplicates": len(self.duplicates),
            "skipped_samples": [{"id": i, "problem": p} for i, p in self.skipped],
        }

    def summary(self) -> str:
        lines = [f"written {self.written}, skipped {len(self.skipped)}, duplicates {len(self.duplicates)}"]
        for reason, n in sorted(self.skipped_by_reason().items(), key=lambda kv: -kv[1]):
            lines.append(f"  skipped {n}: {reason}")
        return "\n".join(lines)


def problem_kind(problem: str) -> str:
    """Group a validation message by kind: ``"NaN/inf value at frame 3, ..."`` -> ``"NaN/inf value"``."""
    kind = re.split(r":| at | \(|;", problem, maxsplit=1)[0]
    kind = re.sub(r"\s*'[^']*'", "", kind)  # quoted values ("unknown text language 'xx'")
    kind = re.sub(r"\s*-?\d[\d.,]*", "", kind)  # numbers
    return kind.strip() or problem


def _json_default(o):
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def _encode_sample(s: Sample) -> tuple[dict, np.ndarray]:
    """Validate ``s`` and return its metadata row and float16 pose; raise :class:`SampleError`."""
    try:
        pose32 = np.asarray(s.pose, dtype=np.float32)  # numpy's float16 arithmetic is slow: check in float32
    except (TypeError, ValueError) as e:
        raise SampleError(str(s.id or "<no id>"), f"pose is not numeric: {e}") from None
    validate_sample(replace(s, pose=pose32))
    sid = s.id
    if not isinstance(s.id, str):
        raise SampleError(str(sid), f"id must be a string, got {type(s.id).__name__}")
    with np.errstate(over="ignore"):
        pose = np.ascontiguousarray(pose32, dtype=np.float16)
    if _has_nonfinite(pose):
        raise SampleError(sid, "pose value outside the float16 range")
    if s.gloss is not None and not all(isinstance(g, str) for g in s.gloss):
        raise SampleError(sid, "gloss must be a list of strings")
    if s.label is not None and not isinstance(s.label, int | np.integer):
        raise SampleError(sid, f"label must be an integer, got {type(s.label).__name__}")
    try:
        extra = json.dumps(s.extra or {}, ensure_ascii=False, default=_json_default)
    except (TypeError, ValueError) as e:
        raise SampleError(sid, f"extra is not JSON serialisable: {e}") from None
    row = {
        "id": sid,
        "source": s.source,
        "sign_language": s.sign_language,
        "text": s.text,
        "text_language": s.text_language,
        "gloss": None if s.gloss is None else list(s.gloss),
        "label": None if s.label is None else int(s.label),
        "split": s.split,
        "signer": str(s.signer),
        "fps": float(s.fps),
        "width": int(s.width),
        "height": int(s.height),
        "estimator": s.estimator,
        "paired": bool(s.paired),
        "extra": extra,
        "num_frames": int(pose.shape[0]),
    }
    return row, pose


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _atomic_write_text(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def _read_manifest(root: Path) -> dict:
    path = root / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CorpusError(f"{root}: not a corpus (no {MANIFEST})") from None
    except (OSError, ValueError) as e:
        raise CorpusError(f"{path}: unreadable manifest: {e}") from None
    if manifest.get("format") != FORMAT_NAME:
        raise CorpusError(f"{path}: not an {FORMAT_NAME} manifest")
    if int(manifest.get("version", -1)) > FORMAT_VERSION:
        raise CorpusError(f"{path}: format version {manifest['version']} is newer than {FORMAT_VERSION}")
    if not isinstance(manifest.get("shards"), list):
        raise CorpusError(f"{path}: manifest has no shard list")
    return manifest


def _new_manifest() -> dict:
    return {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "layout": "SL79",
        "num_keypoints": NUM_KEYPOINTS,
        "pose_dtype": "float16",
        "num_samples": 0,
        "num_frames": 0,
        "shards": [],
    }


def _lock_root(root: Path):
    """Hold an exclusive advisory lock on ``root/.lock`` (released by the OS if the process dies)."""
    f = open(root / LOCK, "a+b")  # kept open for the writer's lifetime
    if fcntl is not None:
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            f.close()
            raise CorpusError(f"{root}: another CorpusWriter is writing this corpus") from None
    return f


class CorpusWriter:
    """Append samples to the corpus at ``root`` in shards of ``shard_size`` samples.

    Use as a context manager. :meth:`add` validates each sample (returns False and records
    ``(id, problem)`` in ``report.skipped`` for a bad one; ``report.duplicates`` for an id already in
    the corpus). Re-opening an existing root continues it (see the module docstring on resume).
    """

    def __init__(self, root: str | os.PathLike, shard_size: int = 4096):
        if shard_size < 1:
            raise ValueError(f"shard_size must be >= 1, got {shard_size}")
        self.root = Path(root)
        self.shard_size = int(shard_size)
        self.report = WriteReport()
        self.root.mkdir(parents=True, exist_ok=True)
        self._lock = _lock_root(self.root)
        if (self.root / MANIFEST).exists():
            self._manifest = _read_manifest(self.root)
        else:
            self._manifest = _new_manifest()
            _atomic_write_text(self.root / MANIFEST, json.dumps(self._manifest, indent=1))
        self._cleanup()
        self._ids: set[str] = set()
        for entry in self._manifest["shards"]:
            table = _open_shard_table(self.root / entry["file"], entry)
            self._ids.update(table.column("id").to_pylist())
        self._rows: list[dict] = []
        self._poses: list[np.ndarray] = []
        self._closed = False

    def _cleanup(self) -> None:
        """Remove temp files and shard files that no committed manifest lists (an interrupted build)."""
        listed = {e["file"] for e in self._manifest["shards"]}
        for p in self.root.iterdir():
            if p.name.endswith(".tmp") or (_SHARD_RE.match(p.name) and p.name not in listed):
                p.unlink()

    def __enter__(self) -> CorpusWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.close()

    @property
    def num_committed(self) -> int:
        return int(self._manifest["num_samples"])

    def __contains__(self, sample_id: str) -> bool:
        return sample_id in self._ids

    def add(self, sample: Sample) -> bool:
        """Buffer ``sample`` for the current shard; False if it is invalid or a duplicate."""
        if self._closed:
            raise RuntimeError("CorpusWriter is closed")
        try:
            row, pose = _encode_sample(sample)
        except SampleError as e:
            self.report.skipped.append((e.sample_id, e.problem))
            return False
        if row["id"] in self._ids:
            self.report.duplicates.append(row["id"])
            return False
        self._ids.add(row["id"])
        self._rows.append(row)
        self._poses.append(pose)
        if len(self._rows) >= self.shard_size:
            self.flush()
        return True

    def add_many(self, samples: Iterable[Sample]) -> WriteReport:
        for s in samples:
            self.add(s)
        return self.report

    def flush(self) -> None:
        """Commit the buffered samples as one new shard (no-op when the buffer is empty)."""
        if not self._rows:
            return
        shards = self._manifest["shards"]
        index = 1 + max((int(_SHARD_RE.match(e["file"]).group(1)) for e in shards), default=-1)
        name = SHARD_PATTERN.format(index)
        batch = _make_batch(self._rows, self._poses)
        final = self.root / name
        tmp = final.with_name(name + ".tmp")
        with pa.OSFile(str(tmp), "wb") as sink:
            with ipc.new_file(sink, SCHEMA) as w:
                w.write_batch(batch)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, final)
        frames = int(sum(r["num_frames"] for r in self._rows))
        entry = {
            "file": name,
            "num_samples": len(self._rows),
            "num_frames": frames,
            "bytes": final.stat().st_size,
            "first_id": self._rows[0]["id"],
            "last_id": self._rows[-1]["id"],
        }
        manifest = dict(self._manifest, shards=[*shards, entry])
        manifest["num_samples"] = int(self._manifest["num_samples"]) + len(self._rows)
        manifest["num_frames"] = int(self._manifest["num_frames"]) + frames
        _atomic_write_text(self.root / MANIFEST, json.dumps(manifest, indent=1, ensure_ascii=False))
        self._manifest = manifest
        self.report.written += len(self._rows)
        self._rows, self._poses = [], []

    def close(self) -> WriteReport:
        """Commit the last (partial) shard. Returns the report."""
        if not self._closed:
            try:
                self.flush()
            finally:
                self._closed = True
                self._unlock()
        return self.report

    def _unlock(self) -> None:
        if self._lock is not None:
            self._lock.close()  # closing the descriptor releases the flock
            self._lock = None


def _make_batch(rows: list[dict], poses: list[np.ndarray]) -> pa.RecordBatch:
    lengths = np.fromiter((p.shape[0] for p in poses), dtype=np.int64, count=len(poses))
    offsets = np.zeros(len(poses) + 1, dtype=np.int64)
    np.cumsum(lengths * VALUES_PER_FRAME, out=offsets[1:])
    values = pa.array(np.concatenate([p.reshape(-1) for p in poses]), type=pa.float16())
    pose = pa.LargeListArray.from_arrays(pa.array(offsets, type=pa.int64()), values)
    arrays = [pa.array([r[name] for r in rows], type=SCHEMA.field(name).type) for name in META_COLUMNS]
    return pa.RecordBatch.from_arrays([*arrays, pose], schema=SCHEMA)


def write_corpus(root: str | os.PathLike, samples: Iterable[Sample], shard_size: int = 4096) -> WriteReport:
    """Write (or continue) the corpus at ``root`` from ``samples``; returns the :class:`WriteReport`."""
    with CorpusWriter(root, shard_size=shard_size) as w:
        w.add_many(samples)
    return w.report


# ----------------------------------------------------------------------------------------------- reading


def _open_shard_table(path: Path, entry: dict | None = None) -> pa.Table:
    """Memory-map one shard and check it against its manifest entry."""
    try:
        if entry is not None and "bytes" in entry and path.stat().st_size != entry["bytes"]:
            raise CorpusError(
                f"{path}: size {path.stat().st_size} bytes differs from the manifest ({entry['bytes']}); "
                "the shard is truncated or was overwritten"
            )
        table = ipc.open_file(pa.memory_map(str(path), "r")).read_all()
    except FileNotFoundError:
        raise CorpusError(f"{path}: shard listed in the manifest is missing") from None
    except (pa.ArrowInvalid, OSError) as e:
        raise CorpusError(f"{path}: unreadable shard: {e}") from None
    missing = [f.name for f in SCHEMA if f.name not in table.schema.names]
    if missing:
        raise CorpusError(f"{path}: shard lacks columns {missing}")
    if entry is not None and table.num_rows != entry["num_samples"]:
        raise CorpusError(f"{path}: {table.num_rows} rows but the manifest says {entry['num_samples']}")
    return table


class _Shard:
    """One opened shard: metadata table plus zero-copy numpy views of the pose buffers."""

    def __init__(self, path: Path, entry: dict):
        table = _open_shard_table(path, entry)
        if table.column("pose").num_chunks != 1:
            table = table.combine_chunks()
        self.path = path
        self.meta = table.drop_columns(["pose"])
        pose = table.column("pose").chunk(0)
        self.offsets = pose.offsets.to_numpy()
        self.values = pose.values.to_numpy(zero_copy_only=True)
        self.ids = self.meta.column("id")
        self.num_frames = self.meta.column("num_frames").to_numpy()
        if len(self.offsets) != table.num_rows + 1:
            raise CorpusError(f"{path}: pose offsets do not match the row count")

    def pose(self, j: int, check: bool = True) -> np.ndarray:
        a, b = int(self.offsets[j]), int(self.offsets[j + 1])
        t = int(self.num_frames[j])
        if check:
            if b - a != t * VALUES_PER_FRAME or t <= 0 or b > len(self.values):
                raise CorpusError(
                    f"{self.path}: sample {self.ids[j].as_py()!r} (row {j}): pose has {b - a} values, "
                    f"expected num_frames {t} x {NUM_KEYPOINTS} x 3"
                )
            if _has_nonfinite(self.values[a:b]):
                raise CorpusError(f"{self.path}: sample {self.ids[j].as_py()!r} (row {j}): NaN/inf in pose")
        return self.values[a:b].reshape(t, NUM_KEYPOINTS, 3)


def _row_to_sample(row: dict, pose: np.ndarray) -> Sample:
    return Sample(
        id=row["id"],
        pose=pose,
        source=row["source"],
        sign_language=row["sign_language"],
        text=row["text"],
        text_language=row["text_language"],
        gloss=row["gloss"],
        label=row["label"],
        split=row["split"],
        signer=row["signer"],
        fps=row["fps"],
        width=row["width"],
        height=row["height"],
        estimator=row["estimator"],
        paired=row["paired"],
        extra=json.loads(row["extra"]) if row["extra"] else {},
    )


class _CorpusAPI:
    """Shared API of :class:`Corpus` and :class:`CorpusView`; subclasses define ``_base`` and ``_index``
    (positions in the base corpus, or None for all)."""

    _base: Corpus
    _index: np.ndarray | None

    def __len__(self) -> int:
        raise NotImplementedError

    def _global(self, i: int) -> int:
        n = len(self)
        if not -n <= i < n:
            raise IndexError(f"index {i} out of range for a corpus of {n} samples")
        i = int(i) % n
        return i if self._index is None else int(self._index[i])

    def __getitem__(self, i: int) -> Sample:
        g = self._global(i)
        shard, j = self._base._locate(g)
        row = shard.meta.slice(j, 1).to_pylist()[0]
        return _row_to_sample(row, shard.pose(j))

    def pose(self, i: int) -> np.ndarray:
        """The (T, 79, 3) float16 pose of sample ``i`` (read-only view of the mapped shard)."""
        shard, j = self._base._locate(self._global(i))
        return shard.pose(j)

    @property
    def lengths(self) -> np.ndarray:
        """Frames per sample (int64), read from the ``num_frames`` column only."""
        all_lengths = self._base._lengths
        return all_lengths if self._index is None else all_lengths[self._index]

    @property
    def metadata(self) -> pa.Table:
        """All columns but ``pose``, one row per sample of this corpus/view."""
        table = self._base._metadata
        return table if self._index is None else table.take(pa.array(self._index))

    @property
    def ids(self) -> list[str]:
        return self.metadata.column("id").to_pylist()

    def indices(self) -> np.ndarray:
        """Positions of this view's samples in the underlying :class:`Corpus`."""
        return np.arange(len(self._base), dtype=np.int64) if self._index is None else self._index.copy()

    def __iter__(self) -> Iterator[Sample]:
        """Stream the samples in order; metadata is decoded in batches per shard."""
        yield from self.iter_samples()

    def iter_samples(self, chunk: int = 1024) -> Iterator[Sample]:
        base = self._base
        index = self.indices()
        for start in range(0, len(index), chunk):
            part = index[start : start + chunk]
            shard_ids = np.searchsorted(base._starts, part, side="right") - 1
            cuts = np.flatnonzero(np.diff(shard_ids)) + 1
            for run, sids in zip(np.split(part, cuts), np.split(shard_ids, cuts)):
                shard = base._shard(int(sids[0]))
                local = run - base._starts[sids[0]]
                if len(local) and local[-1] - local[0] == len(local) - 1 and np.all(np.diff(local) == 1):
                    rows = shard.meta.slice(int(local[0]), len(local)).to_pylist()
                else:
                    rows = shard.meta.take(pa.array(local)).to_pylist()
                for j, row in zip(local, rows):
                    yield _row_to_sample(row, shard.pose(int(j)))

    def iter_poses(self) -> Iterator[np.ndarray]:
        """Stream only the poses (no metadata decoding), in order."""
        for i in range(len(self)):
            yield self.pose(i)

    def subset(self, indices: Sequence[int] | np.ndarray) -> CorpusView:
        """A view of the samples at ``indices`` (positions in this corpus/view), in that order."""
        idx = np.asarray(indices, dtype=np.int64).reshape(-1)
        n = len(self)
        if idx.size and (idx.min() < -n or idx.max() >= n):
            raise IndexError(f"subset indices out of range for a corpus of {n} samples")
        idx = idx % n if n else idx
        return CorpusView(self._base, idx if self._index is None else self._index[idx])

    def filter(self, **conditions) -> CorpusView:
        """View of the samples whose metadata columns equal the given values, e.g.
        ``filter(split="train", paired=True)``; a list/tuple/set value matches any of its items."""
        table = self.metadata
        mask = None
        for name, value in conditions.items():
            if name not in table.schema.names:
                raise KeyError(f"unknown column {name!r}; columns: {table.schema.names}")
            col = table.column(name)
            if isinstance(value, list | tuple | set | frozenset):
                m = pc.is_in(col, value_set=pa.array(list(value), type=col.type))
            else:
                m = pc.equal(col, pa.scalar(value, type=col.type))
            m = pc.fill_null(m, False)
            mask = m if mask is None else pc.and_(mask, m)
        if mask is None:
            return self.subset(np.arange(len(self)))
        return self.subset(np.flatnonzero(mask.to_numpy(zero_copy_only=False)))


class Corpus(_CorpusAPI):
    """Read-only access to the corpus at ``root`` (see the module docstring)."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)
        self.manifest = _read_manifest(self.root)
        self._base = self
        self._index = None
        entries = self.manifest["shards"]
        counts = np.array([int(e["num_samples"]) for e in entries], dtype=np.int64)
        self._starts = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        self._shards: list[_Shard | None] = [None] * len(entries)
        self._meta_cache: pa.Table | None = None
        self._lengths_cache: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self._starts[-1])

    def __repr__(self) -> str:
        return f"Corpus({str(self.root)!r}, samples={len(self)}, shards={len(self._shards)})"

    def __getstate__(self) -> dict:
        # pickling (e.g. to DataLoader workers) drops the memory maps; shards re-open lazily
        state = self.__dict__.copy()
        state["_shards"] = [None] * len(self._shards)
        state["_meta_cache"] = None
        return state

    @property
    def num_frames(self) -> int:
        return int(self.manifest.get("num_frames", int(self.lengths.sum())))

    @property
    def shard_files(self) -> list[Path]:
        return [self.root / e["file"] for e in self.manifest["shards"]]

    def _shard(self, k: int) -> _Shard:
        shard = self._shards[k]
        if shard is None:
            entry = self.manifest["shards"][k]
            shard = self._shards[k] = _Shard(self.root / entry["file"], entry)
        return shard

    def _locate(self, g: int) -> tuple[_Shard, int]:
        k = int(np.searchsorted(self._starts, g, side="right")) - 1
        return self._shard(k), g - int(self._starts[k])

    @property
    def _metadata(self) -> pa.Table:
        if self._meta_cache is None:
            tables = [self._shard(k).meta for k in range(len(self._shards))]
            if tables:
                self._meta_cache = pa.concat_tables(tables)
            else:
                self._meta_cache = pa.schema([SCHEMA.field(n) for n in META_COLUMNS]).empty_table()
        return self._meta_cache

    @property
    def _lengths(self) -> np.ndarray:
        if self._lengths_cache is None:
            parts = [self._shard(k).num_frames for k in range(len(self._shards))]
            self._lengths_cache = (
                np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, dtype=np.int64)
            )
        return self._lengths_cache


class CorpusView(_CorpusAPI):
    """A subset of a :class:`Corpus` (from ``subset`` / ``filter``) with the same reading API."""

    def __init__(self, base: Corpus, index: np.ndarray):
        self._base = base
        self._index = np.asarray(index, dtype=np.int64)

    def __len__(self) -> int:
        return len(self._index)

    def __repr__(self) -> str:
        return f"CorpusView({str(self._base.root)!r}, samples={len(self)})"


# -------------------------------------------------------------------------------------------- validation


def validate_corpus(root: str | os.PathLike, max_problems: int | None = None) -> list[str]:
    """Check every shard and sample of the corpus at ``root``; returns all problems found (empty = OK).

    Each message names the shard file and, for sample problems, the sample id and the problem.
    """
    problems: list[str] = []
    root = Path(root)
    try:
        manifest = _read_manifest(root)
    except CorpusError as e:
        return [str(e)]
    listed = {e["file"] for e in manifest["shards"]}
    for p in sorted(root.iterdir()):
        if p.name.endswith(".tmp") or (_SHARD_RE.match(p.name) and p.name not in listed):
            problems.append(f"{p}: not committed (left by an interrupted build; a writer will remove it)")
    seen: set[str] = set()
    total = 0
    for entry in manifest["shards"]:
        path = root / entry["file"]
        try:
            shard = _Shard(path, entry)
        except CorpusError as e:
            problems.append(str(e))
            continue
        rows = shard.meta.to_pylist()
        for j, row in enumerate(rows):
            sid = row["id"]
            where = f"{path}: sample {sid!r} (row {j})"
            if sid in seen:
                problems.append(f"{where}: duplicate id")
            seen.add(sid)
            try:
                pose = shard.pose(j)
                validate_sample(_row_to_sample(row, pose))
            except CorpusError as e:
                problems.append(str(e))
            except SampleError as e:
                problems.append(f"{where}: {e.problem}")
            except ValueError as e:
                problems.append(f"{where}: bad metadata: {e}")
            if max_problems is not None and len(problems) >= max_problems:
                return problems
        total += len(rows)
        shard_frames = int(shard.num_frames.sum())
        if int(entry.get("num_frames", shard_frames)) != shard_frames:
            problems.append(f"{path}: {shard_frames} frames but the manifest says {entry['num_frames']}")
    if total != int(manifest.get("num_samples", total)):
        problems.append(f"{root / MANIFEST}: says {manifest['num_samples']} samples, shards hold {total}")
    return problems
