"""Mutated run configs (unknown keys, wrong types, out-of-range values, broken YAML, bad bases) end in a
ConfigError / ValueError naming the file and key, or load as a valid config; nothing else escapes."""

from __future__ import annotations

import copy
import random

import pytest
import yaml
from fuzzing import SEED, one_line_naming

from mslu.training.run_config import PRETRAIN_DEFAULTS, finetune_config, load_config

JUNK = [0, -1, -7.5, 1e12, 2, 0.5, 1.5, "", "x", "fp8", "auto", None, True, False, [], [1, 2, 3], {},
        {"a": 1}, "5e-4", float("nan"), float("inf"), "null", "../../etc", 3]


def _paths(d, prefix=()):
    for k, v in d.items():
        if isinstance(v, dict) and v:
            yield from _paths(v, (*prefix, k))
        else:
            yield (*prefix, k)


def _mutate(cfg: dict, r: random.Random) -> tuple[dict, str]:
    cfg = copy.deepcopy(cfg)
    paths = list(_paths(cfg))
    path = r.choice(paths)
    node = cfg
    for k in path[:-1]:
        node = node[k]
    kind = r.random()
    if kind < 0.15:  # an unknown key next to a real one
        node[path[-1] + r.choice(["s", "_", "x", "2"])] = r.choice(JUNK)
        return cfg, path[-1]
    if kind < 0.2:  # a section that is not a mapping
        cfg[path[0]] = r.choice([[1], "text", 3])
        return cfg, path[0]
    node[path[-1]] = r.choice(JUNK)
    return cfg, path[-1]


PRETRAIN_BASE = {"model": {"preset": "tiny"}, **{k: v for k, v in PRETRAIN_DEFAULTS.items() if k != "model"}}


@pytest.mark.parametrize("case", range(250))
def test_mutated_pretrain_config(tmp_path, case):
    r = random.Random(SEED + case)
    cfg, key = _mutate(PRETRAIN_BASE, r)
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(cfg, allow_unicode=True))
    try:
        out = load_config(path)
    except ValueError as e:
        one_line_naming(e, str(path))
        return
    assert out["data"]["batch_size"] > 0 and out["optim"]["epochs"] > 0  # accepted configs are sane
    assert out["run"]["precision"] in ("auto", "bf16", "fp32") and 0 < out["data"]["alpha"] <= 1


@pytest.mark.parametrize("case", range(200))
def test_mutated_finetune_config(tmp_path, case):
    r = random.Random(SEED * 7 + case)
    task = r.choice(["islr", "cslr", "slt", "retrieval"])
    base = finetune_config(f"{task}/synthetic")
    cfg, key = _mutate(base, r)
    path = tmp_path / "f.yaml"
    path.write_text(yaml.safe_dump(cfg, allow_unicode=True))
    try:
        out = finetune_config(path)
    except ValueError as e:
        one_line_naming(e, str(path))
        return
    assert out["data"]["batch_size"] > 0 and out["optim"]["lr"] > 0


@pytest.mark.parametrize("case", range(60))
def test_broken_yaml_text(tmp_path, case):
    r = random.Random(SEED + 1000 + case)
    text = yaml.safe_dump(PRETRAIN_BASE)
    cut = r.randrange(len(text))
    choice = r.random()
    if choice < 0.3:
        text = text[:cut]
    elif choice < 0.6:
        text = text[:cut] + r.choice(["{", "[", ": :", "\t", "\x00", "&a *b", "!!python/object:os.system"]) \
            + text[cut:]
    else:
        text = "".join(chr(r.randrange(1, 0x2FF)) for _ in range(r.randrange(1, 200)))
    path = tmp_path / "y.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        load_config(path)
    except ValueError as e:
        one_line_naming(e, str(path))


@pytest.mark.parametrize("override", ["optim.lr", "=3", "optim..lr=1", "data=3", "data.batch_size=[",
                                      "run.seed=-1", "model.encoder.widthx=1", "optim.lr=1e400",
                                      "data.alpha=nan", "optim.betas=[1, 2]"])
def test_bad_overrides(override):
    with pytest.raises(ValueError) as e:
        load_config("pretrain/synthetic_small", [override])
    assert "\n" not in str(e.value).strip()
