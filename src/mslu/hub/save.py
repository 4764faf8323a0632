"""``save_pretrained``: a self-contained folder for a fine-tuned task model or a pre-trained encoder.

Fine-tuned (ISLR / CSLR / SLT / retrieval): ``config.json`` and ``model.safetensors`` as the run wrote them
(``mslu.tasks.run_dir.load_model`` reads the folder as it is), the task assets re-written by the loaded task
(``classes.json``, ``gloss_vocab.json``, ``tokenizer.json`` / ``tokenizer/`` + ``tokenizer_meta.json`` +
``language.txt``, ``texts.json``), ``metrics.json``, ``training_config.yaml`` (the run's resolved config) and
``README.md`` (the model card). Encoder: ``config.json``, ``model.safetensors``, ``similarity.*`` when the
pre-training exported psi_FSTS, ``training_config.yaml`` when the pre-training run is known, ``README.md``.

The folder is built in a temporary sibling and renamed into place, so a failed save leaves nothing behind.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import yaml

from mslu.hub.card import model_card
from mslu.hub.folder import (
    CARD,
    CONFIG,
    METRICS,
    TRAINING_CONFIG,
    WEIGHTS,
    HubError,
    Source,
    inspect_source,
    one_line,
)
from mslu.models import SignPoseEncoder
from mslu.tasks.run_dir import load_model

ENCODER_FILES = (CONFIG, WEIGHTS, "similarity.safetensors", "similarity.json")


def _is_saved_folder(d: Path) -> bool:
    return (d / CARD).is_file() and (d / CONFIG).is_file()


def _check_out(out: Path, src: Source, overwrite: bool) -> None:
    resolved = out.resolve()
    for d in (src.model_dir, src.run_dir):
        if d is not None and resolved == d.resolve():
            raise HubError(f"{out}: is the source folder itself; choose another output folder")
    if out.exists():
        if not out.is_dir():
            raise HubError(f"{out}: exists and is not a directory")
        if any(out.iterdir()):
            if not overwrite:
                raise HubError(f"{out}: exists and is not empty (overwrite=True / --overwrite replaces it)")
            if not _is_saved_folder(out):
                raise HubError(f"{out}: not a folder written by save_pretrained; refusing to replace it")


def _write_task(src: Source, tmp: Path) -> None:
    try:
        task, _ = load_model(src.model_dir, "cpu")  # checks that the folder loads before sharing it
    except (OSError, ValueError, KeyError, RuntimeError) as e:
        raise HubError(f"{src.model_dir}: cannot load the fine-tuned model ({one_line(e)})") from None
    shutil.copy2(src.model_dir / CONFIG, tmp / CONFIG)
    shutil.copy2(src.model_dir / WEIGHTS, tmp / WEIGHTS)
    task.save_assets(tmp)
    for d in (src.run_dir, src.model_dir):
        if d is not None and (d / METRICS).is_file():
            shutil.copy2(d / METRICS, tmp / METRICS)
            break


def _write_encoder(src: Source, tmp: Path) -> None:
    try:
        SignPoseEncoder.from_pretrained(src.model_dir)
    except (OSError, ValueError, KeyError, RuntimeError) as e:
        raise HubError(f"{src.model_dir}: cannot load the encoder ({one_line(e)})") from None
    for name in ENCODER_FILES:
        if (src.model_dir / name).is_file():
            shutil.copy2(src.model_dir / name, tmp / name)


def save_pretrained(
    source: str | os.PathLike,
    out_dir: str | os.PathLike,
    corpus: Any = None,
    name: str | None = None,
    license: str | None = None,
    repo_id: str | None = None,
    overwrite: bool = False,
) -> Path:
    """Write the shareable folder of ``source`` (a fine-tuning run, its ``model/``, a pre-trained encoder
    folder or a pre-training run) to ``out_dir`` and return it. ``corpus`` (``Corpus`` or path) replaces
    the run config's corpus for the card's statistics; ``name`` is the card title (default: the folder
    name), ``license`` a license id for the front matter, ``repo_id`` the Hub repo named in the usage
    example. ``overwrite`` replaces an existing folder written by this function."""
    src = inspect_source(source)
    out = Path(out_dir)
    _check_out(out, src, overwrite)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        if src.kind == "task":
            _write_task(src, tmp)
        else:
            _write_encoder(src, tmp)
        cfg_file = src.run_config_file()
        if cfg_file is not None:
            shutil.copy2(cfg_file, tmp / TRAINING_CONFIG)
        elif src.run_config():
            (tmp / TRAINING_CONFIG).write_text(
                yaml.safe_dump(src.run_config(), sort_keys=False, allow_unicode=True), encoding="utf-8"
            )
        card = model_card(src, corpus=corpus, name=name or out.name, license=license, repo_id=repo_id)
        (tmp / CARD).write_text(card, encoding="utf-8")
        if out.exists():
            shutil.rmtree(out)
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out
