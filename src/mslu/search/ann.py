"""Stage 1 of a search: top candidates by inner product of pooled vectors, exactly (one matmul) or
approximately (usearch HNSW, inner-product metric). Rows are the index's row numbers."""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mslu.search.store import ANN_DIR, SignIndex

log = logging.getLogger(__name__)

ANN_MODES = ("auto", "on", "off")
ANN_THRESHOLD = 50_000  # --ann auto: ANN from this many clips on, exact search below
CONNECTIVITY = 16  # HNSW graph degree (usearch default)
EXPANSION_ADD = 128  # beam width while inserting (usearch default)
EXPANSION_SEARCH = 256  # beam width while searching: recall@10 >= 0.95 on random 64-d unit vectors


def check_mode(mode: str) -> str:
    if mode not in ANN_MODES:
        raise ValueError(f"--ann must be one of {'|'.join(ANN_MODES)}, got {mode!r}")
    return mode


def use_ann(mode: str, size: int, threshold: int = ANN_THRESHOLD) -> bool:
    """Whether ``--ann mode`` searches a collection of ``size`` clips approximately."""
    check_mode(mode)
    return mode == "on" or (mode == "auto" and size >= threshold and ann_available())


def ann_available() -> bool:
    try:
        import usearch.index  # noqa: F401
    except ImportError:
        return False
    return True


def _usearch():
    try:
        from usearch.index import Index
    except ImportError as e:
        raise ValueError(
            f"approximate search needs usearch ({e}): pip install 'mslu[search]', or use --ann off"
        ) from None
    return Index


def exact_topk(vectors: np.ndarray, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Top-``k`` rows of ``vectors`` (N, d) by inner product with each query (Q, d) or (d,): rows (Q, k)
    int64 and scores (Q, k) float32, best first (fewer columns when N < k)."""
    q = np.atleast_2d(np.asarray(queries, dtype=np.float32))
    k = min(int(k), vectors.shape[0])
    if k <= 0:
        return np.zeros((q.shape[0], 0), np.int64), np.zeros((q.shape[0], 0), np.float32)
    s = q @ np.asarray(vectors, dtype=np.float32).T  # (Q, N)
    part = np.argpartition(-s, k - 1, axis=1)[:, :k] if k < s.shape[1] else np.tile(np.arange(k), (len(q), 1))
    ps = np.take_along_axis(s, part, 1)
    order = np.argsort(-ps, axis=1, kind="stable")
    return np.take_along_axis(part, order, 1).astype(np.int64), np.take_along_axis(ps, order, 1)


def recall_at_k(found: np.ndarray, truth: np.ndarray) -> float:
    """Mean fraction of each query's true top-k rows (``truth`` (Q, k)) among the ``found`` ones."""
    found, truth = np.atleast_2d(found), np.atleast_2d(truth)
    hits = [len(set(f.tolist()) & set(t.tolist())) / max(len(t), 1) for f, t in zip(found, truth)]
    return float(np.mean(hits)) if hits else 1.0


@dataclass
class AnnParams:
    connectivity: int = CONNECTIVITY
    expansion_add: int = EXPANSION_ADD
    expansion_search: int = EXPANSION_SEARCH


class AnnIndex:
    """usearch HNSW over pooled vectors with the inner-product metric; keys are row numbers."""

    def __init__(self, ndim: int, params: AnnParams | None = None):
        self.params = params or AnnParams()
        index_cls = _usearch()
        self.ndim = int(ndim)
        self._index = index_cls(
            ndim=self.ndim,
            metric="ip",
            dtype="f32",
            connectivity=self.params.connectivity,
            expansion_add=self.params.expansion_add,
            expansion_search=self.params.expansion_search,
        )

    @classmethod
    def build(cls, vectors: np.ndarray, params: AnnParams | None = None, threads: int = 0) -> AnnIndex:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        ann = cls(vectors.shape[1], params)
        ann.add(np.arange(len(vectors), dtype=np.int64), vectors, threads)
        return ann

    def add(self, rows: np.ndarray, vectors: np.ndarray, threads: int = 0) -> None:
        if len(rows):
            self._index.add(np.asarray(rows, dtype=np.uint64),
                            np.ascontiguousarray(vectors, dtype=np.float32), threads=threads)  # fmt: skip

    def __len__(self) -> int:
        return len(self._index)

    def search(self, queries: np.ndarray, k: int, threads: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """Approximate :func:`exact_topk`: rows (Q, k) int64 and inner products (Q, k), best first;
        rows -1 (score -inf) pad queries that found fewer than ``k``."""
        q = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        k = min(int(k), len(self))
        if k <= 0:
            return np.zeros((q.shape[0], 0), np.int64), np.zeros((q.shape[0], 0), np.float32)
        self._index.expansion_search = max(self.params.expansion_search, 2 * k)
        m = self._index.search(q, k, threads=threads)
        keys = np.asarray(m.keys, dtype=np.int64).reshape(len(q), -1)
        dist = np.asarray(m.distances, dtype=np.float32).reshape(len(q), -1)
        counts = np.asarray(m.counts).reshape(-1) if hasattr(m, "counts") else np.full(len(q), keys.shape[1])
        cols = np.arange(keys.shape[1])[None, :]
        valid = cols < counts[:, None]
        rows = np.where(valid, keys, -1)
        scores = np.where(valid, 1.0 - dist, -np.inf).astype(np.float32)  # usearch "ip" distance = 1 - dot
        return rows, scores

    # ---- files ----
    def save(self, directory: Path, rows: int, shards: list[str]) -> None:
        """``ann.usearch`` then ``ann.json`` (rows and shards covered), each through a temporary name."""
        directory.mkdir(parents=True, exist_ok=True)
        pid = os.getpid()
        tmp = directory / f".ann.usearch.tmp-{pid}"
        meta_tmp = directory / f".ann.json.tmp-{pid}"
        try:
            (directory / "ann.json").unlink(missing_ok=True)  # invalid while the graph is replaced
            self._index.save(str(tmp))
            os.replace(tmp, directory / "ann.usearch")
            meta = {"rows": int(rows), "shards": list(shards), "ndim": self.ndim, "metric": "ip",
                    **self.params.__dict__}  # fmt: skip
            meta_tmp.write_text(json.dumps(meta, indent=1))
            os.replace(meta_tmp, directory / "ann.json")
        finally:
            tmp.unlink(missing_ok=True)
            meta_tmp.unlink(missing_ok=True)

    @classmethod
    def load(cls, directory: Path) -> tuple[AnnIndex, dict] | None:
        """The saved index and its ``ann.json`` (rows, shards covered), or None when absent or damaged."""
        meta_path, graph = directory / "ann.json", directory / "ann.usearch"
        if not meta_path.is_file() or not graph.is_file():
            return None
        try:
            meta = json.loads(meta_path.read_text())
            params = AnnParams(int(meta.get("connectivity", CONNECTIVITY)),
                               int(meta.get("expansion_add", EXPANSION_ADD)),
                               int(meta.get("expansion_search", EXPANSION_SEARCH)))  # fmt: skip
            ann = cls(int(meta["ndim"]), params)
            ann._index.load(str(graph))
        except (OSError, ValueError, KeyError, TypeError, RuntimeError) as e:
            log.warning("%s: damaged ANN index (%s); it will be rebuilt", graph, " ".join(str(e).split()))
            return None
        if len(ann) != meta.get("rows"):
            return None
        return ann, meta


def index_ann(index: SignIndex, save: bool = True, params: AnnParams | None = None) -> AnnIndex:
    """The ANN index over all pooled vectors of ``index``: the saved one when it covers every shard, the
    saved one extended by the rows of newer shards, or a new one; saved back (when ``save``) if changed."""
    names = [s.name for s in index.shards]
    rows = len(index)
    d = index.root / ANN_DIR
    loaded = AnnIndex.load(d)
    if loaded is not None:
        ann, meta = loaded
        old = list(meta.get("shards") or [])
        if old == names:
            return ann
        if old == names[: len(old)] and meta["rows"] == sum(len(s.clips) for s in index.shards[: len(old)]):
            start = int(meta["rows"])
            log.info("extending the ANN index by %d clips", rows - start)
            ann.add(np.arange(start, rows, dtype=np.int64), index.pooled()[start:])
            if save:
                _save(ann, d, rows, names)
            return ann
    log.info("building the ANN index over %d clips", rows)
    ann = AnnIndex.build(index.pooled(), params)
    if save:
        _save(ann, d, rows, names)
    return ann


def _save(ann: AnnIndex, directory: Path, rows: int, names: list[str]) -> None:
    try:
        ann.save(directory, rows, names)
    except OSError as e:  # a read-only index still searches, with the graph rebuilt in memory each time
        log.warning("%s: cannot save the ANN index (%s)", directory, " ".join(str(e).split()))
