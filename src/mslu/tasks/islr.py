"""ISLR (paper Sec. IV-B): psi_SE + one linear layer over the mean of the valid frame features.

Cross-entropy with label smoothing 0.2; 32 frames (random window in training, centre window in testing).
Metrics: per-instance and per-class top-1 / top-5 (:func:`mslu.evaluation.topk_accuracy`). The classes are
the distinct labels of the training split (so a WLASL100 subset of a WLASL2000 label space gets 100
outputs); test samples of a class unseen in training are an error.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from mslu.evaluation import topk_accuracy
from mslu.tasks.base import Task, TaskModel, to_device
from mslu.tasks.dataset import DownstreamDataset


class ISLRModel(TaskModel):
    """``forward(pose, frame_mask) -> logits (B, num_classes)``: masked temporal mean + dropout + linear."""

    def __init__(self, encoder: nn.Module, num_classes: int, dropout: float = 0.0):
        super().__init__()
        self.encoder = encoder
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(encoder.output_dim, num_classes)

    def forward(self, pose: torch.Tensor, frame_mask: torch.Tensor) -> torch.Tensor:
        f = self.encoder(pose, frame_mask)
        w = frame_mask.unsqueeze(-1).to(f.dtype)
        pooled = (f * w).sum(1) / w.sum(1).clamp(min=1)
        return self.classifier(self.dropout(pooled))


def class_groups(spec: dict[str, Any] | None) -> dict[str, set[int]]:
    """``{"confusing": "0-609", "normal": [610, 611, ...]}`` -> class labels per group (ranges inclusive)."""
    out: dict[str, set[int]] = {}
    for name, members in (spec or {}).items():
        labels: set[int] = set()
        items = members.split(",") if isinstance(members, str) else members
        for item in items:
            if isinstance(item, str) and "-" in item.strip()[1:]:
                lo, hi = item.split("-", 1)
                labels.update(range(int(lo), int(hi) + 1))
            else:
                labels.add(int(item))
        out[str(name)] = labels
    return out


class ISLRTask(Task):
    name = "islr"
    main_metric = "per_instance_top1"
    higher_is_better = True
    defaults = {
        "model": {"head": {"dropout": 0.0, "label_smoothing": 0.2}},
        "data": {"num_frames": 32, "short": "pad", "batch_size": 64},
        "optim": {
            "lr": 1.0e-3,
            "weight_decay": 1.0e-4,
            "schedule": "step",
            "step_size": 20,
            "gamma": 0.1,
            "epochs": 60,
        },
    }

    def __init__(self, cfg: dict[str, Any]):
        super().__init__(cfg)
        self.classes: list[int] = []
        self.class_text: dict[int, str] = {}

    def dataset(self, view: Any, train: bool, seed: int = 0) -> DownstreamDataset:
        d = self.data_cfg
        return DownstreamDataset(
            view, train=train, num_frames=int(d.get("num_frames", 32)), short=d.get("short", "pad"), seed=seed
        )

    def fit_assets(self, train: DownstreamDataset) -> None:
        labels = [lab for lab in train.labels if lab is not None]
        if not labels:
            raise ValueError("ISLR: the training split has no labels")
        self.classes = sorted({int(x) for x in labels})
        for lab, text in zip(train.labels, train.texts):
            if lab is not None and text and int(lab) not in self.class_text:
                self.class_text[int(lab)] = text

    def save_assets(self, directory: Path) -> None:
        data = {"classes": self.classes, "class_text": {str(k): v for k, v in self.class_text.items()}}
        (directory / "classes.json").write_text(json.dumps(data, ensure_ascii=False, indent=1))

    def load_assets(self, directory: Path) -> None:
        data = json.loads((directory / "classes.json").read_text())
        self.classes = [int(c) for c in data["classes"]]
        self.class_text = {int(k): v for k, v in data.get("class_text", {}).items()}

    def class_index(self, labels: list[Any], ids: list[str]) -> torch.Tensor:
        pos = {c: i for i, c in enumerate(self.classes)}
        out = []
        for lab, sid in zip(labels, ids):
            if lab is None or int(lab) not in pos:
                raise ValueError(f"sample {sid!r}: label {lab!r} is not a training class")
            out.append(pos[int(lab)])
        return torch.tensor(out, dtype=torch.long)

    def collate(self, items: list[dict[str, Any]]) -> dict[str, Any]:
        batch = super().collate(items)
        batch["raw_labels"] = [it["label"] for it in items]
        return batch

    def build_model(self, encoder: nn.Module) -> ISLRModel:
        if not self.classes:
            raise ValueError("ISLR: classes unknown (call fit_assets or load_assets first)")
        return ISLRModel(encoder, len(self.classes), float(self.head_cfg.get("dropout", 0.0)))

    def loss(self, model: ISLRModel, batch: dict[str, Any]) -> torch.Tensor:
        logits = model(batch["pose"], batch["frame_mask"])
        y = self.class_index(batch["raw_labels"], batch["ids"]).to(logits.device)
        return F.cross_entropy(
            logits.float(), y, label_smoothing=float(self.head_cfg.get("label_smoothing", 0.2))
        )

    @torch.no_grad()
    def evaluate(self, model, loader, device, split="test"):
        model.eval()
        scores, labels, preds = [], [], []
        for batch in loader:
            batch = to_device(batch, device)
            logits = model(batch["pose"], batch["frame_mask"]).float().cpu()
            y = self.class_index(batch["raw_labels"], batch["ids"])
            scores.append(logits)
            labels.append(y)
            top = logits.topk(min(5, logits.shape[1]), dim=1).indices
            for sid, t, yy in zip(batch["ids"], top.tolist(), y.tolist()):
                preds.append({"id": sid, "label": self.classes[yy], "top5": [self.classes[i] for i in t]})
        s, y = torch.cat(scores), torch.cat(labels)
        ks = [k for k in (1, 5) if k <= s.shape[1]]
        metrics = topk_accuracy(s, y.numpy(), ks=ks)
        metrics["num_samples"] = len(y)
        for group, members in class_groups(self.data_cfg.get("class_groups")).items():
            rows = np.isin(np.asarray(self.classes)[y.numpy()], sorted(members))
            if rows.any():  # e.g. NMFs-CSL's Confusing / Normal words (Tab. VI)
                sub = topk_accuracy(s[torch.from_numpy(rows)], y.numpy()[rows], ks=ks)
                metrics.update({f"{group}_{k}": v for k, v in sub.items()})
                metrics[f"{group}_num_samples"] = int(rows.sum())
        return metrics, preds

    @torch.no_grad()
    def predict(self, model, pose: np.ndarray, device) -> dict[str, Any]:
        model.eval()
        b = self.single_batch(pose, device)
        prob = model(b["pose"], b["frame_mask"]).float().softmax(-1)[0].cpu()
        p, i = prob.topk(min(5, prob.numel()))
        top = [
            {"label": self.classes[j], "text": self.class_text.get(self.classes[j]), "prob": float(q)}
            for q, j in zip(p.tolist(), i.tolist())
        ]
        return {"top5": top}
