"""Reading a corpus: memory-mapped random access, streaming and views."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mslu.data.corpus.format import (
    META_COLUMNS,
    SCHEMA,
    Shard,
    check_shard_entries,
    read_manifest,
    row_to_sample,
)
from mslu.data.schema import Sample


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
        return row_to_sample(row, shard.pose(j))

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
    def root(self) -> Path:
        """Folder of the underlying corpus."""
        return self._base._root

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
                    yield row_to_sample(row, shard.pose(int(j)))

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
        self._root = Path(root)
        self.manifest = read_manifest(self._root)
        check_shard_entries(self._root, self.manifest)
        self._base = self
        self._index = None
        entries = self.manifest["shards"]
        counts = np.array([int(e["num_samples"]) for e in entries], dtype=np.int64)
        self._starts = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        self._shards: list[Shard | None] = [None] * len(entries)
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

    def info(self) -> dict[str, Any]:
        """Format, size and layout figures of the corpus (what ``mslu corpus info`` prints)."""
        m = self.manifest
        size = sum(p.stat().st_size for p in self.shard_files if p.exists())
        frames = int(m.get("num_frames", 0))
        return {
            "path": str(self.root),
            "format": f"{m['format']} v{m['version']}",
            "samples": len(self),
            "frames": frames,
            "shards": len(m["shards"]),
            "bytes": size,
            "bytes_per_frame": round(size / frames, 1) if frames else None,
            "layout": m.get("layout"),
            "pose_dtype": m.get("pose_dtype"),
        }

    @property
    def shard_files(self) -> list[Path]:
        return [self.root / e["file"] for e in self.manifest["shards"]]

    def _shard(self, k: int) -> Shard:
        shard = self._shards[k]
        if shard is None:
            entry = self.manifest["shards"][k]
            shard = self._shards[k] = Shard(self.root / entry["file"], entry)
        return shard

    def _locate(self, g: int) -> tuple[Shard, int]:
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
