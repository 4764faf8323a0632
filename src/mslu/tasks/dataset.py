"""Downstream data: split views of a corpus, frame sampling and the :class:`DownstreamDataset`.

Splits come either from ``Sample.split`` (synthetic benchmarks, corpora built with all splits) or from the
id lists ``<corpus>/benchmarks/<name>/<split>.txt`` written by :func:`mslu.data.build.build_corpus`.

Frame sampling (paper Sec. IV-B):
- ISLR (``num_frames`` set, 32 in the paper): a random contiguous window of ``num_frames`` frames in training,
  the centre window in testing. Shorter clips are zero-padded (masked, ``short="pad"``, default) or looped
  (``short="repeat"``).
- Other tasks: all frames; longer clips than ``max_frames`` (256) are uniformly subsampled (a crop would cut
  glosses / words away). Optional temporal augmentation in training: random speed change by a factor drawn
  from ``temporal_scale = [lo, hi]`` (resampling the frame indices, as VAC/CorrNet do).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from torch.utils.data import Dataset

from mslu.pose.normalize import normalize_for_model


def split_view(corpus: Any, split: str, benchmark: str | None = None, split_dir: str | Path | None = None):
    """The samples of ``split``: from ``split_dir/<split>.txt`` (or ``<corpus>/benchmarks/<benchmark>/``)
    when given, else ``corpus.filter(split=split)``. Ids listed but absent from the corpus are skipped."""
    if split_dir is None and benchmark:
        split_dir = Path(corpus.root) / "benchmarks" / benchmark
    if split_dir is None:
        view = corpus.filter(split=split)
    else:
        path = Path(split_dir) / f"{split}.txt"
        if not path.is_file():
            raise FileNotFoundError(f"{path}: split list missing (written by `mslu corpus build`)")
        wanted = [ln.strip() for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]
        pos = {sid: i for i, sid in enumerate(corpus.ids)}
        view = corpus.subset([pos[s] for s in wanted if s in pos])
    if len(view) == 0:
        where = f"list {split_dir}/{split}.txt" if split_dir is not None else f"split {split!r}"
        raise ValueError(f"no samples for {where} in corpus {corpus!r}")
    return view


def sample_frame_indices(
    length: int, num_frames: int, train: bool, rng: np.random.Generator | None = None, short: str = "pad"
) -> np.ndarray:
    """ISLR frame indices: a window of ``num_frames`` (random start in training, centred otherwise).

    Clips shorter than ``num_frames`` give all their frames (``short="pad"``: the collate pads and masks)
    or their frames looped to ``num_frames`` (``short="repeat"``).
    """
    if length < 1:
        raise ValueError("empty clip")
    if length < num_frames:
        if short == "repeat":
            return np.arange(num_frames) % length
        if short != "pad":
            raise ValueError(f"short must be 'pad' or 'repeat', got {short!r}")
        return np.arange(length)
    slack = length - num_frames
    start = int(rng.integers(0, slack + 1)) if train and rng is not None else slack // 2
    return np.arange(start, start + num_frames)


def uniform_indices(
    length: int,
    max_frames: int,
    train: bool = False,
    rng: np.random.Generator | None = None,
    temporal_scale: tuple[float, float] | None = None,
) -> np.ndarray:
    """All frames, resampled by a random speed factor (training with ``temporal_scale``) and uniformly
    subsampled to at most ``max_frames``."""
    target = length
    if train and temporal_scale is not None and rng is not None:
        lo, hi = temporal_scale
        target = max(1, int(round(length * rng.uniform(lo, hi))))
    target = min(target, max_frames)
    if target == length:
        return np.arange(length)
    return np.floor(np.arange(target) * (length / target)).astype(np.int64).clip(0, length - 1)


def _column(meta: Any, name: str, n: int) -> list:
    if meta is not None and name in meta.column_names:
        return meta.column(name).to_pylist()
    return [None] * n


class DownstreamDataset(Dataset):
    """Items of a corpus view for a downstream task, normalised with ``normalize_for_model``.

    Items: ``pose`` (T, 79, 3) float32, ``index``, ``id``, ``text``, ``text_language``, ``gloss``, ``label``,
    ``paired``. ``num_frames`` set -> ISLR sampling, else all frames up to ``max_frames``. Random choices
    depend only on ``(seed, epoch, index)``.
    """

    def __init__(
        self,
        corpus: Any,
        train: bool = False,
        num_frames: int | None = None,
        max_frames: int = 256,
        short: str = "pad",
        temporal_scale: tuple[float, float] | list[float] | None = None,
        seed: int = 0,
    ):
        self.corpus = corpus
        self.train = train
        self.num_frames = num_frames
        self.max_frames = int(max_frames)
        self.short = short
        self.temporal_scale = tuple(temporal_scale) if temporal_scale else None
        self.seed = int(seed)
        self.epoch = 0
        n = len(corpus)
        meta = corpus.metadata
        self.ids = [str(x) for x in _column(meta, "id", n)]
        self.texts = _column(meta, "text", n)
        self.text_languages = _column(meta, "text_language", n)
        self.glosses = _column(meta, "gloss", n)
        self.labels = _column(meta, "label", n)
        self.raw_lengths = np.asarray(corpus.lengths, dtype=np.int64)

    @property
    def lengths(self) -> np.ndarray:
        """Frames per item after sampling (upper bound), for length bucketing."""
        if self.num_frames is not None:
            if self.short == "repeat":
                return np.full_like(self.raw_lengths, self.num_frames)
            return np.minimum(self.raw_lengths, self.num_frames)
        return np.minimum(self.raw_lengths, self.max_frames)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return len(self.raw_lengths)

    def frame_indices(self, index: int, length: int) -> np.ndarray:
        rng = np.random.default_rng([self.seed, self.epoch, index]) if self.train else None
        if self.num_frames is not None:
            return sample_frame_indices(length, self.num_frames, self.train, rng, self.short)
        return uniform_indices(length, self.max_frames, self.train, rng, self.temporal_scale)

    def __getitem__(self, index: int) -> dict[str, Any]:
        pose = np.asarray(self.corpus.pose(index))
        pose = pose[self.frame_indices(index, pose.shape[0])]
        try:
            pose = normalize_for_model(pose)
        except Exception as e:
            raise ValueError(f"sample {self.ids[index]!r}: cannot normalise pose: {e}") from e
        return {
            "pose": np.ascontiguousarray(pose, dtype=np.float32),
            "index": index,
            "id": self.ids[index],
            "text": self.texts[index],
            "text_language": self.text_languages[index],
            "gloss": self.glosses[index],
            "label": self.labels[index],
            "paired": bool(self.texts[index]),
        }
