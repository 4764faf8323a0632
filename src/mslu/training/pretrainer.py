"""Pre-training loop (paper Sec. III-B / IV-A): AdamW, 10% warm-up + linear decay, bf16 autocast, gradient
accumulation, DDP, atomic checkpoints with exact resume, TensorBoard + CSV logs, NaN guard, encoder export.

Readings where the paper is silent or ambiguous:
- ``data.batch_size`` is the global batch per optimiser step (paper: 512 over 8 GPUs). With
  ``optim.accumulation = k`` each micro-step sees ``batch_size / k`` samples, and the contrastive negatives
  are those of the (global, all-gathered) micro-batch.
- Weight decay (Tab. III: 0.1) applies to parameters with >= 2 dimensions (:mod:`mslu.training.schedules`).
- The warm-up is linear from ~0 over the first ``warmup`` fraction of optimiser steps, then linear to 0.
- Masks and dropout are seeded per micro-batch from ``(seed, rank, step, micro-batch)``: each rank draws its
  own, and a resumed run (any world size) draws those of an uninterrupted one.
- The host reads losses only on log steps (``run.log_every``) and before checkpoints, where the NaN guard is
  checked too: a non-finite loss stops the run there, and no checkpoint holds a step after it.
"""

from __future__ import annotations

import logging
import math
import time
from contextlib import nullcontext
from functools import partial
from pathlib import Path
from typing import Any

import torch
import yaml
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader
from torch.utils.tensorboard import SummaryWriter
from tqdm.auto import tqdm

from mslu.data.batching import BucketBatchSampler, collate_pose_text
from mslu.data.corpus import Corpus
from mslu.data.pose_text import PoseTextDataset, alpha_subset
from mslu.models import PretrainModel
from mslu.training import distributed as dist_utils
from mslu.training import host_memory
from mslu.training.checkpoint import (
    CheckpointError,
    latest_checkpoint,
    load_checkpoint,
    load_latest,
    rng_state,
    run_differences,
    save_checkpoint,
    set_rng_state,
)
from mslu.training.common import CSVLogger, NonFiniteLossError, find_module, seed_everything, step_seed
from mslu.training.precision import resolve_precision
from mslu.training.run_config import build_model_config, load_config
from mslu.training.schedules import param_groups, warmup_linear_decay
from mslu.training.text_cache import TextFeatureCache

log = logging.getLogger(__name__)
SCALAR_OUTPUTS = ("temperature", "pr_num", "pr_den")  # besides every "loss*" output
# settings that define a run: a resume under other values is refused unless forced
RUN_DEFINING = ("model", "data.corpus", "data.split", "data.alpha", "data.max_frames", "data.max_text_tokens",
                "data.batch_size", "data.mega_batch_factor", "data.pad_to_multiple", "data.random_crop",
                "optim.lr", "optim.weight_decay", "optim.betas", "optim.eps", "optim.warmup",
                "optim.accumulation", "optim.clip_grad_norm", "run.seed", "run.precision")


class PretrainTrainer:
    """Data, model, optimiser and scheduler from a run config (:mod:`mslu.training.run_config`); trains.

    ``corpus``/``model`` may be passed directly (tests, notebooks); otherwise built from the config.
    """

    def __init__(self, cfg: dict[str, Any], corpus: Any = None, model: torch.nn.Module | None = None):
        self.cfg = cfg
        d, o, r = cfg["data"], cfg["optim"], cfg["run"]
        self.device = dist_utils.init_distributed(r.get("device", "auto"))
        host_memory.apply_run_setting(r, self.device)
        self.rank, self.world = dist_utils.get_rank(), dist_utils.get_world_size()
        self.main = self.rank == 0
        self.out = Path(r["out"])
        self.seed = int(r["seed"])
        if r.get("deterministic"):
            torch.use_deterministic_algorithms(True)
        seed_everything(self.seed)

        if corpus is None:
            if not d.get("corpus"):
                raise ValueError("config data.corpus is not set (path of a mslu corpus)")
            corpus = Corpus(d["corpus"])
        if d.get("split"):
            corpus = corpus.filter(split=d["split"])
        if float(d.get("alpha", 1.0)) < 1.0:
            corpus = corpus.subset(alpha_subset(len(corpus), float(d["alpha"]), self.seed))
        self.dataset = PoseTextDataset(corpus, int(d["max_frames"]), bool(d.get("random_crop", True)),
                                       self.seed)

        self.accum = int(o.get("accumulation", 1))
        batch = int(d["batch_size"])
        if batch % (self.accum * self.world):
            raise ValueError(f"batch_size {batch} must be divisible by accumulation x world size "
                             f"({self.accum} x {self.world})")
        self.micro_batch = batch // self.accum  # global micro-batch
        self.sampler = BucketBatchSampler(self.dataset.lengths, self.micro_batch, seed=self.seed,
                                          max_length=int(d["max_frames"]),
                                          mega_batch_factor=int(d["mega_batch_factor"]),
                                          rank=self.rank, world_size=self.world)
        self.num_workers = int(d.get("num_workers", 0))
        self.collate = partial(collate_pose_text, pad_to_multiple=int(d.get("pad_to_multiple", 1)))

        if model is None:
            model_cfg = build_model_config(cfg["model"])
            model_cfg.text.max_length = int(d.get("max_text_tokens", model_cfg.text.max_length))
            model = PretrainModel(model_cfg)
        self.model = model.to(self.device)
        self.ddp = None
        if self.world > 1:
            self.ddp = DistributedDataParallel(
                self.model, device_ids=[self.device.index] if self.device.type == "cuda" else None,
                find_unused_parameters=bool(o.get("find_unused_parameters", False)))

        groups = param_groups(self.model, float(o["weight_decay"]))
        self.optimizer = torch.optim.AdamW(groups, lr=float(o["lr"]), betas=tuple(o["betas"]),
                                           eps=float(o.get("eps", 1e-8)), fused=bool(o.get("fused", True)))
        self.micro_per_epoch = self.sampler.num_batches()
        self.steps_per_epoch = math.ceil(self.micro_per_epoch / self.accum)
        self.total_steps = int(o.get("max_steps") or int(o["epochs"]) * self.steps_per_epoch)
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(
            self.optimizer, warmup_linear_decay(self.total_steps, float(o.get("warmup", 0.1))))
        self.clip = float(o.get("clip_grad_norm") or 0.0)
        self.precision = resolve_precision(r.get("precision", "auto"), self.device)
        self.step = 0
        self.epoch = 0
        self.micro_pos = 0  # next micro-batch of the current epoch
        self.resumed_from: Path | None = None
        # device-side record of the first step with a non-finite loss (-1: none); read on log steps only
        self.first_bad_step = torch.full((), -1, dtype=torch.long, device=self.device)
        self.bad_terms: dict[str, torch.Tensor] = {}
        self.text_cache = None
        if d.get("text_cache", False):
            self.text_cache = self._build_text_cache(d.get("text_cache_dir"))

    # ---- text-feature cache -------------------------------------------------------------------------
    def _build_text_cache(self, cache_dir: str | None):
        text_encoder = getattr(self.model, "text_encoder", None) or find_module(self.model, "TextEncoder")
        if text_encoder is None or not hasattr(text_encoder, "encode"):
            log.warning("model has no text encoder with encode(); text-feature cache disabled")
            return None
        pairs = [(t, lang) for t, lang, p in zip(self.dataset.texts, self.dataset.text_languages,
                                                  self.dataset.paired) if p and t]
        encoder_id = None
        if getattr(text_encoder, "name_or_path", None):
            encoder_id = (f"{text_encoder.name_or_path} max_length={text_encoder.max_length} "
                          f"lang_token={text_encoder.lang_token}")
        if cache_dir and self.world > 1:  # rank 0 fills the disk cache, the others read it
            if self.main:
                TextFeatureCache(text_encoder.encode, cache_dir, encoder_id=encoder_id).precompute(pairs)
            dist_utils.barrier()
        cache = TextFeatureCache(text_encoder.encode, cache_dir, encoder_id=encoder_id)
        t0 = time.perf_counter()
        n = cache.precompute(pairs)
        if self.main and n:
            log.info("text-feature cache: %d sentences encoded in %.1fs", n, time.perf_counter() - t0)
        return cache

    # ---- state --------------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Everything needed for an exact resume."""
        return {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "step": self.step, "epoch": self.epoch, "micro_pos": self.micro_pos,
            "rng": rng_state(),
            "config": self.cfg,
            "world_size": self.world,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.step, self.epoch = int(state["step"]), int(state["epoch"])
        self.micro_pos = int(state["micro_pos"])
        set_rng_state(state["rng"])

    def save(self) -> Path | None:
        self.check_weights_finite()
        if not self.main:
            return None
        r = self.cfg["run"]
        path = save_checkpoint(self.out / "checkpoints", self.step, self.state_dict(),
                               keep_last=int(r.get("keep_checkpoints", 3)))
        return path

    def resume(self, path: str | Path | None = None, force: bool = False) -> bool:
        """Load ``path`` or the newest checkpoint of the run directory that verifies; False when there is
        none. A checkpoint of a differently configured run (batch, lr, seed, model, world size, ...) or one
        past this run's last step is refused unless ``force``."""
        if path:
            found = (Path(path), load_checkpoint(path, map_location="cpu"))
        else:
            found = load_latest(self.out / "checkpoints", map_location="cpu")
        if found is None:
            return False
        path, state = found
        changed = run_differences(state.get("config") or {}, self.cfg, RUN_DEFINING)
        if int(state.get("world_size", self.world)) != self.world:
            changed.append(f"world size: {state['world_size']} -> {self.world}")
        if changed and not force:
            raise CheckpointError(f"{path} was written by a differently configured run "
                                  f"({'; '.join(changed)}); resume with the same settings, or use --force")
        if int(state["step"]) > self.total_steps:
            raise CheckpointError(f"{path} is at step {state['step']}, past this run's {self.total_steps} "
                                  f"steps (optim.max_steps / optim.epochs)")
        self.load_state_dict(state)
        self.resumed_from = path
        log.info("resumed from %s (step %d, epoch %d, batch %d)", path, self.step, self.epoch, self.micro_pos)
        return True

    # ---- training -----------------------------------------------------------------------------------
    def _to_device(self, batch: dict[str, Any]) -> dict[str, Any]:
        out = {k: (v.to(self.device, non_blocking=True) if torch.is_tensor(v) else v)
               for k, v in batch.items()}
        if self.text_cache is not None:
            feats, mask = self.text_cache.lookup(batch["texts"], batch["text_langs"])
            out["text_features"], out["text_mask"] = feats.to(self.device), mask.to(self.device)
        return out

    def _loader(self) -> DataLoader:
        self.sampler.set_epoch(self.epoch, start_batch=self.micro_pos)
        self.dataset.set_epoch(self.epoch)
        return DataLoader(self.dataset, batch_sampler=self.sampler, collate_fn=self.collate,
                          num_workers=self.num_workers, pin_memory=self.device.type == "cuda",
                          # own generator: creating the iterator must not consume the global RNG (resume)
                          generator=torch.Generator().manual_seed(self.seed + self.epoch))

    def train_step(self, micro_batches: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
        """One optimiser step over ``micro_batches`` (gradient accumulation); returns the mean scalar
        metrics as device tensors, so the host waits for the device only when they are logged.

        The model's randomness (masks, dropout) is seeded per micro-batch from ``(seed, rank, step, i)``:
        every rank draws its own masks, and a resumed run draws exactly those of an uninterrupted one.
        """
        net = self.ddp or self.model
        self.model.train()
        sums: dict[str, torch.Tensor] = {}
        n = len(micro_batches)
        for i, batch in enumerate(micro_batches):
            torch.manual_seed(step_seed(self.seed, self.rank, self.step, i))
            batch = self._to_device(batch)
            sync = nullcontext() if (self.ddp is None or i == n - 1) else self.ddp.no_sync()
            amp = torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.precision == "bf16")
            with sync:
                with amp:
                    out = net(batch)
                loss = out["loss"]
                self._record_finite(loss, out)
                (loss / n).backward()
            for k, v in out.items():
                if k in SCALAR_OUTPUTS or k.startswith("loss"):
                    sums[k] = sums.get(k, 0.0) + v.detach().float() / n
        if self.clip > 0:
            sums["grad_norm"] = torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.clip)
        self.optimizer.step()
        self.scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)
        self.step += 1
        return sums

    def _record_finite(self, loss: torch.Tensor, out: dict[str, Any]) -> None:
        """Remember (on the device) the first step whose loss is not finite, and its loss terms."""
        bad = ~torch.isfinite(loss.detach()).all()
        first = bad & (self.first_bad_step < 0)
        self.first_bad_step = torch.where(first, self.step + 1, self.first_bad_step)
        for k, v in out.items():
            if torch.is_tensor(v) and v.numel() == 1:
                v = v.detach().float().reshape(())
                self.bad_terms[k] = torch.where(first, v, self.bad_terms.get(k, v))

    def check_finite(self) -> None:
        """Raise :class:`NonFiniteLossError` when a loss since the last check was not finite (all ranks
        together). Called on log steps and before every checkpoint, so no checkpoint holds such a step."""
        first = self.first_bad_step.clone()
        if self.ddp is not None:
            torch.distributed.all_reduce(first, op=torch.distributed.ReduceOp.MAX)
        step = int(first)
        if step < 0:
            return
        terms = {k: round(float(v), 6) for k, v in self.bad_terms.items()}
        last = latest_checkpoint(self.out / "checkpoints")
        raise NonFiniteLossError(
            f"non-finite loss at step {step}: {terms}; stopping. Last good checkpoint: {last or 'none'} "
            f"(resume with --resume, e.g. with a lower lr)")

    def check_weights_finite(self) -> None:
        """Raise :class:`NonFiniteLossError` when a weight is NaN / inf, so no checkpoint holds such weights
        (a finite loss can still come with exploding weights)."""
        flags = [torch.isfinite(p.detach()).all() for p in self.model.parameters() if p.is_floating_point()]
        bad = torch.stack(flags).logical_not().any().float().reshape(1)
        if self.ddp is not None:
            torch.distributed.all_reduce(bad)
        if float(bad) > 0:
            last = latest_checkpoint(self.out / "checkpoints")
            raise NonFiniteLossError(f"weights became non-finite by step {self.step}; stopping. Last good "
                                     f"checkpoint: {last or 'none'} (resume with --resume, e.g. a lower lr)")

    def fit(self) -> dict[str, float]:
        """Train until ``total_steps``; returns the last logged metrics."""
        r = self.cfg["run"]
        log_every, ckpt_every = int(r.get("log_every", 10)), int(r.get("checkpoint_every", 1000))
        writer = csv_log = bar = None
        if self.main:
            self.out.mkdir(parents=True, exist_ok=True)
            (self.out / "config.yaml").write_text(yaml.safe_dump(self.cfg, sort_keys=False))
            csv_log = CSVLogger(self.out / "metrics.csv")
            if self.resumed_from is not None:  # rows logged after the checkpoint are logged again
                csv_log.resume_after("step", self.step)
            if r.get("tensorboard", True):
                writer = SummaryWriter(str(self.out / "tensorboard"),
                                       purge_step=self.step + 1 if self.resumed_from is not None else None)
            if r.get("progress", True):
                bar = tqdm(total=self.total_steps, initial=self.step, desc="pretrain", dynamic_ncols=True)
        last: dict[str, float] = {}
        window: dict[str, float] = {}
        n_window = samples = 0
        t0 = time.perf_counter()
        try:
            while self.step < self.total_steps:
                group: list[dict[str, Any]] = []
                for batch in self._loader():
                    group.append(batch)
                    self.micro_pos += 1
                    if len(group) < self.accum and self.micro_pos < self.micro_per_epoch:
                        continue
                    samples += sum(len(b["texts"]) for b in group) * self.world
                    metrics = self.train_step(group)
                    group = []
                    for k, v in metrics.items():
                        window[k] = window.get(k, 0.0) + v
                    n_window += 1
                    if self.micro_pos >= self.micro_per_epoch:
                        self.epoch, self.micro_pos = self.epoch + 1, 0
                    if self.step % log_every == 0 or self.step == self.total_steps:
                        self.check_finite()
                        last = self._log(window, n_window, samples, time.perf_counter() - t0, writer, csv_log)
                        window, n_window, samples, t0 = {}, 0, 0, time.perf_counter()
                    if bar is not None:
                        bar.update(1)
                        if last:
                            bar.set_postfix(loss=f"{last.get('loss', float('nan')):.4f}",
                                            lr=f"{last['lr']:.2e}")
                    if self.step % ckpt_every == 0 or self.step == self.total_steps:
                        self.check_finite()
                        self.save()
                    if self.step >= self.total_steps:
                        break
                if self.micro_pos >= self.micro_per_epoch:  # an epoch ended without a step boundary
                    self.epoch, self.micro_pos = self.epoch + 1, 0
        finally:
            if bar is not None:
                bar.close()
            if writer is not None:
                writer.close()
        if self.main:
            self.export_encoder(self.out / "encoder")
        dist_utils.barrier()
        return last

    def _log(self, window, n, samples, seconds, writer, csv_log) -> dict[str, float]:
        keys = sorted(window)
        vals = torch.stack([torch.as_tensor(window[k], device=self.device).double() for k in keys])
        vals = vals / max(n, 1)
        vals = (dist_utils.all_reduce_mean(vals) if self.world > 1 else vals).cpu()  # the one host sync
        row = {"step": self.step, "epoch": self.epoch, **{k: float(v) for k, v in zip(keys, vals)}}
        row["lr"] = self.scheduler.get_last_lr()[0]
        row["samples_per_s"] = samples / seconds if seconds > 0 else 0.0
        if self.main:
            csv_log.write(row)
            if writer is not None:
                for k, v in row.items():
                    if k not in ("step", "epoch"):
                        writer.add_scalar(f"pretrain/{k}", v, self.step)
        return row

    def export_encoder(self, directory: str | Path) -> Path:
        """Save the pose encoder psi_SE via ``save_pretrained`` (safetensors + config) for downstream use,
        plus psi_FSTS (``similarity.safetensors`` + ``similarity.json``) when the model has it."""
        pm = find_module(self.model, "PretrainModel")  # the model itself or inside DDP / compile wrappers
        if pm is not None and hasattr(pm, "export_encoder"):
            return Path(pm.export_encoder(directory))
        encoder = getattr(self.model, "encoder", None)
        if encoder is None or not hasattr(encoder, "save_pretrained"):
            encoder = find_module(self.model, "SignPoseEncoder")
        if encoder is None:
            raise RuntimeError("model has no SignPoseEncoder to export")
        encoder.save_pretrained(directory)
        return Path(directory)


def run_pretrain(cfg: dict[str, Any] | str | Path, overrides: list[str] | None = None, resume: bool = False,
                 corpus: Any = None, model: torch.nn.Module | None = None, force: bool = False
                 ) -> dict[str, float]:
    """Pre-train from a config dict or YAML path; returns the last logged metrics. ``resume``: continue
    from the run directory's newest valid checkpoint (``force``: even under changed run settings)."""
    if not isinstance(cfg, dict):
        cfg = load_config(cfg, overrides)
    trainer = PretrainTrainer(cfg, corpus=corpus, model=model)
    if resume:
        trainer.resume(force=force)
    try:
        return trainer.fit()
    finally:
        dist_utils.cleanup_distributed()
