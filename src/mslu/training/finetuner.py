"""Fine-tuning loop for the downstream tasks (paper Sec. IV-B, Table III).

``run_finetune(cfg, out_dir, encoder_dir=None) -> metrics`` trains a task model, evaluates on dev every
``run.eval_every`` epochs, keeps the best model by the task's main metric, evaluates it on test and writes the
run directory (:mod:`mslu.tasks.run_dir`): ``metrics.json`` (test + best dev metrics), ``history.csv`` (loss /
lr / dev metric per epoch), ``predictions.jsonl`` (+ ``test.ctm`` / ``test.stm`` for CSLR), ``model/``,
``checkpoints/`` (resume state of the last epoch).

The encoder's learning rate is ``optim.lr * optim.finetune_rate`` (Table III "finetune rate"). "From scratch"
(alpha = 0% baseline): the same architecture from ``model.preset`` (or a given encoder config) with random
weights and the full learning rate for the encoder (``finetune_rate`` is ignored). Schedules and parameter
groups: :mod:`mslu.training.schedules`.
"""

from __future__ import annotations

import json
import logging
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import torch
import yaml
from safetensors.torch import load_file
from torch.utils.data import DataLoader
from tqdm.auto import tqdm

from mslu.configs import deep_update
from mslu.data.batching import BucketBatchSampler
from mslu.data.corpus import Corpus
from mslu.data.stats import input_profile
from mslu.models import PretrainConfig, SignPoseEncoder
from mslu.models.config import EncoderConfig, config_from_dict
from mslu.tasks import get_task
from mslu.tasks.base import to_device
from mslu.tasks.dataset import split_view
from mslu.tasks.run_dir import eval_loader, jsonable, resolve_device, save_model, write_predictions
from mslu.training import host_memory
from mslu.training.checkpoint import (
    CheckpointError,
    load_latest,
    rng_state,
    run_differences,
    save_checkpoint,
    set_rng_state,
)
from mslu.training.common import CSVLogger, NonFiniteLossError, seed_everything
from mslu.training.precision import resolve_precision
from mslu.training.run_config import finetune_config
from mslu.training.schedules import optimizer_groups, schedule_factor

log = logging.getLogger(__name__)
# settings that define a fine-tuning run: a resume under other values is refused unless forced
RUN_DEFINING = ("task", "model", "data.corpus", "data.benchmark", "data.split_dir", "data.splits",
                "data.max_frames", "data.num_frames", "data.temporal_scale", "data.batch_size",
                "data.max_train_samples", "optim.lr", "optim.finetune_rate", "optim.weight_decay",
                "optim.betas", "optim.schedule", "optim.milestones", "optim.step_size", "optim.gamma",
                "optim.warmup", "run.seed", "run.precision")


def build_encoder(cfg: dict[str, Any], encoder_dir: str | Path | None = None, scratch: bool | None = None):
    """(encoder, pretrained?) from ``encoder_dir`` / ``model.encoder``, or a random ``model.preset`` one."""
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


class FineTuner:
    """Data, model, optimiser and schedule of one fine-tuning run (see :func:`run_finetune`)."""

    def __init__(
        self,
        cfg: dict[str, Any],
        corpus: Any = None,
        encoder_dir: str | Path | None = None,
        scratch: bool | None = None,
    ):
        self.cfg = cfg
        d, o, r = cfg["data"], cfg["optim"], cfg["run"]
        self.out = Path(r["out"])
        self.device = resolve_device(r.get("device", "auto"))
        self.precision = resolve_precision(r.get("precision", "fp32"), self.device)
        host_memory.apply_run_setting(r, self.device)
        self.seed = int(r.get("seed", 0))
        seed_everything(self.seed)
        if corpus is None:
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
        self.input_profile = input_profile(views["train"])  # what `mslu predict` compares new inputs to
        self.train_set = self.task.dataset(views["train"], train=True, seed=self.seed)
        self.dev_set = self.task.dataset(views["dev"], train=False)
        self.test_set = self.task.dataset(views["test"], train=False)
        self.task.fit_assets(self.train_set)
        self.model = self.task.build_model(self.encoder).to(self.device)
        self.optimizer = torch.optim.AdamW(
            optimizer_groups(self.model, o, self.pretrained), betas=tuple(o["betas"]), eps=float(o["eps"]),
            fused=bool(o["fused"]),
        )
        self.sampler = BucketBatchSampler(
            self.train_set.lengths,
            int(d["batch_size"]),
            seed=self.seed,
            max_length=None,
            mega_batch_factor=int(d["mega_batch_factor"]),
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
        self.resumed = False

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
            "config": self.cfg,
        }

    def resume(self, force: bool = False) -> bool:
        """Continue from the newest valid checkpoint in ``<out>/checkpoints`` (False when there is none).
        A checkpoint of a differently configured run is refused unless ``force``."""
        found = load_latest(self.out / "checkpoints")
        if found is None:
            return False
        path, st = found
        changed = run_differences(st.get("config") or {}, self.cfg, RUN_DEFINING)
        if changed and not force:
            raise CheckpointError(f"{path} was written by a differently configured run "
                                  f"({'; '.join(changed)}); resume with the same settings, or use --force")
        if int(st["epoch"]) > self.epochs:
            raise CheckpointError(f"{path} is at epoch {st['epoch']}, past this run's {self.epochs} epochs")
        self.model.load_state_dict(st["model"])
        self.optimizer.load_state_dict(st["optimizer"])
        self.scheduler.load_state_dict(st["scheduler"])
        self.epoch, self.step, self.best = int(st["epoch"]), int(st["step"]), st["best"]
        self.best_dev = json.loads(st["best_dev"])
        set_rng_state(st["rng"])
        log.info("resumed from %s (epoch %d)", path, self.epoch)
        self.resumed = True
        return True

    # ---- loops ----
    def _autocast(self):
        if self.precision == "bf16":
            return torch.autocast(self.device.type, dtype=torch.bfloat16)
        return nullcontext()

    def loader(self, dataset, train: bool) -> DataLoader:
        d = self.cfg["data"]
        nw = int(d.get("num_workers", 0))
        if train:
            return DataLoader(
                dataset, batch_sampler=self.sampler, collate_fn=self.task.collate, num_workers=nw
            )
        return eval_loader(self.task, dataset)

    def train_epoch(self) -> float:
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
                raise NonFiniteLossError(f"non-finite loss {loss.item()} at step {self.step + 1} "
                                         f"(epoch {self.epoch + 1}); the last epoch checkpoint is kept")
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
        return tqdm(it, desc=desc, leave=False, dynamic_ncols=True)

    def evaluate(self, split: str = "dev") -> tuple[dict[str, Any], list[dict[str, Any]]]:
        ds = self.dev_set if split == "dev" else self.test_set
        with self._autocast():
            return self.task.evaluate(self.model, self.loader(ds, False), self.device, split)

    def save_model(self) -> None:
        """The run's model directory (:func:`mslu.tasks.run_dir.save_model`) with the training data's
        input profile, which ``mslu predict`` compares new inputs with."""
        d = save_model(self.task, self.model, self.cfg, self.out / "model")
        (d / "input_profile.json").write_text(json.dumps(self.input_profile))

    def fit(self) -> dict[str, Any]:
        """Train, select by dev main metric, test the best model, write the outputs; returns metrics."""
        self.out.mkdir(parents=True, exist_ok=True)
        (self.out / "config.yaml").write_text(yaml.safe_dump(self.cfg, sort_keys=False, allow_unicode=True))
        history = CSVLogger(self.out / "history.csv")
        if self.resumed:  # epochs logged after the checkpoint are trained and logged again
            history.resume_after("epoch", self.epoch)
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
                    self.save_model()
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
        if (self.out / "model" / "model.safetensors").is_file():
            self.model.load_state_dict(load_file(str(self.out / "model" / "model.safetensors")))
        else:
            self.save_model()
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
    force: bool = False,
) -> dict[str, Any]:
    """Fine-tune one task; returns ``metrics.json`` as a dict.

    ``cfg``: dict or YAML path (sections task/model/data/optim/run, defaults = Table III per task);
    ``encoder_dir``: pre-trained psi_SE (``SignPoseEncoder.save_pretrained``); ``scratch=True``: random
    encoder (alpha = 0% baseline); ``resume``: continue from ``<out>/checkpoints`` (``force``: even under
    changed run settings). The result has ``test`` / ``dev`` metric dicts and ``main_metric`` /
    ``higher_is_better``.
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
        tuner.resume(force=force)
    return tuner.fit()
