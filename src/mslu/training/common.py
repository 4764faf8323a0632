"""What both trainers share: seeding, the per-step seed of the model's randomness, CSV logs that survive a
resume, the non-finite-loss error, module lookup through wrappers."""

from __future__ import annotations

import csv
import random
from pathlib import Path

import numpy as np
import torch


class NonFiniteLossError(RuntimeError):
    """Raised when a loss is NaN or inf; the message names the step, the last good checkpoint is kept."""


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def step_seed(*key: int) -> int:
    """A 63-bit seed that is a pure function of ``key`` (e.g. ``(seed, rank, step, micro_batch)``)."""
    return int(np.random.SeedSequence([int(k) for k in key]).generate_state(2, np.uint64)[0] >> np.uint64(1))


def find_module(model: torch.nn.Module, cls_name: str) -> torch.nn.Module | None:
    """First submodule whose class is named ``cls_name`` (the model itself, or inside DDP / compile)."""
    for m in model.modules():
        if type(m).__name__ == cls_name:
            return m
    return None


class CSVLogger:
    """Append-only CSV of scalar metrics; the header is fixed by the first row written.

    ``resume_after(key, value)`` drops the rows logged after a checkpoint (``row[key] > value``), so a run
    killed between a checkpoint and its next one and then resumed has each row once.
    """

    def __init__(self, path: Path):
        self.path = Path(path)
        self.fields: list[str] | None = None
        if self.path.exists() and self.path.stat().st_size:
            with open(self.path, newline="") as f:
                self.fields = next(csv.reader(f), None)

    def resume_after(self, key: str, value: float) -> int:
        """Remove rows with ``row[key] > value``; returns how many were removed."""
        if self.fields is None or key not in self.fields:
            return 0
        with open(self.path, newline="") as f:
            rows = list(csv.DictReader(f))
        keep = [r for r in rows if not r[key] or float(r[key]) <= value]
        if len(keep) == len(rows):
            return 0
        tmp = self.path.with_name(self.path.name + ".tmp")
        with open(tmp, "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=self.fields)
            w.writeheader()
            w.writerows(keep)
        tmp.replace(self.path)
        return len(rows) - len(keep)

    def write(self, row: dict[str, float]) -> None:
        new = self.fields is None
        if new:
            self.fields = list(row)
        with open(self.path, "a", newline="") as f:
            w = csv.DictWriter(f, fieldnames=self.fields, extrasaction="ignore")
            if new:
                w.writeheader()
            w.writerow(row)
