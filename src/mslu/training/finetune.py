"""Fine-tuning loop for the downstream tasks (paper Sec. IV-B, Table III).

``run_finetune(cfg, out_dir, encoder_dir=None) -> metrics`` trains a task model, evaluates on dev every
``run.eval_every`` epochs, keeps the best model by the task's main metric (``mslu.tasks.MAIN_METRICS``),
evaluates it on test and writes into ``out_dir``:
``metrics.json`` (test + best dev metrics), ``history.csv`` (loss / lr / dev metric per epoch),
``predictions.jsonl`` (+ ``test.ctm`` / ``test.stm`` for CSLR), ``model/`` (``model.safetensors``,
``config.json``, vocabularies / tokenizer), ``checkpoints/`` (resume state of the last epoch).

Readings:
- The encoder's learning rate is ``optim.lr * optim.finetune_rate`` (0.1, Table III "finetune rate") through
  two AdamW param groups. "From scratch" (alpha = 0% baseline): same architecture from the ``model.preset``
  (or a given encoder config) with random weights and the FULL learning rate for the encoder
  (``finetune_rate`` is ignored).
- Schedules are applied per optimiser step: ``step`` multiplies by ``gamma`` at every epoch in
  ``milestones`` (or every ``step_size`` epochs); ``cosine`` warms up linearly over ``warmup`` x total steps
  then decays to 0 with a half cosine; ``constant``.
- Weight decay on parameters with >= 2 dims only (biases / norms / temperature excluded).
"""

from __future__ import annotations

import copy
import json
import logging
import math
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import torch
import yaml
from torch.utils.data import DataLoader

from mslu.data.batching import BucketBatchSampler
from mslu.tasks.run_dir import jsonable, resolve_device, save_model, write_predictions
from mslu.training import host_memory
from mslu.training.checkpoint import (
    latest_checkpoint,
    load_checkpoint,
    rng_state,
    save_checkpoint,
    set_rng_state,
)
from mslu.training.config import apply_override, deep_update, read_config_file
from mslu.training.pretrain import CSVLogger, seed_everything

log = logging.getLogger(__name__)

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
    from mslu.tasks import get_task

    if isinstance(cfg, str | Path):
        cfg = read_config_file(cfg)
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


def schedule_factor(o: dict[str, Any], steps_per_epoch: int, total_steps: int):
    """LambdaLR factor per optimiser step for ``optim.schedule``."""
    kind = o.get("schedule", "step")
    if kind == "step":
        milestones = o.get("milestones")
        step_size = int(o.get("step_size") or 0)
        gamma = float(o.get("gamma", 0.1))

        def f(step: int) -> float:
            epoch = step // max(1, steps_per_epoch)
            n = (
                sum(epoch >= m for m in milestones)
                if milestones
                else (epoch // step_size if step_size else 0)
            )
            return gamma**n

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


def build_encoder(cfg: dict[str, Any], encoder_dir: str | Path | None = None, scratch: bool | None = None):
    """(encoder, pretrained?) from ``encoder_dir`` / ``model.encoder``, or a random ``model.preset`` one."""
    from mslu.models import PretrainConfig, SignPoseEncoder
    from mslu.models.config import EncoderConfig, config_from_dict

    m = cfg["model"]
    scratch = bool(m.get("scratch")) if scratch is None else scratch
    path = encoder_dir or m.get("encoder")
    if path and not scratch:
        return SignPoseEncoder.from_pretrained(path), True
    if path:  # scratch with the architecture of the given encoder
        raw = json.loads((Path(path) / "config.json").read_text())
        enc_dict = raw["encoder"]
    else:
        enc_dict = PretrainConfig.preset(m.get("preset") or "small").to_dict()["encoder"]
    enc_dict = deep_update(enc_dict, m.get("encoder_config") or {})
    return SignPoseEncoder(config_from_dict(EncoderConfig, enc_dict)), False


def optimizer_groups(model, o: dict[str, Any], pretrained: bool) -> list[dict[str, Any]]:
    """AdamW groups: encoder at ``lr * finetune_rate`` (pre-trained) or ``lr`` (scratch), heads at ``lr``;
    decay only on >= 2-d parameters."""
    lr = float(o["lr"])
    enc_lr = lr * float(o.get("finetune_rate", 0.1)) if pretrained else lr
    wd = float(o.get("weight_decay", 0.0))
    groups = []
    for name, params, g_lr in (
        ("encoder", model.encoder_parameters(), enc_lr),
        ("head", model.head_parameters(), lr),
    ):
        decay = [p for p in params if p.ndim >= 2]
        no_decay = [p for p in params if p.ndim < 2]
        groups.append({"params": decay, "lr": g_lr, "weight_decay": wd, "name": name})
        groups.append({"params": no_decay, "lr": g_lr, "weight_decay": 0.0, "name": name})
    return [g for g in groups if g["params"]]


class FineTuner:
    """Data, model, optimiser and schedule of one fine-tuning run (see :func:`run_finetune`)."""

    def __init__(
        self,
        cfg: dict[str, Any],
        corpus: Any = None,
        encoder_dir: str | Path | None = None,
        scratch: bool | None = None,
    ):
        from mslu.tasks import get_task
        from mslu.tasks.dataset import split_view

        self.cfg = cfg
        d, o, r = cfg["data"], cfg["optim"], cfg["run"]
        self.out = Path(r["out"])
        self.device = resolve_device(r.get("device", "auto"))
        host_memory.apply_run_setting(r, self.device)
        self.seed = int(r.get("seed", 0))
        seed_everything(self.seed)
        if corpus is None:
            from mslu.data.corpus import Corpus

            if not d.get("corpus"):
                raise ValueError("config data.corpus is not set (path of a mslu corpus)")
            corpus = Corpus(d["corpus"])
        self.task = get_task(cfg["task"])(cfg)
        self.encoder, self.pretrained = build_encoder(cfg, encoder_dir, scratch)
        d["max_frames"] = min(int(d.get("max_frames", 256)), int(self.encoder.cfg.max_frames))
        self.task.data_cfg["max_frames"] = d["max_frames"]
        views = {}
        for role in ("train", "dev", "test"):
            v = split_view(corpus, d["splits"][role], d.get("benchmark"), d.get("split_dir"))
            limit = d.get("max_train_samples") if role == "train" else d.get("max_eval_samples")
            views[role] = v.subset(range(min(len(v), int(limit)))) if limit else v
        self.train_set = self.task.dataset(views["train"], train=True, seed=self.seed)
        self.dev_set = self.task.dataset(views["dev"], train=False)
        self.test_set = self.task.dataset(views["test"], train=False)
        self.task.fit_assets(self.train_set)
        self.model = self.task.build_model(self.encoder).to(self.device)
        self.optimizer = torch.optim.AdamW(
            optimizer_groups(self.model, o, self.pretrained), betas=tuple(o["betas"]), eps=float(o["eps"])
        )
        self.sampler = BucketBatchSampler(
            self.train_set.lengths,
            int(d["batch_size"]),
            seed=self.seed,
            max_length=None,
            mega_batch_factor=8,
            rank=0,
            world_size=1,
        )
        self.steps_per_epoch = self.sampler.num_batches()
        self.epochs = int(o["epochs"])
        self.total_steps = self.steps_per_epoch * self.epochs
        if o.get("max_steps"):
            self.total_steps = min(self.total_steps, int(o["max_steps"]))
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(
            self.optimizer, schedule_factor(o, self.steps_per_epoch, self.total_steps)
        )
        self.epoch = self.step = 0
        self.best: float | None = None
        self.best_dev: dict[str, Any] = {}

    # ---- state ----
    def state_dict(self) -> dict[str, Any]:
        return {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "epoch": self.epoch,
            "step": self.step,
            "best": self.best,
            "best_dev": json.dumps(self.best_dev),
            "rng": rng_state(),
        }

    def resume(self) -> bool:
        """Continue from the newest checkpoint in ``<out>/checkpoints`` (False when there is none)."""
        path = latest_checkpoint(self.out / "checkpoints")
        if path is None:
            return False
        st = load_checkpoint(path)
        self.model.load_state_dict(st["model"])
        self.optimizer.load_state_dict(st["optimizer"])
        self.scheduler.load_state_dict(st["scheduler"])
        self.epoch, self.step, self.best = int(st["epoch"]), int(st["step"]), st["best"]
        self.best_dev = json.loads(st["best_dev"])
        set_rng_state(st["rng"])
        log.info("resumed from %s (epoch %d)", path, self.epoch)
        return True

    # ---- loops ----
    def _autocast(self):
        if self.cfg["run"].get("precision", "fp32") == "bf16":
            return torch.autocast(self.device.type, dtype=torch.bfloat16)
        return nullcontext()

    def loader(self, dataset, train: bool) -> DataLoader:
        d = self.cfg["data"]
        nw = int(d.get("num_workers", 0))
        if train:
            return DataLoader(
                dataset, batch_sampler=self.sampler, collate_fn=self.task.collate, num_workers=nw
            )
        bs = int(d.get("eval_batch_size") or d["batch_size"])
        return DataLoader(dataset, batch_size=bs, shuffle=False, collate_fn=self.task.collate, num_workers=nw)

    def train_epoch(self) -> float:
        from mslu.tasks.base import to_device

        self.model.train()
        self.train_set.set_epoch(self.epoch)
        self.sampler.set_epoch(self.epoch)
        clip = self.cfg["optim"].get("clip_grad_norm")
        total, n = 0.0, 0
        for batch in self._progress(
            self.loader(self.train_set, True), f"epoch {self.epoch + 1}/{self.epochs}"
        ):
            if self.step >= self.total_steps:
                break
            batch = to_device(batch, self.device)
            with self._autocast():
                loss = self.task.loss(self.model, batch)
            if not torch.isfinite(loss):
                raise RuntimeError(f"non-finite loss {loss.item()} at step {self.step} (epoch {self.epoch})")
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if clip:
                torch.nn.utils.clip_grad_norm_(self.model.parameters(), float(clip))
            self.optimizer.step()
            self.scheduler.step()
            self.step += 1
            total += float(loss.detach())
            n += 1
        return total / max(1, n)

    def _progress(self, it, desc: str):
        if not self.cfg["run"].get("progress", True):
            return it
        from tqdm.auto import tqdm

        return tqdm(it, desc=desc, leave=False, dynamic_ncols=True)

    def evaluate(self, split: str = "dev") -> tuple[dict[str, Any], list[dict[str, Any]]]:
        ds = self.dev_set if split == "dev" else self.test_set
        with self._autocast():
            return self.task.evaluate(self.model, self.loader(ds, False), self.device, split)

    def fit(self) -> dict[str, Any]:
        """Train, select by dev main metric, test the best model, write the outputs; returns metrics."""
        self.out.mkdir(parents=True, exist_ok=True)
        (self.out / "config.yaml").write_text(yaml.safe_dump(self.cfg, sort_keys=False, allow_unicode=True))
        history = CSVLogger(self.out / "history.csv")
        key = self.task.main_metric
        every = max(1, int(self.cfg["run"].get("eval_every", 1)))
        while self.epoch < self.epochs and self.step < self.total_steps:
            loss = self.train_epoch()
            self.epoch += 1
            row: dict[str, Any] = {
                "epoch": self.epoch,
                "step": self.step,
                "train_loss": loss,
                "lr": self.optimizer.param_groups[-1]["lr"],
            }
            last = self.epoch >= self.epochs or self.step >= self.total_steps
            if self.epoch % every == 0 or last:
                dev, _ = self.evaluate("dev")
                row[f"dev_{key}"] = float(dev[key])
                if self.task.better(float(dev[key]), self.best):
                    self.best, self.best_dev = float(dev[key]), jsonable(dev)
                    save_model(self.task, self.model, self.cfg, self.out / "model")
            else:
                row[f"dev_{key}"] = float("nan")
            history.write(row)
            log.info("epoch %d: %s", self.epoch, row)
            save_checkpoint(
                self.out / "checkpoints",
                self.epoch,
                self.state_dict(),
                keep_last=int(self.cfg["run"].get("keep_checkpoints", 1)),
            )
        return self.finish()

    def finish(self) -> dict[str, Any]:
        """Evaluate the best saved model on test and write metrics / predictions."""
        from safetensors.torch import load_file

        if (self.out / "model" / "model.safetensors").is_file():
            self.model.load_state_dict(load_file(str(self.out / "model" / "model.safetensors")))
        else:
            save_model(self.task, self.model, self.cfg, self.out / "model")
        test, preds = self.evaluate("test")
        write_predictions(self.out, "test", preds)
        self.task.write_extra(self.out, "test", preds)
        metrics = {
            "task": self.task.name,
            "main_metric": self.task.main_metric,
            "higher_is_better": self.task.higher_is_better,
            "pretrained": self.pretrained,
            "epochs": self.epoch,
            "steps": self.step,
            "test": jsonable(test),
            "dev": self.best_dev,
        }
        (self.out / "metrics.json").write_text(json.dumps(metrics, indent=1, ensure_ascii=False))
        return metrics


def run_finetune(
    cfg: dict[str, Any] | str | Path,
    out_dir: str | Path | None = None,
    encoder_dir: str | Path | None = None,
    scratch: bool | None = None,
    resume: bool = False,
    overrides: list[str] | None = None,
    corpus: Any = None,
    task: str | None = None,
) -> dict[str, Any]:
    """Fine-tune one task; returns ``metrics.json`` as a dict.

    ``cfg``: dict or YAML path (sections task/model/data/optim/run, defaults = Table III per task);
    ``encoder_dir``: pre-trained psi_SE (``SignPoseEncoder.save_pretrained``); ``scratch=True``: random
    encoder (alpha = 0% baseline); ``resume``: continue from ``<out>/checkpoints``. The result has
    ``test`` / ``dev`` metric dicts and ``main_metric`` / ``higher_is_better``.
    """
    c = finetune_config(cfg, overrides, task)
    if out_dir is not None:
        c["run"]["out"] = str(out_dir)
    if encoder_dir is not None:
        c["model"]["encoder"] = str(encoder_dir)
    if scratch is not None:
        c["model"]["scratch"] = bool(scratch)
    tuner = FineTuner(c, corpus=corpus)
    if resume:
        tuner.resume()
    return tuner.fit()
