import csv

import pytest
import torch

from mslu.training.checkpoint import latest_checkpoint, list_checkpoints, load_checkpoint
from mslu.training.common import NonFiniteLossError


class Crash(Exception):
    pass


def _weights(trainer):
    return {k: v.detach().clone() for k, v in trainer.model.state_dict().items()}


def test_resume_gives_identical_weights(tmp_path, toy_corpus, tiny_trainer):
    # 64 samples, global batch 16 in 2 micro-batches of 8 -> 8 micro-batches = 4 steps per epoch; 6 steps.
    extra = {"optim.accumulation": 2, "optim.max_steps": 6, "run.checkpoint_every": 3}
    straight = tiny_trainer(tmp_path / "a", toy_corpus.root, **extra)
    straight.fit()

    crashing = tiny_trainer(tmp_path / "b", toy_corpus.root, **extra)
    save = crashing.save

    def save_then_crash():
        save()
        raise Crash  # "killed" right after the mid-epoch checkpoint at step 3

    crashing.save = save_then_crash
    with pytest.raises(Crash):
        crashing.fit()
    assert [p.name for p in list_checkpoints(tmp_path / "b" / "checkpoints")] == ["step-3.pt"]
    state = load_checkpoint(latest_checkpoint(tmp_path / "b" / "checkpoints"))
    assert (state["step"], state["epoch"], state["micro_pos"]) == (3, 0, 6)

    torch.manual_seed(12345)  # a fresh process would have a different RNG state
    resumed = tiny_trainer(tmp_path / "b", toy_corpus.root, **extra)
    assert resumed.resume()
    resumed.fit()
    assert resumed.step == straight.step == 6
    a, b = _weights(straight), _weights(resumed)
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k
    # the exported encoder is the trained one
    from mslu.models import SignPoseEncoder

    enc = SignPoseEncoder.from_pretrained(tmp_path / "b" / "encoder")
    for k, v in enc.state_dict().items():
        assert torch.equal(v, b["encoder." + k]), k


def test_nan_guard_stops_and_keeps_last_good_checkpoint(tmp_path, toy_corpus, tiny_trainer):
    trainer = tiny_trainer(tmp_path, toy_corpus.root, **{"optim.max_steps": 5,
                                                                "run.checkpoint_every": 2})
    model = trainer.model
    forward = model.forward
    calls = {"n": 0}

    def poisoned(batch, *a, **k):
        out = forward(batch, *a, **k)
        calls["n"] += 1
        if calls["n"] == 3:
            out["loss"] = out["loss"] * float("nan")
        return out

    model.forward = poisoned
    with pytest.raises(NonFiniteLossError, match="step 3"):
        trainer.fit()
    ckpts = list_checkpoints(tmp_path / "checkpoints")
    assert [p.name for p in ckpts] == ["step-2.pt"]
    state = load_checkpoint(ckpts[-1])
    assert all(torch.isfinite(v).all() for v in state["model"].values() if v.is_floating_point())
    assert not (tmp_path / "encoder").exists()  # no export of a broken model


def test_logs_every_term_and_schedule(tmp_path, toy_corpus, tiny_trainer):
    trainer = tiny_trainer(tmp_path, toy_corpus.root, **{"optim.max_steps": 10, "optim.warmup": 0.2})
    trainer.fit()
    rows = list(csv.DictReader(open(tmp_path / "metrics.csv")))
    assert len(rows) == 10
    for key in ("loss", "loss_pr", "loss_stc", "temperature", "lr", "samples_per_s"):
        assert key in rows[0]
    lrs = [float(r["lr"]) for r in rows]  # lr after each step: warm-up 2 steps to 1e-4, then linear to 0
    expected = [1e-4] + [1e-4 * (10 - s) / 8 for s in range(2, 11)]
    assert lrs == pytest.approx(expected)
    assert float(rows[0]["temperature"]) == pytest.approx(0.07, rel=1e-2)
