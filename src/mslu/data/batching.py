"""Length-bucketed, distributed-aware, resumable batch sampling and padding collate.

Global batches are formed once per epoch, identically on every rank: the corpus indices are shuffled, cut
into mega-batches of ``mega_batch_factor`` global batches, each mega-batch is sorted by (capped) length and
cut into global batches, and the global batches are shuffled. Rank ``r`` of ``W`` takes ``batch[r::W]`` of
every global batch, so the contrastive global batch is bucketed as a whole and ranks get similar lengths.
The whole order is a pure function of ``(seed, epoch)``, so a run resumes exactly from a batch position.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import torch
from torch.utils.data import Sampler


def _distributed() -> bool:
    return torch.distributed.is_available() and torch.distributed.is_initialized()


def _rank() -> int:
    return torch.distributed.get_rank() if _distributed() else 0


def _world_size() -> int:
    return torch.distributed.get_world_size() if _distributed() else 1


class BucketBatchSampler(Sampler[list[int]]):
    """Yields this rank's list of indices for every global batch of the epoch.

    Args:
        lengths: frames per sample (``corpus.lengths``).
        batch_size: GLOBAL batch size (summed over ranks); must be divisible by ``world_size``.
        seed: base seed; the order is deterministic per ``(seed, epoch)``.
        max_length: lengths are capped at this value before sorting (samples are cropped to it).
        mega_batch_factor: global batches per sorting window (larger: less padding, less randomness).
        drop_last: drop a final incomplete global batch. Otherwise it is kept and, when distributed, padded
            with indices from the start of the epoch to a multiple of ``world_size``.
        shuffle: shuffle indices and batches (False: sorted sequential buckets, for evaluation).
        rank, world_size: this process's slice; default from ``torch.distributed`` (0 / 1 without it).
    """

    def __init__(
        self,
        lengths: Sequence[int] | np.ndarray,
        batch_size: int,
        seed: int = 0,
        max_length: int | None = 256,
        mega_batch_factor: int = 50,
        drop_last: bool = False,
        shuffle: bool = True,
        rank: int | None = None,
        world_size: int | None = None,
    ):
        self.lengths = np.asarray(lengths, dtype=np.int64)
        if max_length is not None:
            self.lengths = np.minimum(self.lengths, max_length)
        self.world_size = _world_size() if world_size is None else int(world_size)
        self.rank = _rank() if rank is None else int(rank)
        if batch_size % self.world_size:
            raise ValueError(f"global batch {batch_size} is not divisible by world size {self.world_size}")
        if len(self.lengths) == 0:
            raise ValueError("cannot sample from an empty corpus")
        self.batch_size = int(batch_size)
        self.seed = int(seed)
        self.mega_batch_factor = max(1, int(mega_batch_factor))
        self.drop_last = drop_last
        self.shuffle = shuffle
        self.epoch = 0
        self.start_batch = 0

    def set_epoch(self, epoch: int, start_batch: int = 0) -> None:
        """Select the epoch (changes the order) and the first global batch to yield (resume)."""
        self.epoch = int(epoch)
        self.start_batch = int(start_batch)

    def global_batches(self, epoch: int | None = None) -> list[np.ndarray]:
        """All global batches of ``epoch`` (indices into the corpus), identical on every rank."""
        epoch = self.epoch if epoch is None else epoch
        n = len(self.lengths)
        rng = np.random.default_rng([self.seed, epoch])
        order = rng.permutation(n) if self.shuffle else np.arange(n)
        mega = self.batch_size * self.mega_batch_factor
        batches: list[np.ndarray] = []
        for start in range(0, n, mega):
            chunk = order[start : start + mega]
            chunk = chunk[np.argsort(-self.lengths[chunk], kind="stable")]
            batches.extend(chunk[i : i + self.batch_size] for i in range(0, len(chunk), self.batch_size))
        full = [b for b in batches if len(b) == self.batch_size]
        partial = [b for b in batches if len(b) < self.batch_size]
        if self.shuffle:
            full = [full[i] for i in rng.permutation(len(full))]
        if partial and not self.drop_last:
            # At most one partial batch per mega-batch; merge them and re-cut, keeping lengths sorted.
            rest = np.concatenate(partial)
            rest = rest[np.argsort(-self.lengths[rest], kind="stable")]
            tail = [rest[i : i + self.batch_size] for i in range(0, len(rest), self.batch_size)]
            last = tail[-1]
            if len(last) % self.world_size:
                pad = self.world_size - len(last) % self.world_size
                tail[-1] = np.concatenate([last, order[:pad]])
            full.extend(tail)
        return full

    def __iter__(self) -> Iterator[list[int]]:
        for batch in self.global_batches()[self.start_batch :]:
            yield batch[self.rank :: self.world_size].tolist()

    def __len__(self) -> int:
        """Global batches left in the current epoch (from ``start_batch``)."""
        return max(0, self.num_batches() - self.start_batch)

    def num_batches(self) -> int:
        """Global batches in one full epoch."""
        n = len(self.lengths)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)


def padding_fraction(lengths: Sequence[int] | np.ndarray, batches: Sequence[Sequence[int]],
                     pad_to_multiple: int = 1) -> float:
    """Fraction of padded frames when every batch is padded to its longest member (rounded up to a multiple
    of ``pad_to_multiple``)."""
    lengths = np.asarray(lengths)
    m = max(1, int(pad_to_multiple))
    real = padded = 0
    for b in batches:
        lb = lengths[np.asarray(b, dtype=np.int64)]
        real += int(lb.sum())
        padded += -(-int(lb.max()) // m) * m * len(lb)
    return 1.0 - real / padded if padded else 0.0


def collate_pose_text(items: Sequence[dict[str, Any]], pad_to_multiple: int = 1) -> dict[str, Any]:
    """Pad a list of dataset items to the batch's longest sequence.

    Items: ``pose`` (T, 79, 3) float32, ``text`` (str or None), ``text_language`` (str or None), ``paired``.
    Returns ``pose`` (B, T, 79, 3) float32, ``frame_mask`` (B, T) bool (True = real frame), ``texts``,
    ``text_langs`` (empty strings for unpaired samples), ``paired`` (B,) bool, ``lengths`` (B,) long and
    ``index`` (B,) long when items carry it.
    """
    lengths = [int(it["pose"].shape[0]) for it in items]
    t_max = max(lengths)
    if pad_to_multiple > 1:
        t_max = -(-t_max // pad_to_multiple) * pad_to_multiple
    k, c = items[0]["pose"].shape[1:]
    pose = torch.zeros(len(items), t_max, k, c, dtype=torch.float32)
    mask = torch.zeros(len(items), t_max, dtype=torch.bool)
    for i, it in enumerate(items):
        pose[i, : lengths[i]] = torch.as_tensor(it["pose"], dtype=torch.float32)
        mask[i, : lengths[i]] = True
    batch: dict[str, Any] = {
        "pose": pose,
        "frame_mask": mask,
        "texts": [it.get("text") or "" for it in items],
        "text_langs": [it.get("text_language") or "" for it in items],
        "paired": torch.tensor([bool(it.get("paired", True)) for it in items], dtype=torch.bool),
        "lengths": torch.tensor(lengths, dtype=torch.long),
    }
    if all("index" in it for it in items):
        batch["index"] = torch.tensor([int(it["index"]) for it in items], dtype=torch.long)
    return batch
