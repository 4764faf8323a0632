"""Learning-rate schedules (LambdaLR factors per optimiser step) and AdamW parameter groups.

Pre-training (paper Sec. IV-A): linear warm-up over the first ``warmup`` fraction of optimiser steps, then
linear decay to 0. Fine-tuning: ``step`` multiplies by ``gamma`` at every epoch in ``milestones`` (or every
``step_size`` epochs); ``cosine`` warms up linearly over ``warmup`` x total steps then decays to 0 with a
half cosine; ``constant``. Weight decay only on parameters with >= 2 dims (biases, norms, the temperature
are not decayed: CLIP / BERT practice).
"""

from __future__ import annotations

import math
from typing import Any

import torch


def warmup_linear_decay(total_steps: int, warmup: float):
    """Linear warm-up over ``ceil(warmup * total)`` steps, then linear decay to 0."""
    warm = max(1, math.ceil(warmup * total_steps)) if warmup > 0 else 0

    def factor(step: int) -> float:
        if step < warm:
            return (step + 1) / warm
        return max(0.0, (total_steps - step) / max(1, total_steps - warm))

    return factor


def schedule_factor(o: dict[str, Any], steps_per_epoch: int, total_steps: int):
    """Fine-tuning factor per optimiser step for ``optim.schedule`` (step | cosine | constant)."""
    kind = o.get("schedule", "step")
    if kind == "step":
        milestones = o.get("milestones")
        step_size = int(o.get("step_size") or 0)
        gamma = float(o.get("gamma", 0.1))

        def f(step: int) -> float:
            epoch = step // max(1, steps_per_epoch)
            if milestones:
                return gamma ** sum(epoch >= m for m in milestones)
            return gamma ** (epoch // step_size if step_size else 0)

        return f
    if kind == "cosine":
        warm = math.ceil(float(o.get("warmup", 0.0)) * total_steps)

        def g(step: int) -> float:
            if step < warm:
                return (step + 1) / warm
            return 0.5 * (1 + math.cos(math.pi * min(1.0, (step - warm) / max(1, total_steps - warm))))

        return g
    if kind == "constant":
        return lambda step: 1.0
    raise ValueError(f"unknown optim.schedule {kind!r}; use step, cosine or constant")


def decay_groups(params, weight_decay: float, **extra: Any) -> list[dict[str, Any]]:
    """Trainable ``params`` as a decayed (ndim >= 2) and a non-decayed group (empty groups dropped)."""
    params = [p for p in params if p.requires_grad]
    decay = [p for p in params if p.ndim >= 2]
    no_decay = [p for p in params if p.ndim < 2]
    groups = [{"params": decay, "weight_decay": weight_decay, **extra},
              {"params": no_decay, "weight_decay": 0.0, **extra}]
    return [g for g in groups if g["params"]]


def param_groups(model: torch.nn.Module, weight_decay: float) -> list[dict[str, Any]]:
    """Pre-training groups: every trainable parameter, decay on ndim >= 2."""
    return decay_groups(model.parameters(), weight_decay)


def optimizer_groups(model, o: dict[str, Any], pretrained: bool) -> list[dict[str, Any]]:
    """Fine-tuning groups: encoder at ``lr * finetune_rate`` (pre-trained) or ``lr`` (scratch), heads at
    ``lr`` (Table III "finetune rate")."""
    lr = float(o["lr"])
    enc_lr = lr * float(o.get("finetune_rate", 0.1)) if pretrained else lr
    wd = float(o.get("weight_decay", 0.0))
    return [*decay_groups(model.encoder_parameters(), wd, lr=enc_lr, name="encoder"),
            *decay_groups(model.head_parameters(), wd, lr=lr, name="head")]
