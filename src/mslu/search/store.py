"""The on-disk sign index: a directory of append-only shards of embeddings plus clip metadata.

Layout (format ``mslu-sign-index``, version 1; see docs/search.md)::

    INDEX/
      index.json                  written once at creation: format, version, the run (path, sha256 of its
                                  model.safetensors, task), the embedding (dim, similarity kind, window)
      shards/000000/              one shard per flush of a build, never modified once written
        clips.jsonl               one line per clip: id, path, frames, fps, source, n (clip vectors)
        pooled.npy                (N, d) float32: mean of the L2-normalised clip embeddings (stage 1)
        fine.npy                  (sum n, d) float16: the L2-normalised clip embeddings F_sign, concatenated
        offsets.npy               (N + 1,) int64: clip i owns fine[offsets[i]:offsets[i + 1]]
      ann/                        optional ANN index over all pooled vectors (usearch HNSW)
        ann.usearch, ann.json

A shard is written into ``shards/.tmp-*`` and renamed into place when complete, so a shard that exists is
whole; ``ann.json`` is written last and names the rows it covers, so a stale ANN index is detected. Rows
are numbered over the shards in name order; shards are only appended, so row numbers never change.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mslu import __version__
from mslu.files import sha256_of as file_sha256

FORMAT = "mslu-sign-index"
VERSION = 1
INDEX_JSON = "index.json"
SHARDS = "shards"
ANN_DIR = "ann"
LOCK = ".lock"


def one_line(text: Any) -> str:
    """A message on one line (whitespace runs, newlines included, become one space)."""
    return " ".join(str(text).split())




def write_json_atomic(path: Path, obj: Any) -> None:
    """Write JSON to ``path`` through a temporary file renamed into place."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        tmp.write_text(json.dumps(obj, indent=1, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


@dataclass(frozen=True)
class RunInfo:
    """Identity of the retrieval run an index was built with: the model directory and the sha256 of its
    ``model.safetensors`` (the same weights under another path are the same run)."""

    path: str
    sha256: str
    size: int
    mtime_ns: int

    @classmethod
    def of(cls, model_directory: str | Path) -> RunInfo:
        d = Path(model_directory).resolve()
        w = d / "model.safetensors"
        st = w.stat()
        return cls(str(d), file_sha256(w), st.st_size, st.st_mtime_ns)

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "sha256": self.sha256, "size": self.size, "mtime_ns": self.mtime_ns}

    def matches(self, model_directory: str | Path) -> bool:
        """Whether ``model_directory`` holds these weights (size + mtime first, then the hash)."""
        w = Path(model_directory) / "model.safetensors"
        try:
            st = w.stat()
        except OSError:
            return False
        if st.st_size != self.size:
            return False
        if st.st_mtime_ns == self.mtime_ns and str(Path(model_directory).resolve()) == self.path:
            return True
        return file_sha256(w) == self.sha256


@dataclass
class Shard:
    """One written shard: its clips' metadata, pooled vectors and (memory-mapped) clip embeddings."""

    path: Path
    clips: list[dict[str, Any]]

    @property
    def name(self) -> str:
        return self.path.name

    def pooled(self) -> np.ndarray:
        return np.load(self.path / "pooled.npy", mmap_mode="r")

    def fine(self) -> np.ndarray:
        return np.load(self.path / "fine.npy", mmap_mode="r")

    def offsets(self) -> np.ndarray:
        return np.load(self.path / "offsets.npy")


def is_index(path: str | Path) -> bool:
    p = Path(path) / INDEX_JSON
    if not p.is_file():
        return False
    try:
        return json.loads(p.read_text(encoding="utf-8")).get("format") == FORMAT
    except (OSError, ValueError, AttributeError):
        return False


class SignIndex:
    """A sign index directory (see the module doc). Open with :meth:`open`, create with :meth:`create`."""

    def __init__(self, root: Path, info: dict[str, Any]):
        self.root = root
        self.info = info
        self._shards: list[Shard] | None = None
        self._pooled: np.ndarray | None = None
        self._clips: list[dict[str, Any]] | None = None

    # ---- create / open ----
    @classmethod
    def create(cls, root: str | Path, run: RunInfo, embedding: dict[str, Any]) -> SignIndex:
        """A new, empty index in ``root`` (absent or an empty directory)."""
        root = Path(root)
        root.mkdir(parents=True, exist_ok=True)
        (root / SHARDS).mkdir(exist_ok=True)
        info = {
            "format": FORMAT,
            "version": VERSION,
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "mslu": __version__,
            "run": {**run.to_dict(), "task": "retrieval"},
            "embedding": embedding,
        }
        write_json_atomic(root / INDEX_JSON, info)
        return cls(root, info)

    @classmethod
    def open(cls, root: str | Path) -> SignIndex:
        root = Path(root)
        p = root / INDEX_JSON
        if not root.exists():
            raise FileNotFoundError(f"{root}: no such index")
        if not p.is_file():
            raise ValueError(f"{root}: not a sign index (no {INDEX_JSON}; built by `mslu index build`)")
        try:
            info = json.loads(p.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise ValueError(f"{p}: unreadable index description ({one_line(e)})") from None
        if not isinstance(info, dict) or info.get("format") != FORMAT:
            raise ValueError(f"{root}: not a sign index ({INDEX_JSON} has no format {FORMAT!r})")
        if int(info.get("version", 0)) > VERSION:
            raise ValueError(f"{root}: index format version {info.get('version')} is newer than this mslu "
                             f"reads ({VERSION}); upgrade mslu")  # fmt: skip
        return cls(root, info)

    # ---- properties ----
    @property
    def run(self) -> RunInfo:
        r = self.info["run"]
        return RunInfo(r["path"], r["sha256"], int(r.get("size", 0)), int(r.get("mtime_ns", 0)))

    @property
    def embedding(self) -> dict[str, Any]:
        return self.info["embedding"]

    @property
    def dim(self) -> int:
        return int(self.embedding["dim"])

    @property
    def shards(self) -> list[Shard]:
        if self._shards is None:
            self._shards = self._read_shards()
        return self._shards

    def _read_shards(self) -> list[Shard]:
        out = []
        d = self.root / SHARDS
        if not d.is_dir():
            return out
        for p in sorted(x for x in d.iterdir() if x.is_dir() and not x.name.startswith(".")):
            try:
                lines = (p / "clips.jsonl").read_text(encoding="utf-8").splitlines()
                clips = [json.loads(line) for line in lines if line.strip()]
            except (OSError, ValueError) as e:
                raise ValueError(f"{p}: damaged index shard ({one_line(e)})") from None
            out.append(Shard(p, clips))
        return out

    def clips(self) -> list[dict[str, Any]]:
        """Metadata of every clip, in row order (read once; do not modify)."""
        if self._clips is None:
            self._clips = [c for s in self.shards for c in s.clips]
        return self._clips

    def __len__(self) -> int:
        return sum(len(s.clips) for s in self.shards)

    def paths(self) -> set[str]:
        return {c["path"] for s in self.shards for c in s.clips}

    def refresh(self) -> None:
        """Forget what was read (after shards were added)."""
        self._shards = None
        self._pooled = None
        self._clips = None

    # ---- vectors ----
    def pooled(self) -> np.ndarray:
        """(N, d) float32 pooled vectors of all clips (stage 1 of a search), loaded once."""
        if self._pooled is None:
            parts = [np.asarray(s.pooled(), dtype=np.float32) for s in self.shards]
            self._pooled = np.concatenate(parts) if parts else np.zeros((0, self.dim), np.float32)
        return self._pooled

    def fine(self, rows: np.ndarray | list[int]) -> tuple[np.ndarray, np.ndarray]:
        """Clip embeddings of ``rows``, padded: (R, n_max, d) float32 and mask (R, n_max) bool."""
        rows = np.asarray(rows, dtype=np.int64)
        starts = np.cumsum([0] + [len(s.clips) for s in self.shards])
        parts: list[np.ndarray] = []
        cache: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        for r in rows:
            si = int(np.searchsorted(starts, r, side="right") - 1)
            if si not in cache:
                cache[si] = (self.shards[si].fine(), self.shards[si].offsets())
            fine, off = cache[si]
            i = int(r - starts[si])
            parts.append(np.asarray(fine[off[i] : off[i + 1]], dtype=np.float32))
        n = max((len(p) for p in parts), default=0)
        x = np.zeros((len(parts), max(n, 1), self.dim), np.float32)
        m = np.zeros((len(parts), max(n, 1)), bool)
        for i, p in enumerate(parts):
            x[i, : len(p)] = p
            m[i, : len(p)] = True
        return x, m

    # ---- writing ----
    def add_shard(self, clips: list[dict[str, Any]], pooled: np.ndarray, fine: list[np.ndarray]) -> Shard:
        """Write one shard (atomically: a temporary directory renamed into place) and return it."""
        if not clips:
            raise ValueError("empty shard")
        d = self.root / SHARDS
        d.mkdir(exist_ok=True)
        names = [int(p.name) for p in d.iterdir() if p.is_dir() and p.name.isdigit()]
        name = f"{max(names, default=-1) + 1:06d}"
        tmp = d / f".tmp-{os.getpid()}-{name}"
        if tmp.exists():
            shutil.rmtree(tmp)
        tmp.mkdir()
        try:
            offsets = np.concatenate([[0], np.cumsum([len(f) for f in fine])]).astype(np.int64)
            np.save(tmp / "pooled.npy", np.ascontiguousarray(pooled, dtype=np.float32))
            dtype = self.embedding.get("fine_dtype", "float16")
            np.save(tmp / "fine.npy", np.concatenate(fine).astype(dtype))
            np.save(tmp / "offsets.npy", offsets)
            with open(tmp / "clips.jsonl", "w", encoding="utf-8") as f:
                for c in clips:
                    f.write(json.dumps(c, ensure_ascii=False) + "\n")
            os.rename(tmp, d / name)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
        self.refresh()
        return next(s for s in self.shards if s.name == name)

    def clean_temporary(self) -> None:
        """Remove leftovers of an interrupted write (``.tmp-*`` shards and files); only the index's own."""
        for d in (self.root / SHARDS, self.root / ANN_DIR, self.root):
            if d.is_dir():
                for p in d.iterdir():
                    if ".tmp-" in p.name:
                        shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)

    # ---- locking ----
    def lock(self) -> IndexLock:
        return IndexLock(self.root / LOCK)


class IndexLock:
    """An exclusive lock file holding the builder's pid; a stale one (dead pid) is taken over."""

    def __init__(self, path: Path):
        self.path = path

    def __enter__(self) -> IndexLock:
        for _ in range(2):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                try:
                    pid = int(self.path.read_text().strip() or 0)
                except (OSError, ValueError):
                    pid = 0
                if pid and pid != os.getpid() and _alive(pid):
                    raise ValueError(
                        f"{self.path.parent}: another build (pid {pid}) is writing this index"
                    ) from None
                self.path.unlink(missing_ok=True)
                continue
            with os.fdopen(fd, "w") as f:
                f.write(str(os.getpid()))
            return self
        raise ValueError(f"{self.path.parent}: cannot lock the index ({self.path})")

    def __exit__(self, *exc) -> None:
        self.path.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
