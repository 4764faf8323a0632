"""Run configurations of the two trainers: defaults <- YAML file (``base:`` inheritance) <- dotted overrides,
then every section checked against its schema (unknown keys, types, ranges) before anything is built.

Pre-training sections: ``model`` (preset name and/or PretrainConfig fields), ``data``, ``optim``, ``run``.
Defaults follow the paper (Sec. IV-A and Tab. III): AdamW, lr 1e-4, betas (0.9, 0.999) (Tab. III "optimizer
momentum 0.9" read as beta1), weight decay 0.1 (Tab. III; the text says 0.01 -- we follow the table), 10%
warm-up then linear decay, 100 epochs, global batch 512, max 256 frames / 128 text tokens. Fine-tuning
sections: ``task``, ``model``, ``data``, ``optim``, ``run``; defaults <- the task's Table III values
(``Task.defaults``) <- the config.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mslu.configs import apply_override, deep_update, find_config, read_config_file
from mslu.configs.schema import ConfigError, Section, did_you_mean, non_negative, positive, validate_section
from mslu.models import PretrainConfig
from mslu.models.config import EncoderConfig, config_from_dict
from mslu.tasks import TASKS, get_task
from mslu.tasks.islr import class_groups
from mslu.training.precision import PRECISIONS

DEVICE = re.compile(r"^(auto|cpu|mps|cuda(:\d+)?)$")
PRESETS = ("tiny", "small", "paper")


def _common_run_checks(run) -> Iterator[tuple[str, str]]:
    if run.seed < 0:
        yield "seed", "must be >= 0"
    if not DEVICE.match(run.device):
        yield "device", "must be auto, cpu, cuda, cuda:N or mps"
    if not non_negative(run.keep_checkpoints):
        yield "keep_checkpoints", "must be >= 0 (0 keeps all)"


def _common_optim_checks(o) -> Iterator[tuple[str, str]]:
    if not o.lr > 0:
        yield "lr", "must be > 0"
    if not non_negative(o.weight_decay):
        yield "weight_decay", "must be >= 0"
    if len(o.betas) != 2 or not all(0 <= b < 1 for b in o.betas):
        yield "betas", "must be two numbers in [0, 1)"
    if not o.eps > 0:
        yield "eps", "must be > 0"
    if not 0 <= o.warmup < 1:
        yield "warmup", "must be a fraction of the steps in [0, 1)"
    if not o.epochs > 0:
        yield "epochs", "must be > 0"
    if not positive(o.max_steps):
        yield "max_steps", "must be > 0 or null"
    if not non_negative(o.clip_grad_norm):
        yield "clip_grad_norm", "must be >= 0 or null (0 / null: no clipping)"


# ---- pre-training -------------------------------------------------------------------------------------
@dataclass
class PretrainData(Section):
    corpus: str | None = None  # path of a mslu corpus (Arrow IPC shards)
    split: str | None = None  # keep only this split (None: all)
    alpha: float = 1.0  # data fraction (Tab. XIII): deterministic subset of this fraction
    max_frames: int = 256
    max_text_tokens: int = 128
    batch_size: int = 512  # GLOBAL batch (over all ranks, before accumulation)
    # batches per length-sorted window: 1 = random contrastive batches as the paper (samples sorted by length
    # inside a batch only); larger = batches of similar lengths (less padding; in-batch negatives then share
    # their lengths: our option, off by default)
    mega_batch_factor: int = 1
    pad_to_multiple: int = 1  # pad T to a multiple (8: fewer shapes for oneDNN / cuDNN kernels)
    num_workers: int = 0
    random_crop: bool = True
    text_cache: bool = True  # precompute frozen text-encoder features per unique sentence
    text_cache_dir: str | None = None  # on-disk safetensors cache (None: in memory only)

    def checks(self):
        if not 0 < self.alpha <= 1:
            yield "alpha", "must be a data fraction in (0, 1]"
        for key in ("max_frames", "max_text_tokens", "batch_size", "mega_batch_factor", "pad_to_multiple"):
            if not getattr(self, key) > 0:
                yield key, "must be > 0"
        if self.num_workers < 0:
            yield "num_workers", "must be >= 0"


@dataclass
class PretrainOptim(Section):
    lr: float = 1.0e-4
    weight_decay: float = 0.1
    betas: list[float] = field(default_factory=lambda: [0.9, 0.999])
    eps: float = 1.0e-8
    warmup: float = 0.1  # fraction of optimiser steps
    epochs: int = 100
    max_steps: int | None = None  # stop after this many optimiser steps (None: epochs)
    accumulation: int = 1
    clip_grad_norm: float | None = 1.0  # None or 0: no clipping
    fused: bool = True  # fused AdamW kernel (CPU and CUDA); False: foreach implementation
    find_unused_parameters: bool = False  # DDP, for ablations that leave a module out of the loss

    def checks(self):
        yield from _common_optim_checks(self)
        if not self.accumulation > 0:
            yield "accumulation", "must be > 0"


@dataclass
class PretrainRun(Section):
    out: str = "runs/pretrain"
    seed: int = 0
    precision: str = "auto"  # bf16 autocast where the device computes bf16 natively, else fp32 (precision.py)
    device: str = "auto"
    checkpoint_every: int = 1000  # optimiser steps
    keep_checkpoints: int = 3
    log_every: int = 10
    progress: bool = True
    tensorboard: bool = True
    deterministic: bool = False
    retain_host_memory: bool = True  # CPU: keep freed memory mapped (mslu.training.host_memory)

    def checks(self):
        yield from _common_run_checks(self)
        if self.precision not in PRECISIONS:
            yield "precision", "must be auto, bf16 or fp32"
        for key in ("checkpoint_every", "log_every"):
            if not getattr(self, key) > 0:
                yield key, "must be > 0"


PRETRAIN_SECTIONS: dict[str, type[Section]] = {
    "data": PretrainData, "optim": PretrainOptim, "run": PretrainRun,
}
PRETRAIN_DEFAULTS: dict[str, Any] = {"model": {"preset": "small"},
                                     **{k: s.defaults() for k, s in PRETRAIN_SECTIONS.items()}}


def build_model_config(model_section: dict[str, Any]) -> PretrainConfig:
    """``PretrainConfig`` from ``{"preset": name, **nested field overrides}`` (no preset: defaults)."""
    section = dict(model_section or {})
    preset = section.pop("preset", None)
    base = PretrainConfig.preset(preset) if preset else PretrainConfig()
    return PretrainConfig.from_dict(deep_update(base.to_dict(), section))


def _sections(cfg: Any, known: list[str], source: str) -> dict[str, Any]:
    if not isinstance(cfg, dict):
        raise ConfigError(f"{source}: must be a mapping of sections, got {type(cfg).__name__}")
    for key in cfg:
        if key not in known:
            raise ConfigError(f"{source}: {key}: unknown section{did_you_mean(str(key), known)}; "
                              f"expected {', '.join(known)}")
    return cfg


def _model_error(source: str, e: Exception) -> ConfigError:
    return ConfigError(f"{source}: model: {e}")


def check_pretrain_config(cfg: dict[str, Any], source: str = "config") -> dict[str, Any]:
    """The pre-training config with every section validated (raises :class:`ConfigError`)."""
    _sections(cfg, list(PRETRAIN_DEFAULTS), source)
    out = {"model": cfg.get("model") or {}}
    if not isinstance(out["model"], dict):
        raise ConfigError(f"{source}: model: must be a mapping, got {type(out['model']).__name__}")
    preset = out["model"].get("preset")
    if preset is not None and preset not in PRESETS:
        hint = did_you_mean(str(preset), PRESETS)
        raise ConfigError(f"{source}: model.preset: unknown preset {preset!r}{hint}; "
                          f"use {', '.join(PRESETS)}")
    try:
        build_model_config(out["model"])
    except (TypeError, ValueError) as e:
        raise _model_error(source, e) from e
    for name, schema in PRETRAIN_SECTIONS.items():
        out[name] = validate_section(cfg.get(name), schema, name, source)
    batch, accum = out["data"]["batch_size"], out["optim"]["accumulation"]
    if batch % accum:
        raise ConfigError(f"{source}: data.batch_size: {batch} is not divisible by optim.accumulation "
                          f"{accum}")
    return out


def load_config(path: str | Path | None = None, overrides: list[str] | None = None) -> dict[str, Any]:
    """Defaults <- YAML file (a path or a shipped name) <- ``overrides`` (``["optim.lr=3e-4", ...]``),
    validated."""
    cfg = copy.deepcopy(PRETRAIN_DEFAULTS)
    source = "config"
    if path is not None:
        found = find_config(path)
        source = str(found)
        loaded = read_config_file(found)
        _sections(loaded, list(PRETRAIN_DEFAULTS), source)
        cfg = deep_update(cfg, loaded)
    for o in overrides or []:
        apply_override(cfg, o)
    return check_pretrain_config(cfg, source)


# ---- fine-tuning --------------------------------------------------------------------------------------
@dataclass
class FinetuneModel(Section):
    encoder: str | None = None  # directory written by SignPoseEncoder.save_pretrained (pre-trained psi_SE)
    scratch: bool = False  # True: random encoder from `preset` (alpha = 0% baseline)
    preset: str = "small"  # PretrainConfig preset for the scratch encoder
    encoder_config: dict = field(default_factory=dict)  # EncoderConfig field overrides (scratch encoder)
    head: dict = field(default_factory=dict)  # the task head's settings (Task.defaults["model"]["head"])
    init_similarity: bool = True  # SL-RT: psi_FSTS from the pre-trained export when present

    def checks(self):
        if self.preset not in PRESETS:
            yield "preset", f"unknown preset{did_you_mean(self.preset, PRESETS)}; use {', '.join(PRESETS)}"


@dataclass
class FinetuneData(Section):
    corpus: str | None = None
    benchmark: str | None = None  # id lists <corpus>/benchmarks/<benchmark>/<split>.txt (else Sample.split)
    split_dir: str | None = None  # explicit folder with <split>.txt id lists
    splits: dict = field(default_factory=lambda: {"train": "train", "dev": "dev", "test": "test"})
    max_frames: int = 256
    temporal_scale: list[float] | None = None  # e.g. [0.8, 1.2]: random speed change in training
    batch_size: int = 32
    eval_batch_size: int | None = None
    num_workers: int = 0
    max_train_samples: int | None = None  # debug / smoke runs
    max_eval_samples: int | None = None
    mega_batch_factor: int = 8  # training batches per length-sorted window (1: random batches)
    # task-specific keys; their values are the task's defaults (Table III) unless set
    num_frames: int | None = None  # ISLR: frames per clip (random window in training, centre one in tests)
    short: str | None = None  # ISLR: clips shorter than num_frames are zero-padded (pad) or looped (repeat)
    class_groups: dict | None = None  # ISLR: metrics per group of classes, e.g. {confusing: "0-609"}
    dataset: str | None = None  # CSLR: WER clean-up rules (phoenix2014, phoenix2014t, csl_daily, none)
    language: str | None = None  # GF-SLT: the target language (tokenizer, BLEU tokenisation)

    def checks(self):
        if self.short not in (None, "pad", "repeat"):
            yield "short", "must be pad or repeat"
        try:
            class_groups(self.class_groups)
        except (TypeError, ValueError, AttributeError):
            yield "class_groups", "must map group names to class labels or ranges like '0-609'"
        for key in ("max_frames", "batch_size", "eval_batch_size", "max_train_samples", "max_eval_samples",
                    "num_frames", "mega_batch_factor"):
            if not positive(getattr(self, key)):
                yield key, "must be > 0"
        if self.num_workers < 0:
            yield "num_workers", "must be >= 0"
        ts = self.temporal_scale
        if ts is not None and (len(ts) != 2 or not 0 < ts[0] <= ts[1]):
            yield "temporal_scale", "must be [low, high] with 0 < low <= high"
        names = self.splits.values()
        if set(self.splits) - {"train", "dev", "test"} or not all(isinstance(v, str) for v in names):
            yield "splits", "maps train / dev / test to split names"


@dataclass
class FinetuneOptim(Section):
    lr: float = 1.0e-4
    finetune_rate: float = 0.1
    weight_decay: float = 1.0e-4
    betas: list[float] = field(default_factory=lambda: [0.9, 0.999])
    eps: float = 1.0e-8
    schedule: str = "step"  # step | cosine | constant
    milestones: list[int] | None = None
    step_size: int = 20
    gamma: float = 0.1
    warmup: float = 0.0
    epochs: int = 60
    max_steps: int | None = None
    clip_grad_norm: float | None = 1.0
    fused: bool = True  # fused AdamW kernel (CPU and CUDA); False: foreach implementation

    def checks(self):
        yield from _common_optim_checks(self)
        if not self.finetune_rate >= 0:
            yield "finetune_rate", "must be >= 0"
        if self.schedule not in ("step", "cosine", "constant"):
            yield "schedule", "must be step, cosine or constant"
        if self.step_size < 0:
            yield "step_size", "must be >= 0 (0: no decay without milestones)"
        if self.milestones is not None and any(m <= 0 for m in self.milestones):
            yield "milestones", "must be epochs > 0"
        if not self.gamma > 0:
            yield "gamma", "must be > 0"


@dataclass
class FinetuneRun(Section):
    out: str = "runs/finetune"
    seed: int = 0
    precision: str = "fp32"  # fp32 | bf16 (autocast) | auto (bf16 where native, training/precision.py)
    device: str = "auto"
    eval_every: int = 1
    progress: bool = True
    keep_checkpoints: int = 1
    retain_host_memory: bool = True  # CPU: keep freed memory mapped (mslu.training.host_memory)

    def checks(self):
        yield from _common_run_checks(self)
        if self.precision not in PRECISIONS:
            yield "precision", "must be auto, bf16 or fp32"
        if not self.eval_every > 0:
            yield "eval_every", "must be > 0"


FINETUNE_SECTIONS: dict[str, type[Section]] = {
    "model": FinetuneModel, "data": FinetuneData, "optim": FinetuneOptim, "run": FinetuneRun,
}
FINETUNE_DEFAULTS: dict[str, Any] = {"task": None, **{k: s.defaults() for k, s in FINETUNE_SECTIONS.items()}}


def _check_head(head: dict[str, Any], defaults: dict[str, Any], key: str, source: str) -> None:
    for k, v in head.items():
        if k not in defaults:
            raise ConfigError(f"{source}: {key}.{k}: unknown key{did_you_mean(str(k), defaults)}; "
                              f"known: {', '.join(sorted(defaults))}")
        d = defaults[k]
        if isinstance(d, dict):
            if not isinstance(v, dict):
                raise ConfigError(f"{source}: {key}.{k}: must be a mapping, got {v!r}")
            _check_head(v, d, f"{key}.{k}", source)
        elif d is not None and v is not None and type(d) is not type(v) and not (
            isinstance(d, float) and isinstance(v, int) and not isinstance(v, bool)
        ):
            raise ConfigError(f"{source}: {key}.{k}: expected {type(d).__name__}, got {v!r}")


def check_finetune_config(cfg: dict[str, Any], source: str = "config") -> dict[str, Any]:
    """The fine-tuning config (task defaults merged) with every section validated."""
    _sections(cfg, list(FINETUNE_DEFAULTS), source)
    task = cfg.get("task")
    if task not in TASKS:
        raise ConfigError(f"{source}: task: unknown task {task!r}{did_you_mean(str(task), TASKS)}; "
                          f"use {', '.join(TASKS)}")
    task_defaults = get_task(task).defaults
    out: dict[str, Any] = {"task": task}
    for name, schema in FINETUNE_SECTIONS.items():
        own = {f for f in schema.__dataclass_fields__}
        extra = {k: v for k, v in task_defaults.get(name, {}).items() if k not in own}
        out[name] = validate_section(cfg.get(name), schema, name, source, extra)
    _check_head(out["model"]["head"], task_defaults.get("model", {}).get("head", {}), "model.head", source)
    try:
        config_from_dict(EncoderConfig, out["model"]["encoder_config"])
    except (TypeError, ValueError) as e:
        raise ConfigError(f"{source}: model.encoder_config: {e}") from e
    return out


def finetune_config(
    cfg: dict[str, Any] | str | Path | None = None,
    overrides: list[str] | None = None,
    task: str | None = None,
) -> dict[str, Any]:
    """Defaults <- task defaults (Table III) <- ``cfg`` (dict, YAML path or shipped name) <- ``overrides``
    (``a.b=v``), validated."""
    source = "config"
    if isinstance(cfg, str | Path):
        found = find_config(cfg)
        source = str(found)
        cfg = read_config_file(found)
    user = copy.deepcopy(cfg or {})
    _sections(user, list(FINETUNE_DEFAULTS), source)
    for o in overrides or []:
        apply_override(user, o)
    name = task or user.get("task")
    if not name:
        raise ConfigError(f"{source}: task: not given (config `task:` or --task)")
    if name not in TASKS:
        raise ConfigError(f"{source}: task: unknown task {name!r}{did_you_mean(str(name), TASKS)}; "
                          f"use {', '.join(TASKS)}")
    merged = deep_update(deep_update(FINETUNE_DEFAULTS, get_task(name).defaults), user)
    merged["task"] = name
    return check_finetune_config(merged, source)
