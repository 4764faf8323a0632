"""Writing a corpus: validated samples into atomically committed shards, resumable."""

from __future__ import annotations

import json
import os
import re

try:
    import fcntl
except ImportError:  # Windows: no advisory lock; keep to one writer per corpus
    fcntl = None
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.ipc as ipc

from mslu.data.corpus.format import (
    LOCK,
    MANIFEST,
    META_COLUMNS,
    SCHEMA,
    SHARD_PATTERN,
    SHARD_RE,
    VALUES_PER_FRAME,
    CorpusError,
    atomic_write_text,
    encode_sample,
    is_uncommitted,
    new_manifest,
    open_shard_table,
    read_manifest,
)
from mslu.data.schema import Sample, SampleError
from mslu.files import sha256_of


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
            self._manifest = read_manifest(self.root)
        else:
            self._manifest = new_manifest()
            atomic_write_text(self.root / MANIFEST, json.dumps(self._manifest, indent=1))
        self._cleanup()
        self._ids: set[str] = set()
        for entry in self._manifest["shards"]:
            table = open_shard_table(self.root / entry["file"], entry)
            self._ids.update(table.column("id").to_pylist())
        self._rows: list[dict] = []
        self._poses: list[np.ndarray] = []
        self._closed = False

    def _cleanup(self) -> None:
        """Remove temp files and shard files that no committed manifest lists (an interrupted build)."""
        listed = {e["file"] for e in self._manifest["shards"]}
        for p in self.root.iterdir():
            if is_uncommitted(p.name, listed):
                p.unlink()

    def __enter__(self) -> CorpusWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.close()

    def __contains__(self, sample_id: str) -> bool:
        return sample_id in self._ids

    def add(self, sample: Sample) -> bool:
        """Buffer ``sample`` for the current shard; False if it is invalid or a duplicate."""
        if self._closed:
            raise RuntimeError("CorpusWriter is closed")
        try:
            row, pose = encode_sample(sample)
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
        index = 1 + max((int(SHARD_RE.match(e["file"]).group(1)) for e in shards), default=-1)
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
            "sha256": sha256_of(final),
            "first_id": self._rows[0]["id"],
            "last_id": self._rows[-1]["id"],
        }
        manifest = dict(self._manifest, shards=[*shards, entry])
        manifest["num_samples"] = int(self._manifest["num_samples"]) + len(self._rows)
        manifest["num_frames"] = int(self._manifest["num_frames"]) + frames
        atomic_write_text(self.root / MANIFEST, json.dumps(manifest, indent=1, ensure_ascii=False))
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
