import numpy as np
import pytest
import torch

from mslu.data.batching import BucketBatchSampler, collate_pose_text, padding_fraction


def _lengths(n=1000, seed=0):
    return np.random.default_rng(seed).integers(20, 400, size=n)


def test_every_index_once_and_deterministic():
    lengths = _lengths(1003)
    s = BucketBatchSampler(lengths, batch_size=32, seed=5, rank=0, world_size=1)
    s.set_epoch(3)
    batches = list(s)
    flat = sorted(i for b in batches for i in b)
    assert flat == list(range(1003))
    assert len(batches) == s.num_batches() == 32
    assert batches == list(s)  # same (seed, epoch) -> same order
    s.set_epoch(4)
    assert list(s) != batches
    s2 = BucketBatchSampler(lengths, batch_size=32, seed=5, rank=0, world_size=1)
    s2.set_epoch(3)
    assert list(s2) == batches


def test_bucketing_reduces_padding():
    lengths = _lengths(4096)
    s = BucketBatchSampler(lengths, batch_size=64, seed=0, max_length=256, rank=0, world_size=1)
    bucketed = padding_fraction(s.lengths, list(s))
    rng = np.random.default_rng(0)
    random_batches = np.array_split(rng.permutation(4096), 64)
    unbucketed = padding_fraction(s.lengths, random_batches)
    assert bucketed < 0.05 < unbucketed


def test_padding_fraction_hand_computed():
    assert padding_fraction([2, 4, 3, 3], [[0, 1], [2, 3]]) == pytest.approx(1 - 12 / 14)
    assert padding_fraction([2, 4, 3, 3], [[0, 1], [2, 3]], pad_to_multiple=4) == pytest.approx(1 - 12 / 16)


def test_distributed_slices_disjoint_and_complete():
    lengths = _lengths(1000)
    world = 4
    per_rank = []
    for r in range(world):
        s = BucketBatchSampler(lengths, batch_size=64, seed=1, rank=r, world_size=world)
        s.set_epoch(2)
        per_rank.append(list(s))
    ref = BucketBatchSampler(lengths, batch_size=64, seed=1, rank=0, world_size=1)
    ref.set_epoch(2)
    globals_ = ref.global_batches()
    assert all(len(p) == len(globals_) for p in per_rank)
    for k, gb in enumerate(globals_):
        parts = [per_rank[r][k] for r in range(world)]
        assert len({len(p) for p in parts}) == 1  # equal local batches (all-gather needs it)
        merged = sorted(i for p in parts for i in p)
        if k < len(globals_) - 1:
            assert merged == sorted(gb.tolist())  # disjoint slices that make up the global batch
    # full epoch covered, no index twice except the padding of the last batch
    all_idx = [i for p in per_rank for b in p for i in b]
    assert set(all_idx) == set(range(1000))
    assert len(all_idx) - 1000 < world


def test_resume_from_position():
    s = BucketBatchSampler(_lengths(500), batch_size=16, seed=2, rank=0, world_size=1)
    s.set_epoch(1)
    full = list(s)
    s.set_epoch(1, start_batch=7)
    assert list(s) == full[7:]
    assert len(s) == len(full) - 7


def test_batch_not_divisible_by_world_raises():
    with pytest.raises(ValueError, match="divisible"):
        BucketBatchSampler(_lengths(10), batch_size=10, rank=0, world_size=4)


def test_collate_pads_and_masks():
    items = [
        {"pose": np.ones((3, 79, 3), np.float32), "text": "a", "text_language": "en", "paired": True,
         "index": 4},
        {"pose": np.full((5, 79, 3), 2, np.float32), "text": None, "text_language": None, "paired": False,
         "index": 9},
    ]
    b = collate_pose_text(items)
    assert b["pose"].shape == (2, 5, 79, 3)
    assert b["frame_mask"].tolist() == [[True] * 3 + [False] * 2, [True] * 5]
    assert torch.all(b["pose"][0, 3:] == 0) and torch.all(b["pose"][0, :3] == 1)
    assert b["texts"] == ["a", ""] and b["text_langs"] == ["en", ""]
    assert b["paired"].tolist() == [True, False]
    assert b["index"].tolist() == [4, 9]
    assert collate_pose_text(items, pad_to_multiple=4)["pose"].shape[1] == 8
