"""Pre-training run configuration: YAML file + dotted command-line overrides.

Sections: ``model`` (preset name and/or PretrainConfig fields), ``data``, ``optim``, ``run``. Defaults follow
the paper (Sec. IV-A and Tab. III): AdamW, lr 1e-4, betas (0.9, 0.999) (Tab. III "optimizer momentum 0.9"
read as beta1), weight decay 0.1 (Tab. III; the text says 0.01 -- we follow the table), 10% warm-up then
linear decay, 100 epochs, global batch 512, max 256 frames / 128 text tokens.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

DEFAULTS: dict[str, Any] = {
    "model": {"preset": "small"},
    "data": {
        "corpus": None,  # path of a mslu corpus (Arrow IPC shards)
        "split": None,  # keep only this split (None: all)
        "alpha": 1.0,  # data fraction (Tab. XIII): deterministic subset of this fraction
        "max_frames": 256,
        "max_text_tokens": 128,
        "batch_size": 512,  # GLOBAL batch (over all ranks, before accumulation)
        "mega_batch_factor": 50,
        "pad_to_multiple": 1,  # pad T to a multiple (8: fewer shapes for oneDNN/cuDNN kernels)
        "num_workers": 0,
        "random_crop": True,
        "text_cache": True,  # precompute frozen text-encoder features per unique sentence
        "text_cache_dir": None,  # on-disk safetensors cache (None: in memory only)
    },
    "optim": {
        "lr": 1.0e-4,
        "weight_decay": 0.1,
        "betas": [0.9, 0.999],
        "eps": 1.0e-8,
        "warmup": 0.1,  # fraction of optimiser steps
        "epochs": 100,
        "max_steps": None,  # stop after this many optimiser steps (None: epochs)
        "accumulation": 1,
        "clip_grad_norm": 1.0,  # None or 0: no clipping
        "fused": True,  # fused AdamW kernel (CPU and CUDA); False: foreach implementation
    },
    "run": {
        "out": "runs/pretrain",
        "seed": 0,
        "precision": "bf16",  # "bf16" autocast or "fp32"
        "device": "auto",
        "checkpoint_every": 1000,  # optimiser steps
        "keep_checkpoints": 3,
        "log_every": 10,
        "progress": True,
        "tensorboard": True,
        "deterministic": False,
        "retain_host_memory": True,  # CPU: keep freed memory mapped (mslu.training.host_memory)
    },
}


def deep_update(base: dict[str, Any], upd: dict[str, Any]) -> dict[str, Any]:
    """Recursively merge ``upd`` into a copy of ``base``."""
    out = copy.deepcopy(base)
    for k, v in (upd or {}).items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = deep_update(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def apply_override(cfg: dict[str, Any], assignment: str) -> None:
    """Apply ``"a.b.c=value"`` in place; the value is parsed as YAML (numbers, bools, lists, null)."""
    if "=" not in assignment:
        raise ValueError(f"override {assignment!r} is not of the form key.path=value")
    key, raw = assignment.split("=", 1)
    parts = key.strip().split(".")
    node = cfg
    for p in parts[:-1]:
        node = node.setdefault(p, {})
        if not isinstance(node, dict):
            raise ValueError(f"override {assignment!r}: {p!r} is not a section")
    value = yaml.safe_load(raw)
    if isinstance(value, str):  # YAML 1.1 reads "5e-4" (no dot) as a string
        try:
            value = float(value)
        except ValueError:
            pass
    node[parts[-1]] = value


def read_config_file(path: str | Path) -> dict[str, Any]:
    """A YAML config file as a dict; ``ValueError`` naming the file when unreadable or not a mapping."""
    path = Path(path)
    try:
        loaded = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as e:
        raise ValueError(f"cannot read config {path}: {e}") from e
    if not isinstance(loaded, dict):
        raise ValueError(f"config {path} must be a mapping, got {type(loaded).__name__}")
    return loaded


def load_config(path: str | Path | None = None, overrides: list[str] | None = None) -> dict[str, Any]:
    """Defaults <- YAML file <- ``overrides`` (``["optim.lr=3e-4", ...]``)."""
    cfg = copy.deepcopy(DEFAULTS)
    if path is not None:
        loaded = read_config_file(path)
        unknown = set(loaded) - set(DEFAULTS)
        if unknown:
            known = sorted(DEFAULTS)
            raise ValueError(f"config {path}: unknown sections {sorted(unknown)}, expected {known}")
        cfg = deep_update(cfg, loaded)
    for o in overrides or []:
        apply_override(cfg, o)
    return cfg


def build_model_config(model_section: dict[str, Any]):
    """``PretrainConfig`` from ``{"preset": name, **nested field overrides}`` (no preset: defaults)."""
    from mslu.models import PretrainConfig

    section = dict(model_section or {})
    preset = section.pop("preset", None)
    base = PretrainConfig.preset(preset) if preset else PretrainConfig()
    return PretrainConfig.from_dict(deep_update(base.to_dict(), section))
