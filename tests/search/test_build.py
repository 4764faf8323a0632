"""``build_index``: what it indexes, resume after an interruption, bad files, refusing foreign outputs."""

from __future__ import annotations

import json
import os
import shutil

import numpy as np
import pytest

import mslu.search.build as build_mod
from mslu.pose.io import read_pose
from mslu.search import SignIndex, build_index, collect_inputs


def _build(run, inputs, out, **kw):
    errors = []
    kw.setdefault("progress", False)
    kw.setdefault("device", "cpu")
    report = build_index(run, inputs, out, on_error=lambda p, m: errors.append(m), **kw)
    return report, errors


def test_build_indexes_every_clip_with_its_metadata(retrieval_run, clip_dir, tmp_path):
    d, texts = clip_dir
    report, errors = _build(retrieval_run, [d], tmp_path / "idx", batch_size=3)
    assert errors == [] and report.failed == []
    assert report.added == report.total == len(texts) and report.already == 0
    index = SignIndex.open(tmp_path / "idx")
    clips = index.clips()
    assert sorted(c["id"] for c in clips) == sorted(texts)
    for c in clips:
        assert c["frames"] == read_pose(c["path"]).num_frames
        assert c["n"] >= 1 and c["source"] == "pose"
    pooled = index.pooled()
    assert pooled.shape == (len(texts), index.dim) and np.isfinite(pooled).all()
    fine, mask = index.fine(np.arange(len(texts)))
    assert fine.shape[:2] == mask.shape and (mask.sum(1) == [c["n"] for c in clips]).all()
    # pooled = mean of the L2-normalised clip embeddings (fine is stored in float16)
    f = fine[0, mask[0]]
    want = (f / np.linalg.norm(f, axis=1, keepdims=True)).mean(0)
    assert np.allclose(pooled[0], want, atol=2e-3)
    assert index.info["run"]["path"] == str((retrieval_run / "model").resolve())
    assert not report.ann  # tiny collection: exact search, no ANN file
    # building again adds nothing
    again, _ = _build(retrieval_run, [d], tmp_path / "idx")
    assert again.added == 0 and again.already == len(texts) and again.total == len(texts)


def test_batched_embedding_equals_one_clip_at_a_time(loaded_run, retrieval_corpus):
    task, model = loaded_run
    poses = [retrieval_corpus.pose(i) for i in range(5)]
    sign, mask = task.embed_poses(model, poses, "cpu")
    for i, p in enumerate(poses):
        s1, m1 = task.embed_poses(model, [p], "cpu")
        n = int(m1.sum())
        assert mask[i].sum() == n
        assert np.allclose(sign[i, :n].numpy(), s1[0, :n].numpy(), atol=1e-4)


def test_interrupted_build_resumes_without_duplicates(retrieval_run, clip_dir, tmp_path, monkeypatch):
    d, texts = clip_dir
    real = build_mod.embed_clips
    calls = {"n": 0}

    def flaky(*a, **kw):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real(*a, **kw)

    monkeypatch.setattr(build_mod, "embed_clips", flaky)
    out = tmp_path / "idx"
    with pytest.raises(KeyboardInterrupt):
        _build(retrieval_run, [d], out, batch_size=2, shard_size=2)
    first = SignIndex.open(out)
    assert len(first) == 4  # two batches embedded and written before the interruption
    assert not (out / ".lock").exists()
    monkeypatch.setattr(build_mod, "embed_clips", real)
    (out / "shards" / ".tmp-999-000009").mkdir()  # a shard whose write was cut short
    (out / "shards" / ".tmp-999-000009" / "pooled.npy").write_bytes(b"partial")
    report, errors = _build(retrieval_run, [d], out, batch_size=4)
    assert errors == []
    assert report.already == 4 and report.added == len(texts) - 4 and report.total == len(texts)
    paths = [c["path"] for c in SignIndex.open(out).clips()]
    assert len(paths) == len(set(paths)) == len(texts)
    assert not any(p.name.startswith(".tmp-") for p in (out / "shards").iterdir())


def test_bad_files_are_reported_in_one_line_and_skipped(retrieval_run, clip_dir, tmp_path):
    d, texts = clip_dir
    src = tmp_path / "mixed"
    shutil.copytree(d, src)
    (src / "broken.pose").write_bytes(b"\x00not a pose file")
    np.save(src / "empty.npy", np.zeros((0, 79, 3), np.float32))
    (src / "notes.json").write_text(json.dumps({"hello": "world"}))
    np.save(src / "wrong.npy", np.zeros((10, 5), np.float32))
    report, errors = _build(retrieval_run, [src, tmp_path / "missing.pose"], tmp_path / "idx")
    assert report.total == len(texts)
    bad = {"broken.pose", "empty.npy", "notes.json", "wrong.npy", "missing.pose"}
    assert len(errors) == len(bad) == len(report.failed)
    for name in bad:
        (msg,) = [m for m in errors if name in m]
        assert "\n" not in msg and str(tmp_path) in msg and ": " in msg
    # bad files are tried again (and reported again) by the next build; good ones are not re-embedded
    again, errors2 = _build(retrieval_run, [src], tmp_path / "idx")
    assert again.added == 0 and len(errors2) == len(bad) - 1


def test_out_must_be_new_empty_or_an_index_of_the_same_run(retrieval_run, clip_dir, tmp_path):
    d, _ = clip_dir
    a_file = tmp_path / "file.txt"
    a_file.write_text("mine")
    with pytest.raises(ValueError, match="exists and is not a directory"):
        _build(retrieval_run, [d], a_file)
    assert a_file.read_text() == "mine"
    user = tmp_path / "user"
    user.mkdir()
    (user / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match="not a sign index"):
        _build(retrieval_run, [d], user)
    assert sorted(os.listdir(user)) == ["notes.txt"]
    (tmp_path / "empty").mkdir()
    assert _build(retrieval_run, [d], tmp_path / "empty")[0].total > 0
    # an index of other weights
    other = tmp_path / "other"
    shutil.copytree(tmp_path / "empty", other)
    info = json.loads((other / "index.json").read_text())
    info["run"]["sha256"] = "f" * 64
    (other / "index.json").write_text(json.dumps(info))
    with pytest.raises(ValueError, match="an index of another run"):
        _build(retrieval_run, [d], other)


def test_only_retrieval_runs_and_one_builder_at_a_time(retrieval_run, clip_dir, tmp_path):
    d, _ = clip_dir
    islr = tmp_path / "islr_run"
    shutil.copytree(retrieval_run, islr)
    cfg = json.loads((islr / "model" / "config.json").read_text())
    cfg["task"] = "islr"
    (islr / "model" / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(ValueError, match="needs a retrieval"):
        _build(islr, [d], tmp_path / "idx")
    with pytest.raises(FileNotFoundError, match="no fine-tuned model"):
        _build(tmp_path / "nothing", [d], tmp_path / "idx")
    out = tmp_path / "locked"
    _build(retrieval_run, [d / "b"], out)
    (out / ".lock").write_text(str(os.getppid()))  # a live process holds it
    with pytest.raises(ValueError, match="another build"):
        _build(retrieval_run, [d], out)
    (out / ".lock").write_text("999999999")  # a dead one: taken over
    assert _build(retrieval_run, [d], out)[0].added > 0


def test_collect_inputs(tmp_path):
    (tmp_path / "a").mkdir()
    for name in ("x.pose", "x.mp4", "y.mp4", "z.txt", ".hidden.pose", "a/x.npz"):
        (tmp_path / name).write_bytes(b"")
    (tmp_path / "idx").mkdir()
    (tmp_path / "idx" / "pooled.npy").write_bytes(b"")
    files, problems = collect_inputs([tmp_path, tmp_path / "x.pose", tmp_path / "nope"],
                                     exclude=tmp_path / "idx", taken=["a/x.npz"])  # fmt: skip
    ids = sorted(cid for _, cid in files)
    assert ids == ["a/x.npz~2", "x.pose", "y.mp4"]  # x.mp4 has its pose file; the index is not input
    assert problems == [(str(tmp_path / "nope"), f"{tmp_path / 'nope'}: no such file or directory")]
    files, problems = collect_inputs([tmp_path / "idx"], exclude=tmp_path / "idx")
    assert files == [] and "no pose files or videos" in problems[0][1]
