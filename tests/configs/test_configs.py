"""Shipped configs: lookup by name, ``base:`` inheritance, Table III in one place (the task defaults)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from mslu.configs import CONFIG_ROOT, apply_override, available_configs, find_config, read_config_file
from mslu.tasks import TASKS, get_task
from mslu.training.run_config import finetune_config, load_config

REAL = {
    "islr": ["msasl100", "msasl1000", "msasl200", "nmfs_csl", "slr500", "wlasl100", "wlasl2000", "wlasl300"],
    "cslr": ["csl_daily", "phoenix2014", "phoenix2014t"],
    "slt": ["csl_daily", "how2sign", "phoenix2014t"],
    "retrieval": ["csl_daily", "phoenix2014t"],
}


OURS = {"islr": ["libras25"], "slt": ["csl_daily_mbart", "how2sign_mbart", "phoenix2014t_mbart",
                                     "synthetic_mbart"]}  # beyond the paper's benchmarks


def test_every_task_config_is_shipped_and_loads():
    names = available_configs()
    for task in TASKS:
        found = sorted(n.split("/")[1] for n in names if n.startswith(f"{task}/"))
        assert found == sorted([*REAL[task], *OURS.get(task, []), "synthetic"])
        for stem in found:
            cfg = finetune_config(f"{task}/{stem}")
            assert cfg["task"] == task
            assert cfg["optim"]["finetune_rate"] == 0.1  # Table III, from the task defaults
            if stem in REAL[task] or stem.removesuffix("_mbart") in REAL[task]:
                assert cfg["data"]["benchmark"] == stem.removesuffix("_mbart")
                assert cfg["model"]["preset"] == "paper" and cfg["run"]["out"] == f"runs/{task}/{stem}"
    assert {"pretrain/sl1.5m_paper", "pretrain/synthetic_small"} <= set(names)
    load_config("pretrain/sl1.5m_paper")


def test_islr_table_iii_values_reach_the_config():
    islr = finetune_config("islr/wlasl100")
    got = (islr["optim"]["lr"], islr["data"]["num_frames"], islr["model"]["head"]["label_smoothing"])
    assert got == (1e-3, 32, 0.2)
    assert finetune_config("slt/csl_daily")["model"]["head"]["tokenizer_kind"] == "char"
    assert finetune_config("retrieval/phoenix2014t")["model"]["head"]["text"]["name_or_path"] == (
        "facebook/mbart-large-cc25")


def _leaves(d, prefix=()):
    for k, v in d.items():
        if isinstance(v, dict):
            yield from _leaves(v, (*prefix, k))
        else:
            yield (*prefix, k), v


def _get(d, path):
    for k in path:
        if not isinstance(d, dict) or k not in d:
            return KeyError
        d = d[k]
    return d


TASK_CONFIGS = sorted(p for p in CONFIG_ROOT.glob("*/*.yaml") if p.parent.name in (*TASKS, "_base_"))


@pytest.mark.parametrize("path", TASK_CONFIGS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_no_config_restates_table_iii(path):
    """Table III lives in ``Task.defaults`` only: a shipped config that repeats one of its values fails."""
    raw = yaml.safe_load(path.read_text())
    task = raw.get("task") or read_config_file(path).get("task")
    defaults = get_task(task).defaults
    repeated = [".".join(k) for k, v in _leaves(raw) if k != ("task",) and _get(defaults, k) == v]
    assert not repeated, f"{path.name} repeats task defaults: {repeated}"


def test_real_dataset_configs_are_a_few_lines():
    for task, stems in REAL.items():
        for stem in stems:
            lines = [ln for ln in (CONFIG_ROOT / task / f"{stem}.yaml").read_text().splitlines()
                     if ln.strip() and not ln.lstrip().startswith("#")]
            assert len(lines) <= 5, (task, stem, lines)


def test_base_inheritance_merges_left_to_right(tmp_path):
    (tmp_path / "a.yaml").write_text("optim: {lr: 1, epochs: 5}\ndata: {x: 1}\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.yaml").write_text("base: ../a.yaml\noptim: {lr: 2}\n")
    (tmp_path / "c.yaml").write_text("base: [sub/b.yaml]\noptim: {epochs: 7}\nrun: {seed: 3}\n")
    cfg = read_config_file(tmp_path / "c.yaml")
    assert cfg == {"optim": {"lr": 2, "epochs": 7}, "data": {"x": 1}, "run": {"seed": 3}}


def test_base_errors_name_the_file(tmp_path):
    (tmp_path / "loop.yaml").write_text("base: loop.yaml\n")
    with pytest.raises(ValueError, match="loop.yaml.*loops"):
        read_config_file(tmp_path / "loop.yaml")
    (tmp_path / "missing.yaml").write_text("base: nowhere.yaml\n")
    with pytest.raises(ValueError, match="missing.yaml: base 'nowhere.yaml' not found"):
        read_config_file(tmp_path / "missing.yaml")
    (tmp_path / "list.yaml").write_text("- 1\n- 2\n")
    with pytest.raises(ValueError, match="must be a mapping"):
        read_config_file(tmp_path / "list.yaml")


def test_find_config_by_name_or_path(tmp_path):
    assert find_config("islr/wlasl100") == CONFIG_ROOT / "islr" / "wlasl100.yaml"
    assert find_config("islr/wlasl100.yaml") == CONFIG_ROOT / "islr" / "wlasl100.yaml"
    own = tmp_path / "mine.yaml"
    own.write_text("task: islr\n")
    assert find_config(own) == own
    with pytest.raises(FileNotFoundError, match="islr/nope: no such file"):
        find_config("islr/nope")
    with pytest.raises(FileNotFoundError):
        find_config("../py.typed")  # names stay inside the shipped configs


def test_repository_configs_link_is_the_package():
    repo_configs = Path(__file__).resolve().parents[2] / "configs"
    if repo_configs.exists():
        assert repo_configs.resolve() == CONFIG_ROOT


def test_override_values_are_yaml():
    cfg: dict = {}
    apply_override(cfg, "optim.lr=5e-4")
    apply_override(cfg, "data.splits.dev=val")
    apply_override(cfg, "run.milestones=[2, 4]")
    assert cfg == {"optim": {"lr": 5e-4}, "data": {"splits": {"dev": "val"}}, "run": {"milestones": [2, 4]}}
    with pytest.raises(ValueError, match="key.path=value"):
        apply_override(cfg, "optim.lr")


def test_configs_command_lists_and_resolves(capsys):
    from mslu.cli import main

    assert main(["configs"]) == 0
    names = capsys.readouterr().out.split()
    assert "islr/wlasl100" in names and not any(n.startswith("_base_") for n in names)
    assert main(["configs", "islr/wlasl100"]) == 0
    shown = yaml.safe_load(capsys.readouterr().out)
    assert shown == finetune_config("islr/wlasl100")
    assert main(["configs", "pretrain/synthetic_small"]) == 0
    assert yaml.safe_load(capsys.readouterr().out) == load_config("pretrain/synthetic_small")


def test_class_groups_parse_and_bad_ones_are_named():
    from mslu.configs.schema import ConfigError
    from mslu.tasks.islr import class_groups

    assert class_groups({"a": "0-2,5", "b": [7, "9-10"]}) == {"a": {0, 1, 2, 5}, "b": {7, 9, 10}}
    assert finetune_config("islr/nmfs_csl")["data"]["class_groups"] == {"confusing": "0-609",
                                                                         "normal": "610-1066"}
    with pytest.raises(ConfigError, match="data.class_groups"):
        finetune_config({"task": "islr", "data": {"class_groups": {"a": "x-y"}}})
