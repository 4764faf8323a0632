"""Damaged corpora (manifests, shards) and checkpoints end in a CorpusError / CheckpointError naming the
file, or read correctly; content changes that keep sizes are caught by ``validate_corpus``."""

from __future__ import annotations

import json
import pickle
import random
import shutil

import numpy as np
import pytest
import torch
from fuzzing import SEED, one_line_naming

from mslu.data.corpus import Corpus, CorpusError, validate_corpus, write_corpus
from mslu.data.schema import Sample
from mslu.data.stats import compute_stats
from mslu.training import checkpoint as ck


@pytest.fixture(scope="module")
def corpus_master(tmp_path_factory):
    root = tmp_path_factory.mktemp("fuzz_corpus") / "c"
    rng = np.random.default_rng(0)
    samples = []
    for i in range(40):
        pose = rng.uniform(0, 1, (int(rng.integers(4, 30)), 79, 3)).astype(np.float32)
        samples.append(Sample(id=f"s{i:03d}", pose=pose, source="fz", sign_language="ase", text=f"word {i}",
                              text_language="en"))
    write_corpus(root, samples, shard_size=8)
    return root, {s.id: s.pose for s in samples}


def _mutate_corpus(root, r: random.Random) -> str:
    shards = sorted(root.glob("shard-*.arrow"))
    kind = r.choice(["truncate", "flip", "flip", "delete", "manifest_cut", "manifest_junk", "manifest_type",
                     "manifest_path", "extra_file", "empty_shard"])
    if kind in ("truncate", "flip", "delete", "empty_shard"):
        shard = r.choice(shards)
        data = bytearray(shard.read_bytes())
        if kind == "truncate":
            shard.write_bytes(bytes(data[: r.randrange(len(data))]))
        elif kind == "flip":
            for _ in range(r.randrange(1, 32)):
                data[r.randrange(len(data))] ^= 1 << r.randrange(8)
            shard.write_bytes(bytes(data))
        elif kind == "delete":
            shard.unlink()
        else:
            shard.write_bytes(b"")
        return kind
    manifest = root / "manifest.json"
    text = manifest.read_text()
    if kind == "manifest_cut":
        manifest.write_text(text[: r.randrange(len(text))])
    elif kind == "manifest_junk":
        manifest.write_bytes(bytes(r.randrange(256) for _ in range(r.randrange(1, 300))))
    elif kind in ("manifest_type", "manifest_path"):
        m = json.loads(text)
        entry = r.choice(m["shards"])
        if kind == "manifest_type":
            key = r.choice(["num_samples", "bytes", "file", "num_frames"])
            entry[key] = r.choice(["x", None, -3, 10**12, [1], {"a": 1}])
        else:
            escapes = ["/etc/hostname", "../x.arrow", "shard-00000.arrow/../../y", "~/s.arrow"]
            entry["file"] = r.choice(escapes)
        manifest.write_text(json.dumps(m))
    else:
        (root / r.choice(["notes.txt", "shard-99999.arrow.tmp", "manifest.json.bak"])).write_text("junk")
    return kind


@pytest.mark.parametrize("case", range(150))
def test_damaged_corpus(tmp_path, corpus_master, case):
    master, poses = corpus_master
    r = random.Random(SEED + 5000 + case)
    root = tmp_path / "c"
    shutil.copytree(master, root)
    kind = _mutate_corpus(root, r)
    try:
        corpus = Corpus(root)
        read = {s.id: s.pose for s in corpus}
        assert compute_stats(corpus).total == len(read)  # what `mslu corpus stats` computes
    except CorpusError as e:
        one_line_naming(e, str(root))
        read = None
    problems = validate_corpus(root)
    if read is not None and read.keys() == poses.keys():
        changed = any(not np.allclose(read[k], poses[k], atol=1e-3) for k in poses)
        if changed or kind in ("flip", "manifest_type"):
            # the read went through: a content change must still be caught by the full validation
            assert problems or not changed, kind
    elif kind not in ("extra_file",):
        assert problems, f"{kind}: damage not reported by validate"
    for p in problems:
        assert "\n" not in p and str(root) in p


@pytest.fixture(scope="module")
def checkpoint_master(tmp_path_factory):
    d = tmp_path_factory.mktemp("fuzz_ckpt")
    state = {"model": {"w": torch.randn(64, 64), "b": torch.zeros(64)}, "step": 3, "rng": ck.rng_state()}
    return ck.save_checkpoint(d, 3, state)


@pytest.mark.parametrize("case", range(80))
def test_damaged_checkpoint(tmp_path, checkpoint_master, case):
    r = random.Random(SEED + 9000 + case)
    path = tmp_path / "step-3.pt"
    shutil.copy(checkpoint_master, path)
    shutil.copy(ck.checksum_path(checkpoint_master), ck.checksum_path(path))
    data = bytearray(path.read_bytes())
    kind = r.choice(["truncate", "flip", "junk", "empty", "no_sidecar_flip", "pickle", "not_dict"])
    if kind == "truncate":
        path.write_bytes(bytes(data[: r.randrange(len(data))]))
    elif kind in ("flip", "no_sidecar_flip"):
        for _ in range(r.randrange(1, 16)):
            data[r.randrange(len(data))] ^= 0xFF
        path.write_bytes(bytes(data))
        if kind == "no_sidecar_flip":
            ck.checksum_path(path).unlink()
    elif kind == "junk":
        path.write_bytes(bytes(r.randrange(256) for _ in range(r.randrange(1, 2000))))
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "pickle":
        path.write_bytes(pickle.dumps({"model": print}))
        ck.checksum_path(path).write_text(ck.sha256_of(path))
    else:
        torch.save([1, 2, 3], path)
        ck.checksum_path(path).write_text(ck.sha256_of(path))
    try:
        state = ck.load_checkpoint(path)
    except ck.CheckpointError as e:
        one_line_naming(e, str(path))
        return
    assert kind == "no_sidecar_flip"  # only an unverified file can load, and then only as a dict of tensors
    assert isinstance(state, dict)
