"""Bad configs and inputs end in one line ``error: <file or key>: <problem>`` and a documented exit code,
never a traceback; a bug still shows its traceback."""

from __future__ import annotations

import pytest
import yaml

from mslu import cli

BAD_PRETRAIN = {
    "batch_zero": ({"data": {"batch_size": 0}}, "data.batch_size"),
    "batch_negative": ({"data": {"batch_size": -1}}, "data.batch_size"),
    "batch_float": ({"data": {"batch_size": 8.5}}, "data.batch_size"),
    "max_frames_zero": ({"data": {"max_frames": 0}}, "data.max_frames"),
    "alpha_two": ({"data": {"alpha": 2}}, "data.alpha"),
    "ckpt_zero": ({"run": {"checkpoint_every": 0}}, "run.checkpoint_every"),
    "ckpt_negative": ({"run": {"checkpoint_every": -5}}, "run.checkpoint_every"),
    "log_zero": ({"run": {"log_every": 0}}, "run.log_every"),
    "accum_zero": ({"optim": {"accumulation": 0}}, "optim.accumulation"),
    "epochs_zero": ({"optim": {"epochs": 0}}, "optim.epochs"),
    "epochs_negative": ({"optim": {"epochs": -3}}, "optim.epochs"),
    "max_steps_negative": ({"optim": {"max_steps": -1}}, "optim.max_steps"),
    "precision_fp8": ({"run": {"precision": "fp8"}}, "run.precision"),
    "device_tpu": ({"run": {"device": "tpu"}}, "run.device"),
    "typo_lrr": ({"optim": {"lrr": 1e-3}}, "optim.lrr: unknown key (did you mean 'lr'?)"),
    "typo_section": ({"optm": {"lr": 1e-3}}, "optm: unknown section (did you mean 'optim'?)"),
    "preset_huge": ({"model": {"preset": "huge"}}, "model.preset: unknown preset 'huge'"),
    "model_field": ({"model": {"encoder": {"widht": 3}}}, "model: EncoderConfig: unknown keys"),
    "lr_text": ({"optim": {"lr": "fast"}}, "optim.lr: expected float"),
    "betas_three": ({"optim": {"betas": [0.9, 0.99, 0.5]}}, "optim.betas"),
    "indivisible": ({"data": {"batch_size": 10}, "optim": {"accumulation": 3}}, "not divisible"),
    "section_list": ({"data": [1, 2]}, "data: must be a mapping"),
}


def _write(tmp_path, name, cfg):
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(cfg) if not isinstance(cfg, str) else cfg)
    return path


def _error_line(capsys):
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err + captured.out
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), captured.err
    return lines[0]


@pytest.mark.parametrize("case", sorted(BAD_PRETRAIN))
def test_bad_pretrain_config_is_one_line_naming_the_key(tmp_path, capsys, case):
    cfg, expected = BAD_PRETRAIN[case]
    path = _write(tmp_path, case, cfg)
    assert cli.main(["pretrain", "--config", str(path), "--out", str(tmp_path / "run")]) == cli.EXIT_BAD_INPUT
    line = _error_line(capsys)
    assert expected in line and str(path) in line
    assert not (tmp_path / "run").exists()  # checked before anything is built


@pytest.mark.parametrize("text, expected", [
    ("data: {batch_size: [1\n", "cannot read config"),
    ("- just\n- a list\n", "must be a mapping"),
    ("base: itself.yaml\n", "not found"),
])
def test_unreadable_config_files(tmp_path, capsys, text, expected):
    path = _write(tmp_path, "broken", text)
    assert cli.main(["pretrain", "--config", str(path)]) == cli.EXIT_BAD_INPUT
    assert expected in _error_line(capsys)


def test_missing_config_and_bad_override(tmp_path, capsys):
    assert cli.main(["pretrain", "--config", str(tmp_path / "nope.yaml")]) == cli.EXIT_BAD_INPUT
    assert "nope.yaml: no such file" in _error_line(capsys)
    assert cli.main(["pretrain", "--config", "pretrain/synthetic_small", "--set", "optim.lr"]) == 2
    assert "key.path=value" in _error_line(capsys)
    assert cli.main(["pretrain", "--config", "pretrain/synthetic_small", "--set", "run.seed=-1"]) == 2
    assert "run.seed: must be >= 0" in _error_line(capsys)


BAD_FINETUNE = {
    "task": ({"task": "islr2"}, "task: unknown task 'islr2' (did you mean 'islr'?)"),
    "head_key": ({"task": "islr", "model": {"head": {"dropuot": 0.1}}}, "model.head.dropuot: unknown key"),
    "head_type": ({"task": "slt", "model": {"head": {"num_blocks": "three"}}}, "model.head.num_blocks"),
    "schedule": ({"task": "cslr", "optim": {"schedule": "poly"}}, "optim.schedule"),
    "short": ({"task": "islr", "data": {"num_frames": 0}}, "data.num_frames"),
    "temporal": ({"task": "cslr", "data": {"temporal_scale": [1.2, 0.8]}}, "data.temporal_scale"),
    "encoder_cfg": ({"task": "islr", "model": {"encoder_config": {"depth": 3}}}, "model.encoder_config"),
    "eval_every": ({"task": "islr", "run": {"eval_every": 0}}, "run.eval_every"),
    "splits": ({"task": "islr", "data": {"splits": {"training": "train"}}}, "data.splits"),
}


@pytest.mark.parametrize("case", sorted(BAD_FINETUNE))
def test_bad_finetune_config_is_one_line_naming_the_key(tmp_path, capsys, case):
    cfg, expected = BAD_FINETUNE[case]
    path = _write(tmp_path, case, cfg)
    assert cli.main(["finetune", "--config", str(path), "--scratch", "--out", str(tmp_path / "r")]) == 2
    assert expected in _error_line(capsys)


def test_good_configs_pass_the_schema():
    from mslu.configs import available_configs
    from mslu.training.run_config import finetune_config, load_config

    for name in available_configs():
        if name.startswith("pretrain/"):
            load_config(name)
        elif not name.startswith("corpus/"):
            finetune_config(name)


def test_yaml_exponent_without_dot_is_a_float(tmp_path):
    from mslu.training.run_config import load_config

    path = _write(tmp_path, "lr", "optim:\n  lr: 5e-4\n")
    assert load_config(path)["optim"]["lr"] == 5e-4


def test_a_bug_still_shows_its_traceback(monkeypatch):
    import mslu.cli.configs as configs_cmd

    def broken(args):
        raise ZeroDivisionError("a real bug")

    monkeypatch.setattr(configs_cmd, "_run", broken)
    with pytest.raises(ZeroDivisionError):
        cli.main(["configs"])


def test_debug_prints_the_traceback_of_expected_errors(tmp_path, capsys):
    assert cli.main(["--debug", "pretrain", "--config", str(tmp_path / "nope.yaml")]) == 2
    err = capsys.readouterr().err
    assert "Traceback" in err and err.strip().splitlines()[-1].startswith("error: ")
