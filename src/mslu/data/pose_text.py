"""Pose-text pairs for pre-training: a torch dataset over a :class:`mslu.data.corpus.Corpus`.

Each item is cropped to at most ``max_frames`` frames -- a random contiguous window in training, the centre
window otherwise -- and normalised with :func:`mslu.pose.normalize.normalize_for_model`. The crop offset is a
pure function of ``(seed, epoch, index)`` (not of a worker's RNG), so the data are identical with any number
of DataLoader workers and after a resume.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from torch.utils.data import Dataset

from mslu.pose.normalize import normalize_for_model


def alpha_subset(n: int, alpha: float, seed: int = 0) -> np.ndarray:
    """Sorted indices of a deterministic ``alpha`` fraction of ``n`` items (data-fraction study, Tab. XIII).

    Subsets are nested: the subset for a smaller alpha is contained in the one for a larger alpha (same seed).
    """
    if not 0.0 < alpha <= 1.0:
        raise ValueError(f"data fraction alpha must be in (0, 1], got {alpha}")
    k = max(1, int(round(alpha * n)))
    perm = np.random.default_rng([seed, 0xA1FA]).permutation(n)
    return np.sort(perm[:k])


def _column(meta: Any, name: str, n: int, default: Any) -> list:
    if meta is not None and name in getattr(meta, "column_names", []):
        return meta.column(name).to_pylist()
    return [default] * n


class PoseTextDataset(Dataset):
    """Pose-text pairs (and unpaired poses) from a corpus, cropped and normalised for the model.

    Items: ``pose`` (T<=max_frames, 79, 3) float32, ``text``, ``text_language``, ``paired``, ``index``.
    """

    def __init__(self, corpus: Any, max_frames: int = 256, random_crop: bool = True, seed: int = 0):
        self.corpus = corpus
        self.max_frames = int(max_frames)
        self.random_crop = random_crop
        self.seed = int(seed)
        self.epoch = 0
        n = len(corpus)
        meta = getattr(corpus, "metadata", None)
        self.texts: list[str | None] = _column(meta, "text", n, None)
        self.text_languages: list[str | None] = _column(meta, "text_language", n, None)
        self.paired: list[bool] = [bool(p) for p in _column(meta, "paired", n, True)]
        self.ids: list[str] = [str(x) for x in _column(meta, "id", n, "")]
        self.raw_lengths = np.asarray(corpus.lengths, dtype=np.int64)

    @property
    def lengths(self) -> np.ndarray:
        """Frames per item after cropping (what the batch sampler buckets on)."""
        return np.minimum(self.raw_lengths, self.max_frames)

    def set_epoch(self, epoch: int) -> None:
        """Change the random crops (call before creating the DataLoader iterator)."""
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return len(self.raw_lengths)

    def crop_start(self, index: int, length: int) -> int:
        """First frame of the window kept for item ``index`` of ``length`` frames."""
        if length <= self.max_frames:
            return 0
        if not self.random_crop:
            return (length - self.max_frames) // 2
        rng = np.random.default_rng([self.seed, self.epoch, index])
        return int(rng.integers(0, length - self.max_frames + 1))

    def __getitem__(self, index: int) -> dict[str, Any]:
        pose = np.asarray(self.corpus.pose(index))
        start = self.crop_start(index, pose.shape[0])
        pose = pose[start : start + self.max_frames]
        try:
            pose = normalize_for_model(pose)
        except Exception as e:
            raise ValueError(f"sample {self.ids[index] or index!r}: cannot normalise pose: {e}") from e
        paired = self.paired[index] and bool(self.texts[index])
        return {
            "pose": np.ascontiguousarray(pose, dtype=np.float32),
            "text": self.texts[index] if paired else None,
            "text_language": self.text_languages[index] if paired else None,
            "paired": paired,
            "index": index,
        }
