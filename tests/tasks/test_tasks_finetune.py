"""Short fine-tunes per task on tiny synthetic benchmarks; outputs, encoder loading, evaluate/predict CLIs."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
import torch

from mslu.tasks import MAIN_METRICS

TASK_NAMES = ("islr", "cslr", "slt", "retrieval")
SIZES = {"num_train": 12, "num_dev": 4, "num_test": 4}  # as in conftest.py

EXPECTED_KEYS = {
    "islr": {"per_instance_top1", "per_class_top1", "per_instance_top5", "per_class_top5"},
    "cslr": {"wer", "sub", "del", "ins", "greedy_wer"},
    "slt": {"bleu1", "bleu2", "bleu3", "bleu4", "rouge_l"},
    "retrieval": {"t2v_R@1", "t2v_R@5", "t2v_R@10", "t2v_MedR", "v2t_R@1", "v2t_MeanR"},
}


@pytest.mark.parametrize("task", TASK_NAMES)
def test_short_finetune_writes_sane_outputs(task_runs, task):
    out, metrics = task_runs[task]
    saved = json.loads((out / "metrics.json").read_text())
    assert saved == json.loads(json.dumps(metrics))
    assert metrics["task"] == task and metrics["pretrained"] is True
    assert (metrics["main_metric"], metrics["higher_is_better"]) == MAIN_METRICS[task]
    test = metrics["test"]
    assert EXPECTED_KEYS[task] <= set(test)
    for k in EXPECTED_KEYS[task]:
        assert np.isfinite(test[k]), k
        if "R@" in k or "top" in k or "bleu" in k or k == "rouge_l":
            assert 0.0 <= test[k] <= 100.0, (k, test[k])
    if task == "retrieval":
        assert 1.0 <= test["t2v_MedR"] <= SIZES["num_test"]
    if task == "cslr":
        assert test["n_sentences"] == SIZES["num_test"] and test["wer"] >= 0
    rows = list(csv.DictReader(open(out / "history.csv")))
    assert [int(r["epoch"]) for r in rows] == [1, 2] and int(rows[-1]["step"]) == 4
    assert all(np.isfinite(float(r["train_loss"])) for r in rows)
    assert metrics["main_metric"] in metrics["dev"]
    preds = [json.loads(line) for line in open(out / "predictions.jsonl")]
    assert len(preds) == SIZES["num_test"] and len({p["id"] for p in preds}) == SIZES["num_test"]
    assert (out / "model" / "model.safetensors").is_file() and (out / "model" / "config.json").is_file()
    assert len(list((out / "checkpoints").glob("step-*.pt"))) == 1
    if task == "cslr":
        assert len(open(out / "test.stm").read().splitlines()) == SIZES["num_test"]
        assert (out / "test.ctm").stat().st_size > 0


def test_pretrained_encoder_is_loaded_and_lr_scaled(task_corpora, tiny_encoder_dir, tiny_config):
    from mslu.models import SignPoseEncoder
    from mslu.training.finetuner import FineTuner, build_encoder, finetune_config

    saved = SignPoseEncoder.from_pretrained(tiny_encoder_dir).state_dict()
    cfg = finetune_config(tiny_config("islr", task_corpora["islr"].root))
    cfg["model"]["encoder"] = str(tiny_encoder_dir)
    tuner = FineTuner(cfg)
    assert tuner.pretrained
    for k, v in tuner.model.encoder.state_dict().items():
        assert torch.equal(v, saved[k]), k
    lrs = {g["name"]: g["lr"] for g in tuner.optimizer.param_groups}
    assert lrs["encoder"] == pytest.approx(0.1 * lrs["head"]) and lrs["head"] == pytest.approx(1e-3)
    scratch, pre = build_encoder(cfg, tiny_encoder_dir, scratch=True)
    assert not pre and scratch.cfg == SignPoseEncoder.from_pretrained(tiny_encoder_dir).cfg
    assert not all(torch.equal(v, saved[k]) for k, v in scratch.state_dict().items())


def test_evaluate_reproduces_test_metrics(task_runs, capsys):
    from mslu.cli import main

    out, metrics = task_runs["islr"]
    assert main(["evaluate", "--run", str(out), "--device", "cpu"]) == 0
    printed = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    for k in EXPECTED_KEYS["islr"]:
        assert printed["metrics"][k] == pytest.approx(metrics["test"][k])
    assert (out / "eval_test.json").is_file()


@pytest.mark.parametrize("task", ["islr", "cslr"])
def test_predict_cli_on_pose_file(task_runs, task_corpora, tmp_path, capsys, task):
    from mslu.cli import main
    from mslu.pose.io import write_pose
    from mslu.pose.layouts import SL79
    from mslu.pose.sequence import PoseSequence

    s = task_corpora[task][0]
    data = s.pose.copy()
    data[..., 0] *= s.width
    data[..., 1] *= s.height
    path = tmp_path / "clip.pose"
    write_pose(
        PoseSequence(
            data=data.astype(np.float32), layout=SL79, fps=s.fps, width=s.width, height=s.height, meta={}
        ),
        path,
    )
    out, _ = task_runs[task]
    assert (
        main(["predict", "--run", str(out), "--device", "cpu", str(path), str(tmp_path / "missing.pose")])
        == 1
    )
    lines = [json.loads(x) for x in capsys.readouterr().out.strip().splitlines()]
    assert lines[0]["task"] == task and "error" in lines[1]
    if task == "islr":
        top = lines[0]["top5"]
        assert len(top) == 5 and all(t["text"].startswith("This word is") for t in top)
        assert sum(t["prob"] for t in top) <= 1.0 + 1e-6
    else:
        vocab = set(json.loads((out / "model" / "gloss_vocab.json").read_text()))
        assert set(lines[0]["glosses"]) <= vocab


def test_resume_continues_from_checkpoint(task_corpora, tiny_config, tmp_path):
    from mslu.training.finetuner import run_finetune

    cfg = tiny_config("islr", task_corpora["islr"].root)
    cfg["optim"] = {"epochs": 1}
    first = run_finetune(cfg, tmp_path, scratch=True)
    cfg["optim"] = {"epochs": 2}
    second = run_finetune(cfg, tmp_path, scratch=True, resume=True)
    rows = list(csv.DictReader(open(tmp_path / "history.csv")))
    assert (first["epochs"], second["epochs"]) == (1, 2)
    assert [int(r["epoch"]) for r in rows] == [1, 2] and int(rows[1]["step"]) == 2 * int(rows[0]["step"])


def test_resume_after_a_kill_logs_each_epoch_once(task_corpora, tiny_config, tmp_path, monkeypatch):
    """Killed after epoch 2 was logged but before its checkpoint: the resumed run trains epoch 2 again and
    history.csv holds it once."""
    import mslu.training.finetuner as ft

    cfg = tiny_config("islr", task_corpora["islr"].root)
    cfg["optim"] = {"epochs": 3}
    save = ft.save_checkpoint

    def save_or_die(directory, epoch, state, keep_last):
        if epoch == 2:
            raise KeyboardInterrupt
        return save(directory, epoch, state, keep_last=keep_last)

    monkeypatch.setattr(ft, "save_checkpoint", save_or_die)
    with pytest.raises(KeyboardInterrupt):
        ft.run_finetune(cfg, tmp_path, scratch=True)
    assert [r["epoch"] for r in csv.DictReader(open(tmp_path / "history.csv"))] == ["1", "2"]
    monkeypatch.setattr(ft, "save_checkpoint", save)
    ft.run_finetune(cfg, tmp_path, scratch=True, resume=True)
    assert [r["epoch"] for r in csv.DictReader(open(tmp_path / "history.csv"))] == ["1", "2", "3"]


def test_run_records_its_input_profile(task_runs):
    out = task_runs["islr"][0]
    profile = json.loads((out / "model" / "input_profile.json").read_text())
    assert profile["samples"] > 0 and set(profile["coverage"]) >= {"body", "left_hand", "right_hand"}


@pytest.mark.parametrize("has_bf16, autocast", [(True, True), (False, False)])
def test_finetuner_auto_precision_follows_the_hardware(task_corpora, tiny_config, monkeypatch, has_bf16,
                                                       autocast):
    from mslu.training import precision
    from mslu.training.finetuner import FineTuner, finetune_config

    monkeypatch.setattr(precision, "native_bf16", lambda device: has_bf16)
    cfg = finetune_config(tiny_config("islr", task_corpora["islr"].root))
    cfg["run"]["precision"] = "auto"
    tuner = FineTuner(cfg, scratch=True)
    assert tuner.precision == ("bf16" if has_bf16 else "fp32")
    with tuner._autocast():
        assert torch.is_autocast_enabled("cpu") == autocast
