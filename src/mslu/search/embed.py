"""The model side of the index: load a retrieval run, read a clip (pose file or video), embed clips and
sentences in batches, and the pooled vectors of stage 1."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from mslu.extract.pipeline import ExtractConfig, extract_video, make_estimator
from mslu.extract.video import VIDEO_EXTENSIONS
from mslu.pose.io import read_pose
from mslu.pose.mapping import to_sl79
from mslu.pose.normalize import to_frame_units
from mslu.search.store import one_line
from mslu.tasks.retrieval import RetrievalModel, RetrievalTask
from mslu.tasks.run_dir import load_model, model_dir, resolve_device

POSE_SUFFIXES = (".pose", ".json", ".npy", ".npz")


def file_message(path: str | Path, error: BaseException | str) -> str:
    """``"<path>: <problem>"`` on one line (the path is not repeated when the message already names it)."""
    msg = one_line(error) if isinstance(error, str) else one_line(error) or type(error).__name__
    if isinstance(error, BaseException) and not isinstance(error, OSError | ValueError | RuntimeError):
        msg = f"{type(error).__name__}: {msg}"
    return msg if str(path) in msg else f"{path}: {msg}"


def retrieval_model_dir(run: str | Path) -> Path:
    """The model folder of a fine-tuned SL-RT run; one-line errors for anything else."""
    d = model_dir(run)
    try:
        task = json.loads((d / "config.json").read_text(encoding="utf-8")).get("task")
    except (OSError, ValueError) as e:
        raise ValueError(f"{d / 'config.json'}: unreadable run config ({one_line(e)})") from None
    if task != RetrievalTask.name:
        raise ValueError(f"{run}: a {task} run; sign search needs a retrieval (SL-RT) run")
    return d


def load_retrieval_run(run: str | Path, device: str | torch.device = "auto"):
    """(task, model, device) of a fine-tuned SL-RT run, model in eval mode."""
    dev = resolve_device(device)
    d = retrieval_model_dir(run)
    try:
        task, model = load_model(d, dev)
    except RuntimeError as e:  # load_state_dict lists every key: keep the line short
        msg = one_line(e)
        msg = msg if len(msg) <= 200 else msg[:200] + " ..."
        raise ValueError(f"{d}: the saved model does not load into this mslu's model ({msg})") from None
    model.eval()
    return task, model, dev


def describe_embedding(model: RetrievalModel) -> dict[str, Any]:
    """What the index stores for this model: embedding width, psi_FSTS kind and window."""
    sim = model.similarity
    return {
        "dim": int(sim.sign_proj[-1].out_features),
        "similarity": sim.kind,
        "window": int(sim.window),
        "fine_dtype": "float16",
        "pooled": "mean of L2-normalised clip embeddings",
    }


def pool(emb: torch.Tensor, mask: torch.Tensor) -> np.ndarray:
    """Stage-1 vectors (B, d) float32: mean of the L2-normalised embeddings over the valid positions. Their
    inner product is the first-order approximation of psi_FSTS (its row softmax taken as uniform)."""
    w = mask.float().unsqueeze(-1)
    s = F.normalize(emb.float(), dim=-1) * w
    return (s.sum(1) / w.sum(1).clamp(min=1)).cpu().numpy().astype(np.float32)


def unpad(emb: torch.Tensor, mask: torch.Tensor) -> list[np.ndarray]:
    """Per item, its valid rows (n_i, d) float32."""
    e, m = emb.float().cpu().numpy(), mask.cpu().numpy().astype(bool)
    return [e[i][m[i]] for i in range(len(e))]


def embed_clips(task, model, poses: list[np.ndarray], device) -> tuple[list[np.ndarray], np.ndarray]:
    """L2-normalised clip embeddings F_sign (n_i, d) of each pose (psi_FSTS normalises them anyway; unit
    vectors keep float16 storage exact to ~1e-3) and their pooled vectors (B, d), in one forward."""
    sign, mask = task.embed_poses(model, poses, device)
    return unpad(F.normalize(sign.float(), dim=-1), mask), pool(sign, mask)


def embed_sentence(task, model, text: str, device, lang: str = "en") -> tuple[torch.Tensor, torch.Tensor]:
    return task.embed_sentences(model, [text], device, lang)


class VideoPoses:
    """Poses of videos through the default extractor (MediaPipe Holistic), created on first use; when the
    backend is not installed every video fails with the same one-line reason."""

    def __init__(self, cfg: ExtractConfig | None = None):
        self.cfg = cfg or ExtractConfig()
        self._estimator = None
        self._error: str | None = None

    def __call__(self, path: Path):
        if self._error is None and self._estimator is None:
            try:
                self._estimator = make_estimator(self.cfg)
            except ImportError as e:
                self._error = f"videos need the {self.cfg.backend} backend ({one_line(e)}); extract poses " \
                              "first with `mslu extract` and index the .pose files"  # fmt: skip
        if self._error is not None:
            raise ValueError(f"{path}: {self._error}")
        return extract_video(path, self._estimator, self.cfg.max_side)


def is_video(path: Path) -> bool:
    return path.suffix.lower() in VIDEO_EXTENSIONS


def load_clip(
    path: str | Path,
    videos: Callable[[Path], Any] | None = None,
    width: int | None = None,
    height: int | None = None,
) -> tuple[np.ndarray, dict]:
    """(T, 79, 3) frame-unit pose of a pose file (any layout :func:`mslu.pose.io.read_pose` reads) or of a
    video (through ``videos``, default :class:`VideoPoses`), and its metadata (frames, fps, source).
    ``width`` / ``height``: the frame size of pose files that do not record it (MMPose JSON, bare numpy)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    video = is_video(path)
    if video:
        seq = (videos or VideoPoses())(path)
    elif path.suffix.lower() in POSE_SUFFIXES:
        seq = read_pose(path)
    else:
        kinds = f"pose files: {', '.join(POSE_SUFFIXES)}; videos: {', '.join(VIDEO_EXTENSIONS[:5])}, ..."
        raise ValueError(f"{path}: unsupported file type {path.suffix!r} ({kinds})")
    seq.width = seq.width or int(width or 0)
    seq.height = seq.height or int(height or 0)
    if seq.width <= 0 or seq.height <= 0:
        raise ValueError(f"{path}: the file does not record its frame size; pass --width and --height")
    pose = to_frame_units(to_sl79(seq))
    if pose.shape[0] == 0:
        raise ValueError(f"{path}: no frames")
    source = "video" if video else "pose"
    meta = {"frames": int(pose.shape[0]), "fps": float(seq.fps or 0.0), "source": source}
    return pose, meta
