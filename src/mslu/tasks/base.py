"""The :class:`Task` interface shared by ISLR, CSLR, GF-SLT and SL-RT.

A task turns a run configuration (see :mod:`mslu.training.finetuner`) into a model around the pre-trained
sign pose encoder psi_SE, its datasets, its loss and its evaluation. Learned vocabularies (classes, glosses,
tokenizer) are "assets": fitted on the training split, saved next to the fine-tuned weights.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from mslu.data.batching import collate_pose_text
from mslu.pose.normalize import normalize_for_model
from mslu.tasks.dataset import DownstreamDataset


class TaskModel(nn.Module):
    """Base of the task models: ``self.encoder`` is psi_SE (its parameters get the fine-tune rate)."""

    encoder: nn.Module

    def encoder_parameters(self) -> list[nn.Parameter]:
        return [p for p in self.encoder.parameters() if p.requires_grad]

    def head_parameters(self) -> list[nn.Parameter]:
        enc = {id(p) for p in self.encoder.parameters()}
        return [p for p in self.parameters() if p.requires_grad and id(p) not in enc]


class Task:
    """One downstream task. Subclasses set ``name``, ``main_metric``, ``higher_is_better``, ``defaults``
    (Table III values, merged under the run config) and implement the abstract methods."""

    name: ClassVar[str] = ""
    main_metric: ClassVar[str] = ""
    higher_is_better: ClassVar[bool] = True
    defaults: ClassVar[dict[str, Any]] = {}

    def __init__(self, cfg: dict[str, Any]):
        self.cfg = cfg
        self.head_cfg: dict[str, Any] = dict(cfg.get("model", {}).get("head", {}) or {})
        self.data_cfg: dict[str, Any] = dict(cfg.get("data", {}))

    # ---- data ----
    def dataset(self, view: Any, train: bool, seed: int = 0) -> DownstreamDataset:
        """Dataset over a corpus view (all frames up to ``data.max_frames``; ISLR overrides)."""
        d = self.data_cfg
        return DownstreamDataset(
            view,
            train=train,
            max_frames=int(d.get("max_frames", 256)),
            temporal_scale=d.get("temporal_scale") if train else None,
            seed=seed,
        )

    def collate(self, items: list[dict[str, Any]]) -> dict[str, Any]:
        """Pad poses (``collate_pose_text``) and keep ids; subclasses add their targets."""
        batch = collate_pose_text(items)
        batch["ids"] = [it["id"] for it in items]
        return batch

    def better(self, a: float, b: float | None) -> bool:
        """Whether main-metric value ``a`` beats ``b`` (None: nothing yet)."""
        if b is None:
            return True
        return a > b if self.higher_is_better else a < b

    # ---- assets ----
    def fit_assets(self, train: DownstreamDataset) -> None:
        """Build vocabularies from the training split (default: nothing)."""

    def save_assets(self, directory: Path) -> None:
        """Write vocabularies next to the model weights (default: nothing)."""

    def load_assets(self, directory: Path) -> None:
        """Read what :meth:`save_assets` wrote (default: nothing)."""

    # ---- model ----
    def build_model(self, encoder: nn.Module) -> TaskModel:
        raise NotImplementedError

    def loss(self, model: TaskModel, batch: dict[str, Any]) -> torch.Tensor:
        raise NotImplementedError

    def evaluate(
        self, model: TaskModel, loader: Any, device: torch.device, split: str = "test"
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """Metrics dict (with ``self.main_metric``) and one prediction record per sample."""
        raise NotImplementedError

    def predict(self, model: TaskModel, pose: np.ndarray, device: torch.device) -> dict[str, Any]:
        """Prediction for one (T, 79, 3) pose in frame units (not yet normalised)."""
        raise NotImplementedError

    def write_extra(self, directory: Path, split: str, predictions: list[dict[str, Any]]) -> None:
        """Task-specific prediction files (e.g. CTM/STM for CSLR); default: nothing."""

    # ---- helpers ----
    def single_batch(self, pose: np.ndarray, device: torch.device, train: bool = False) -> dict[str, Any]:
        """A one-item batch for :meth:`predict`, sampled/normalised like the test data."""

        ds = self.dataset(_OnePose(pose), train=False)
        idx = ds.frame_indices(0, pose.shape[0])
        item = {
            "pose": normalize_for_model(np.asarray(pose)[idx]).astype(np.float32),
            "index": 0,
            "id": "input",
        }
        return to_device(collate_pose_text([item]), device)


class _OnePose:
    """Minimal corpus-like wrapper so that ``Task.dataset`` can compute frame indices for one pose."""

    def __init__(self, pose: np.ndarray):
        import pyarrow as pa

        self._pose = pose
        self.metadata = pa.table({"id": ["input"]})
        self.lengths = np.array([pose.shape[0]])

    def __len__(self) -> int:
        return 1

    def pose(self, i: int) -> np.ndarray:
        return self._pose


def to_device(batch: dict[str, Any], device: torch.device) -> dict[str, Any]:
    """Move the tensors of a batch to ``device``."""
    return {k: v.to(device) if isinstance(v, torch.Tensor) else v for k, v in batch.items()}
