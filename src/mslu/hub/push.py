"""``push_to_hub``: upload a saved folder to a Hugging Face model repo (a thin ``HfApi.upload_folder`` call).

Checked before anything goes on the network: the folder is one written by :func:`mslu.hub.save_pretrained`
(``README.md``, ``config.json``, ``model.safetensors``), the repo id reads ``owner/name``, ``HF_HUB_OFFLINE``
is not set and a token is available (``token=``, ``HF_TOKEN`` or ``hf auth login``). Every failure is one
:class:`~mslu.hub.folder.HubError` line.
"""

from __future__ import annotations

import os
from pathlib import Path

import huggingface_hub

from mslu.hub.folder import CARD, CONFIG, WEIGHTS, HubError, hub_offline, is_repo_id, one_line


def upload_files(folder: str | os.PathLike) -> list[str]:
    """The files :func:`push_to_hub` uploads: every regular file under ``folder`` (relative POSIX paths,
    sorted), hidden files and folders excluded."""
    root = Path(folder)
    out = []
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root)
        if p.is_file() and not p.is_symlink() and not any(part.startswith(".") for part in rel.parts):
            out.append(rel.as_posix())
    return out


def check_folder(folder: str | os.PathLike) -> Path:
    d = Path(folder)
    if not d.is_dir():
        raise HubError(f"{d}: no such directory (write it with `mslu hub save`)")
    for name in (CARD, CONFIG, WEIGHTS):
        if not (d / name).is_file():
            raise HubError(f"{d / name}: missing (not a folder written by `mslu hub save`)")
    return d


def push_to_hub(
    folder: str | os.PathLike,
    repo_id: str,
    token: str | None = None,
    private: bool | None = None,
    commit_message: str | None = None,
    revision: str | None = None,
) -> str:
    """Create ``repo_id`` (if needed) and upload the files of ``folder`` (:func:`upload_files`) in one
    commit; returns the commit URL."""
    d = check_folder(folder)
    if not is_repo_id(repo_id):
        raise HubError(f"{repo_id}: not a Hub repo id (owner/name)")
    if hub_offline():
        raise HubError(f"{repo_id}: cannot push, HF_HUB_OFFLINE is set")
    token = token or huggingface_hub.get_token()
    if not token:
        raise HubError(
            f"{repo_id}: no Hugging Face token (set HF_TOKEN, pass --token or run `hf auth login`)"
        )
    files = upload_files(d)
    try:
        api = huggingface_hub.HfApi(token=token)
        api.create_repo(repo_id, repo_type="model", private=private, exist_ok=True)
        info = api.upload_folder(
            repo_id=repo_id,
            folder_path=str(d),
            repo_type="model",
            revision=revision,
            commit_message=commit_message or f"Upload {d.name} with mslu",
            allow_patterns=files,
        )
    except Exception as e:  # network, authentication, HTTP errors of huggingface_hub
        raise HubError(f"{repo_id}: push failed ({type(e).__name__}: {one_line(e)})") from None
    return str(getattr(info, "commit_url", info))
