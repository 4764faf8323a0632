"""What a model folder is: inspecting a source (run, model or encoder folder), resolving a repo id in the
local Hugging Face cache, one-line errors.

Sources :func:`inspect_source` recognises (``config.json`` decides the kind):

* a fine-tuning run ``RUN`` (``RUN/model/config.json`` has a ``task``; ``RUN/config.yaml``,
  ``RUN/metrics.json``), its ``RUN/model`` folder, or a folder written by :func:`mslu.hub.save_pretrained`;
* a pre-trained encoder folder (``config.json`` with ``model_type: mslu-sign-pose-encoder``, written by
  ``SignPoseEncoder.save_pretrained``), or the pre-training run holding it in ``encoder/``.
"""

from __future__ import annotations

import csv
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ENCODER_MODEL_TYPE = "mslu-sign-pose-encoder"
WEIGHTS = "model.safetensors"
CONFIG = "config.json"
CARD = "README.md"
TRAINING_CONFIG = "training_config.yaml"
METRICS = "metrics.json"
REPO_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9._-]+$")
_TRUE = {"1", "on", "yes", "true"}


class HubError(ValueError):
    """A one-line problem with a model folder, a repo id or the Hub (names the file or repo first)."""


def one_line(e: BaseException) -> str:
    """The first non-empty line of an exception's message (multi-line messages would read as a traceback)."""
    lines = [ln.strip() for ln in str(e).splitlines() if ln.strip()]
    return lines[0] if lines else type(e).__name__


def read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise HubError(f"{path}: not valid JSON ({e.msg} at line {e.lineno})") from None
    except OSError as e:
        raise HubError(f"{path}: cannot be read ({e.strerror or one_line(e)})") from None
    if not isinstance(data, dict):
        raise HubError(f"{path}: expected a JSON object")
    return data


def read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        raise HubError(f"{path}: not valid YAML ({one_line(e)})") from None
    if not isinstance(data, dict):
        raise HubError(f"{path}: expected a YAML mapping")
    return data


@dataclass(frozen=True)
class Source:
    """A model to share: ``kind`` ``"task"`` (fine-tuned ISLR / CSLR / SLT / retrieval) or ``"encoder"``
    (pre-trained psi_SE); ``model_dir`` holds ``config.json`` + ``model.safetensors``; ``run_dir`` the run's
    ``config.yaml`` / ``metrics.json`` (None when not found)."""

    kind: str
    model_dir: Path
    run_dir: Path | None
    meta: dict[str, Any] = field(repr=False)

    @property
    def task(self) -> str | None:
        return self.meta.get("task") if self.kind == "task" else None

    @property
    def encoder_config(self) -> dict[str, Any]:
        return dict(self.meta.get("encoder") or {})

    def run_config(self) -> dict[str, Any] | None:
        """The run's resolved training config (``config.yaml`` / ``training_config.yaml``; for a fine-tuned
        model without them, the copy in ``config.json``)."""
        for d in (self.run_dir, self.model_dir):
            for name in ("config.yaml", TRAINING_CONFIG):
                if d is not None and (d / name).is_file():
                    return read_yaml(d / name)
        return dict(self.meta["config"]) if self.kind == "task" and self.meta.get("config") else None

    def run_config_file(self) -> Path | None:
        for d in (self.run_dir, self.model_dir):
            for name in ("config.yaml", TRAINING_CONFIG):
                if d is not None and (d / name).is_file():
                    return d / name
        return None

    def metrics(self) -> dict[str, Any] | None:
        """``metrics.json`` of a fine-tuning run; for a pre-training run the last row of ``metrics.csv``
        (as ``{"pretrain": {...}}``); None when absent."""
        for d in (self.run_dir, self.model_dir):
            if d is not None and (d / METRICS).is_file():
                return read_json(d / METRICS)
        if self.kind == "encoder" and self.run_dir is not None and (self.run_dir / "metrics.csv").is_file():
            last = _last_csv_row(self.run_dir / "metrics.csv")
            return {"pretrain": last} if last else None
        return None


def _last_csv_row(path: Path) -> dict[str, Any]:
    try:
        with open(path, newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
    except (OSError, csv.Error):
        return {}
    out: dict[str, Any] = {}
    for k, v in (rows[-1] if rows else {}).items():
        try:
            out[k] = float(v)
        except (TypeError, ValueError):
            out[k] = v
    return out


def _kind(cfg_path: Path, meta: dict[str, Any]) -> str:
    if "task" in meta:
        return "task"
    if meta.get("model_type") == ENCODER_MODEL_TYPE or "encoder" in meta:
        return "encoder"
    raise HubError(
        f"{cfg_path}: neither a fine-tuned mslu model (no 'task') nor a pre-trained encoder config"
    )


def inspect_source(path: str | os.PathLike) -> Source:
    """What ``path`` holds (see the module docstring); :class:`HubError` naming the file otherwise."""
    p = Path(path)
    if not p.exists():
        raise HubError(f"{p}: no such directory")
    if not p.is_dir():
        raise HubError(f"{p}: not a directory (expected a run, model or encoder folder)")
    for d in (p, p / "model", p / "encoder"):
        cfg = d / CONFIG
        if not cfg.is_file():
            continue
        meta = read_json(cfg)
        kind = _kind(cfg, meta)
        if not (d / WEIGHTS).is_file():
            raise HubError(f"{d / WEIGHTS}: missing (the weights of {cfg})")
        if kind == "task" and not isinstance(meta.get("encoder"), dict):
            raise HubError(f"{cfg}: no 'encoder' section (not written by mslu finetune)")
        if d != p:
            run: Path | None = p
        elif any((p / f).is_file() for f in (METRICS, TRAINING_CONFIG, "config.yaml")):
            run = p
        elif p.name in ("model", "encoder") and (p.parent / "config.yaml").is_file():
            run = p.parent  # <run>/model of a fine-tuning run, <run>/encoder of a pre-training run
        else:
            run = None
        return Source(kind, d, run, meta)
    raise HubError(f"{p}: no model found ({CONFIG} + {WEIGHTS} in it, in model/ or in encoder/)")


def is_repo_id(name: str) -> bool:
    return bool(REPO_ID.match(str(name)))


def hub_cache_dir() -> Path | None:
    """The Hugging Face hub cache as the environment gives it now (``HF_HUB_CACHE``, else
    ``HF_HOME/hub``); None: huggingface_hub's default. Read at call time, not at import time."""
    for var in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"):
        if os.environ.get(var):
            return Path(os.environ[var]).expanduser()
    if os.environ.get("HF_HOME"):
        return Path(os.environ["HF_HOME"]).expanduser() / "hub"
    return None


def hub_offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in _TRUE


def resolve(
    name_or_path: str | os.PathLike,
    revision: str | None = None,
    cache_dir: str | os.PathLike | None = None,
    local_files_only: bool = True,
) -> Path:
    """A local folder for ``name_or_path``: an existing directory as it is, else a Hub repo id
    (``owner/name``) looked up in the local Hugging Face cache with ``snapshot_download`` (nothing is
    downloaded unless ``local_files_only=False`` and ``HF_HUB_OFFLINE`` is not set)."""
    p = Path(name_or_path).expanduser()
    if p.exists():
        if not p.is_dir():
            raise HubError(f"{p}: not a directory (expected a model folder)")
        return p
    name = str(name_or_path)
    if not is_repo_id(name):
        raise HubError(f"{name}: no such directory, and not a Hub repo id (owner/name)")
    import huggingface_hub

    cache = Path(cache_dir).expanduser() if cache_dir is not None else hub_cache_dir()
    offline = local_files_only or hub_offline()
    try:
        path = huggingface_hub.snapshot_download(
            name,
            revision=revision,
            cache_dir=str(cache) if cache is not None else None,
            local_files_only=offline,
        )
    except Exception as e:  # huggingface_hub raises many kinds (missing cache entry, HTTP, offline)
        where = cache if cache is not None else "the default Hugging Face cache"
        if offline:
            raise HubError(
                f"{name}: not in the local Hugging Face cache ({where}); download it once "
                f"(`hf download {name}`, or local_files_only=False) or pass a local folder"
            ) from None
        raise HubError(f"{name}: cannot be fetched ({type(e).__name__}: {one_line(e)})") from None
    return Path(path)
