"""Run configurations of the two trainers: defaults <- YAML file (``base:`` inheritance) <- dotted overrides.

Pre-training sections: ``model`` (preset name and/or PretrainConfig fields), ``data``, ``optim``, ``run``.
Defaults follow the paper (Sec. IV-A and Tab. III): AdamW, lr 1e-4, betas (0.9, 0.999) (Tab. III "optimizer
momentum 0.9" read as beta1), weight decay 0.1 (Tab. III; the text says 0.01 -- we follow the table), 10%
warm-up then linear decay, 100 epochs, global batch 512, max 256 frames / 128 text tokens. Fine-tuning
sections: ``task``, ``model``, ``data``, ``optim``, ``run``; defaults <- the task's Table III values
(``Task.defaults``) <- the config.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from mslu.configs import apply_override, deep_update, find_config, read_config_file
from mslu.models import PretrainConfig
from mslu.tasks import get_task

PRETRAIN_DEFAULTS: dict[str, Any] = {
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


def load_config(path: str | Path | None = None, overrides: list[str] | None = None) -> dict[str, Any]:
    """Defaults <- YAML file <- ``overrides`` (``["optim.lr=3e-4", ...]``)."""
    cfg = copy.deepcopy(PRETRAIN_DEFAULTS)
    if path is not None:
        loaded = read_config_file(find_config(path))
        unknown = set(loaded) - set(PRETRAIN_DEFAULTS)
        if unknown:
            known = sorted(PRETRAIN_DEFAULTS)
            raise ValueError(f"config {path}: unknown sections {sorted(unknown)}, expected {known}")
        cfg = deep_update(cfg, loaded)
    for o in overrides or []:
        apply_override(cfg, o)
    return cfg


def build_model_config(model_section: dict[str, Any]):
    """``PretrainConfig`` from ``{"preset": name, **nested field overrides}`` (no preset: defaults)."""
    section = dict(model_section or {})
    preset = section.pop("preset", None)
    base = PretrainConfig.preset(preset) if preset else PretrainConfig()
    return PretrainConfig.from_dict(deep_update(base.to_dict(), section))


FINETUNE_DEFAULTS: dict[str, Any] = {
    "task": None,
    "model": {
        "encoder": None,  # directory written by SignPoseEncoder.save_pretrained (pre-trained psi_SE)
        "scratch": False,  # True: random encoder from `preset` (alpha = 0% baseline)
        "preset": "small",  # PretrainConfig preset for the scratch encoder
        "encoder_config": {},  # EncoderConfig field overrides for the scratch encoder
        "head": {},
    },
    "data": {
        "corpus": None,
        "benchmark": None,  # id lists <corpus>/benchmarks/<benchmark>/<split>.txt (else Sample.split)
        "split_dir": None,  # explicit folder with <split>.txt id lists
        "splits": {"train": "train", "dev": "dev", "test": "test"},
        "max_frames": 256,
        "temporal_scale": None,  # e.g. [0.8, 1.2]: random speed change in training
        "batch_size": 32,
        "eval_batch_size": None,
        "num_workers": 0,
        "max_train_samples": None,  # debug / smoke runs
        "max_eval_samples": None,
    },
    "optim": {
        "lr": 1.0e-4,
        "finetune_rate": 0.1,
        "weight_decay": 1.0e-4,
        "betas": [0.9, 0.999],
        "eps": 1.0e-8,
        "schedule": "step",  # step | cosine | constant
        "milestones": None,
        "step_size": 20,
        "gamma": 0.1,
        "warmup": 0.0,
        "epochs": 60,
        "max_steps": None,
        "clip_grad_norm": 1.0,
    },
    "run": {
        "out": "runs/finetune",
        "seed": 0,
        "precision": "fp32",  # fp32 | bf16 (autocast)
        "device": "auto",
        "eval_every": 1,
        "progress": True,
        "keep_checkpoints": 1,
        "retain_host_memory": True,  # CPU: keep freed memory mapped (mslu.training.host_memory)
    },
}


def finetune_config(
    cfg: dict[str, Any] | str | Path | None = None,
    overrides: list[str] | None = None,
    task: str | None = None,
) -> dict[str, Any]:
    """Defaults <- task defaults (Table III) <- ``cfg`` (dict or YAML path) <- ``overrides`` (``a.b=v``)."""
    if isinstance(cfg, str | Path):
        cfg = read_config_file(find_config(cfg))
    user = copy.deepcopy(cfg or {})
    unknown = set(user) - set(FINETUNE_DEFAULTS)
    if unknown:
        raise ValueError(f"unknown config sections {sorted(unknown)}; expected {sorted(FINETUNE_DEFAULTS)}")
    for o in overrides or []:
        apply_override(user, o)
    name = task or user.get("task")
    if not name:
        raise ValueError("no task given (config `task:` or --task)")
    out = deep_update(deep_update(FINETUNE_DEFAULTS, get_task(name).defaults), user)
    out["task"] = name
    return out
