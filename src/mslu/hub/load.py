"""``from_pretrained`` / ``encoder_from_pretrained``: a model from a local folder or a Hub repo id.

A repo id (``owner/name``) is looked up in the local Hugging Face cache (``HF_HUB_CACHE``, else
``HF_HOME/hub``, read when called) with ``snapshot_download(..., local_files_only=True)``: nothing is
downloaded unless ``local_files_only=False`` is passed (and ``HF_HUB_OFFLINE`` is not set).
"""

from __future__ import annotations

import os

import torch

from mslu.hub.folder import HubError, inspect_source, one_line, resolve
from mslu.models import SignPoseEncoder
from mslu.tasks.run_dir import load_model, resolve_device


def from_pretrained(
    name_or_path: str | os.PathLike,
    device: str | torch.device = "cpu",
    revision: str | None = None,
    cache_dir: str | os.PathLike | None = None,
    local_files_only: bool = True,
):
    """``(task, model)`` of a fine-tuned model: a folder written by :func:`mslu.hub.save_pretrained`, a
    fine-tuning run directory, or a repo id in the local Hugging Face cache."""
    src = inspect_source(resolve(name_or_path, revision, cache_dir, local_files_only))
    if src.kind != "task":
        raise HubError(
            f"{src.model_dir / 'config.json'}: a pre-trained encoder, not a fine-tuned task model "
            "(use mslu.hub.encoder_from_pretrained)"
        )
    try:
        task, model = load_model(src.model_dir, device)
    except (OSError, ValueError, KeyError, RuntimeError) as e:
        raise HubError(f"{src.model_dir}: cannot load the fine-tuned model ({one_line(e)})") from None
    return task, model.eval()


def encoder_from_pretrained(
    name_or_path: str | os.PathLike,
    device: str | torch.device = "cpu",
    revision: str | None = None,
    cache_dir: str | os.PathLike | None = None,
    local_files_only: bool = True,
) -> SignPoseEncoder:
    """The sign pose encoder psi_SE of a pre-trained encoder folder, or the fine-tuned encoder of a task
    model folder (both: local path or repo id in the local Hugging Face cache)."""
    src = inspect_source(resolve(name_or_path, revision, cache_dir, local_files_only))
    try:
        if src.kind == "task":
            return load_model(src.model_dir, device)[1].encoder.eval()
        return SignPoseEncoder.from_pretrained(src.model_dir).to(resolve_device(device)).eval()
    except (OSError, ValueError, KeyError, RuntimeError) as e:
        raise HubError(f"{src.model_dir}: cannot load the encoder ({one_line(e)})") from None
