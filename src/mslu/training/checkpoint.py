"""Atomic, checksummed training checkpoints with exact-resume state.

A checkpoint is one ``torch.save`` file written to ``<name>.tmp`` then ``os.replace``-d onto its final
name, so a crash during saving leaves the previous checkpoint intact. Its SHA-256 is written beside it
(``step-N.pt.sha256``, before the rename) and checked on load: a damaged file is refused, and a resume falls
back to the newest checkpoint that verifies. Everything inside is a tensor, number, string, list or dict
(RNG states included), so it loads with ``torch.load(weights_only=True)``.
"""

from __future__ import annotations

import logging
import os
import random
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from mslu.files import sha256_of

CKPT_PATTERN = re.compile(r"^step-(\d+)\.pt$")
log = logging.getLogger(__name__)


class CheckpointError(RuntimeError):
    """A checkpoint is unreadable, damaged, or does not belong to the run resuming from it."""




def checksum_path(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def rng_state() -> dict[str, Any]:
    """Python, NumPy, torch (and CUDA) RNG states in a ``weights_only``-loadable form."""
    py_version, py_state, py_gauss = random.getstate()
    np_name, np_keys, np_pos, np_has_gauss, np_gauss = np.random.get_state()
    state: dict[str, Any] = {
        "python": [py_version, list(py_state), py_gauss],
        "numpy": [np_name, torch.from_numpy(np_keys.astype(np.int64)), int(np_pos), int(np_has_gauss),
                  float(np_gauss)],
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore the states produced by :func:`rng_state`."""
    version, py_state, gauss = state["python"]
    random.setstate((version, tuple(py_state), gauss))
    name, keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((name, keys.numpy().astype(np.uint32), pos, has_gauss, cached))
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_atomic(obj: Any, path: str | Path) -> Path:
    """``torch.save`` to ``path`` via a temporary file and ``os.replace`` (atomic on POSIX)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        torch.save(obj, f)
        f.flush()
        os.fsync(f.fileno())
    side = checksum_path(path)
    side_tmp = side.with_name(side.name + ".tmp")
    side_tmp.write_text(sha256_of(tmp) + "\n")
    os.replace(side_tmp, side)
    os.replace(tmp, path)
    return path


def list_checkpoints(directory: str | Path) -> list[Path]:
    """``step-N.pt`` files in ``directory``, oldest (lowest step) first."""
    directory = Path(directory)
    if not directory.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in directory.iterdir() if (m := CKPT_PATTERN.match(p.name))]
    return [p for _, p in sorted(found)]


def latest_checkpoint(directory: str | Path) -> Path | None:
    """Newest complete checkpoint in ``directory`` or None."""
    ckpts = list_checkpoints(directory)
    return ckpts[-1] if ckpts else None


def save_checkpoint(directory: str | Path, step: int, state: dict[str, Any], keep_last: int = 3) -> Path:
    """Write ``state`` as ``directory/step-<step>.pt`` atomically; keep only the ``keep_last`` newest."""
    path = save_atomic(state, Path(directory) / f"step-{step}.pt")
    if keep_last > 0:
        for old in list_checkpoints(directory)[:-keep_last]:
            old.unlink(missing_ok=True)
            checksum_path(old).unlink(missing_ok=True)
    return path


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Load a checkpoint written by :func:`save_checkpoint` (``weights_only=True``: no unpickling), after
    checking its SHA-256 when one was written beside it."""
    path = Path(path)
    side = checksum_path(path)
    if side.is_file():
        expected = side.read_text().strip()
        if sha256_of(path) != expected:
            raise CheckpointError(f"checkpoint {path} is damaged: its SHA-256 does not match {side.name}")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as e:  # corrupt or foreign file: name it
        raise CheckpointError(f"cannot load checkpoint {path}: {' '.join(str(e).split())[:300]}") from e
    if not isinstance(state, dict):
        raise CheckpointError(f"checkpoint {path} holds {type(state).__name__}, not a training state")
    return state


def load_latest(directory: str | Path, map_location: str | torch.device = "cpu"
                ) -> tuple[Path, dict[str, Any]] | None:
    """The newest checkpoint of ``directory`` that loads and verifies, and its state (None: no checkpoint).
    Damaged newer ones are reported and passed over; if none verifies, the newest one's error is raised."""
    first_error: CheckpointError | None = None
    for path in reversed(list_checkpoints(directory)):
        try:
            return path, load_checkpoint(path, map_location)
        except CheckpointError as e:
            log.warning("%s; trying an older checkpoint", e)
            first_error = first_error or e
    if first_error is not None:
        raise first_error
    return None


def run_differences(saved: dict[str, Any], current: dict[str, Any], keys: Iterable[str]) -> list[str]:
    """``"section.key: saved -> current"`` for each dotted key (``"model"`` compares a whole section)."""
    missing = object()

    def get(cfg: Any, dotted: str) -> Any:
        for part in dotted.split("."):
            if not isinstance(cfg, dict) or part not in cfg:
                return missing
            cfg = cfg[part]
        return cfg

    out = []
    for key in keys:
        a, b = get(saved, key), get(current, key)
        if a is not missing and a != b:
            out.append(f"{key}: {a!r} -> {'(unset)' if b is missing else repr(b)}")
    return out
