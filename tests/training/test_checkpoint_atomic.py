import random

import numpy as np
import pytest
import torch

from mslu.training import checkpoint as ck


def test_crash_during_save_keeps_previous(tmp_path, monkeypatch):
    ck.save_checkpoint(tmp_path, 1, {"w": torch.ones(3)})
    good = ck.latest_checkpoint(tmp_path)

    def exploding_save(obj, f):
        f.write(b"partial garbage")
        raise OSError("disk full")

    monkeypatch.setattr(ck.torch, "save", exploding_save)
    with pytest.raises(OSError):
        ck.save_checkpoint(tmp_path, 2, {"w": torch.zeros(3)})
    monkeypatch.undo()
    assert ck.latest_checkpoint(tmp_path) == good
    assert torch.equal(ck.load_checkpoint(good)["w"], torch.ones(3))


def test_keep_last_and_order(tmp_path):
    for step in (5, 10, 100, 20):
        ck.save_checkpoint(tmp_path, step, {"step": step}, keep_last=2)
    names = [p.name for p in ck.list_checkpoints(tmp_path)]
    assert names == ["step-20.pt", "step-100.pt"]


def test_rng_roundtrip_weights_only(tmp_path):
    random.seed(1)
    np.random.seed(2)
    torch.manual_seed(3)
    ck.save_checkpoint(tmp_path, 1, {"rng": ck.rng_state()})
    expected = (random.random(), np.random.rand(), torch.rand(2))
    random.seed(99)
    np.random.seed(99)
    torch.manual_seed(99)
    ck.set_rng_state(ck.load_checkpoint(ck.latest_checkpoint(tmp_path))["rng"])
    got = (random.random(), np.random.rand(), torch.rand(2))
    assert expected[0] == got[0] and expected[1] == got[1] and torch.equal(expected[2], got[2])


def test_corrupt_checkpoint_named(tmp_path):
    bad = tmp_path / "step-3.pt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(RuntimeError, match="step-3.pt"):
        ck.load_checkpoint(bad)
