"""Stage 1: exact top-k and the usearch HNSW index (recall@10 against exact search)."""

from __future__ import annotations

import numpy as np
import pytest

from mslu.search.ann import ANN_THRESHOLD, exact_topk, recall_at_k, use_ann


def _unit(rng, n, d):
    x = rng.standard_normal((n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_exact_topk_matches_a_full_sort():
    rng = np.random.default_rng(0)
    x, q = rng.standard_normal((500, 8)).astype(np.float32), rng.standard_normal((3, 8)).astype(np.float32)
    rows, scores = exact_topk(x, q, 7)
    full = np.argsort(-(q @ x.T), axis=1)[:, :7]
    assert np.array_equal(rows, full)
    assert np.allclose(scores, np.take_along_axis(q @ x.T, full, 1))
    assert np.all(np.diff(scores, axis=1) <= 0)
    rows, _ = exact_topk(x[:4], q[0], 10)  # fewer rows than k
    assert rows.shape == (1, 4) and sorted(rows[0]) == [0, 1, 2, 3]
    assert exact_topk(x[:0], q, 5)[0].shape == (3, 0)


def test_use_ann_modes():
    assert not use_ann("off", 10**7)
    assert not use_ann("auto", ANN_THRESHOLD - 1)
    assert use_ann("on", 1)
    with pytest.raises(ValueError, match="--ann must be one of"):
        use_ann("sometimes", 1)


def test_ann_recall_at_10_against_exact(tmp_path):
    pytest.importorskip("usearch")
    from mslu.search.ann import AnnIndex

    rng = np.random.default_rng(0)
    x, q = _unit(rng, 20_000, 64), _unit(rng, 200, 64)
    ann = AnnIndex.build(x)
    truth, _ = exact_topk(x, q, 10)
    found, scores = ann.search(q, 10)
    recall = recall_at_k(found, truth)
    assert recall >= 0.95, recall
    hit = found == truth[:, :1]
    assert np.allclose(scores[hit], (q @ x.T)[np.nonzero(hit)[0], truth[np.nonzero(hit)[0], 0]], atol=1e-4)
    # saved and loaded, it answers the same
    ann.save(tmp_path, len(x), ["000000"])
    again, meta = AnnIndex.load(tmp_path)
    assert meta["rows"] == len(x) and len(again) == len(x)
    assert np.array_equal(again.search(q[:5], 10)[0], ann.search(q[:5], 10)[0])


def test_ann_index_of_a_sign_index_is_extended_not_rebuilt(tmp_path):
    pytest.importorskip("usearch")
    from mslu.search.ann import AnnIndex, index_ann
    from mslu.search.store import RunInfo, SignIndex

    rng = np.random.default_rng(1)
    run = RunInfo("/run", "0" * 64, 1, 1)
    index = SignIndex.create(tmp_path / "idx", run, {"dim": 8, "similarity": "fine"})

    def add(n, start):
        fine = [_unit(rng, 3, 8) for _ in range(n)]
        pooled = np.stack([f.mean(0) for f in fine])
        clips = [{"id": f"c{start + i}", "path": f"/c{start + i}", "frames": 12} for i in range(n)]
        index.add_shard(clips, pooled, fine)

    add(30, 0)
    first = index_ann(index)
    assert len(first) == 30
    add(20, 30)
    second = index_ann(index)
    assert len(second) == 50
    _, meta = AnnIndex.load(tmp_path / "idx" / "ann")
    assert meta["rows"] == 50 and meta["shards"] == ["000000", "000001"]
    rows, _ = second.search(index.pooled()[45], 1)
    assert rows[0, 0] == 45
