"""A short pre-training on a small pose-text corpus lowers L_PR and L_STC and makes in-batch sign->text
retrieval on held-out pairs far better than chance."""

import csv

import numpy as np
import torch

from mslu.data.batching import collate_pose_text
from mslu.data.pose_text import PoseTextDataset

CLASSES = 12


def _retrieval_r1(model, corpus) -> float:
    """Sign->text R@1 over batches holding one held-out sample per class (unique sentences): chance 1/12."""
    ds = PoseTextDataset(corpus, max_frames=64, random_crop=False)
    model.eval()
    hits = []
    with torch.no_grad():
        for start in range(0, len(ds), CLASSES):
            batch = collate_pose_text([ds[i] for i in range(start, start + CLASSES)])
            batch["mask"] = torch.zeros(batch["pose"].shape[:3], dtype=torch.bool)  # no masking at test time
            sim = model(batch)["similarity"]
            hits.extend((sim.argmax(1) == torch.arange(CLASSES)).tolist())
    return float(np.mean(hits))


def _mean(rows, key):
    return float(np.mean([float(r[key]) for r in rows]))


def test_short_pretraining_learns(tmp_path, corpus_factory, tiny_trainer):
    train = corpus_factory(tmp_path / "train", n=192, seed=1, classes=CLASSES, unpaired_every=16)
    held = corpus_factory(tmp_path / "held", n=3 * CLASSES, seed=2, classes=CLASSES, unpaired_every=0)
    trainer = tiny_trainer(tmp_path / "run", train.root, **{
        "data.batch_size": 32, "optim.epochs": 5, "optim.lr": 3e-3, "optim.weight_decay": 0.01})
    r1_before = _retrieval_r1(trainer.model, held)
    trainer.fit()
    rows = list(csv.DictReader(open(tmp_path / "run" / "metrics.csv")))
    first, last = rows[:5], rows[-5:]
    assert _mean(last, "loss_pr") < 0.8 * _mean(first, "loss_pr")
    assert _mean(last, "loss_stc") < 0.8 * _mean(first, "loss_stc")
    r1 = _retrieval_r1(trainer.model, held)
    print(f"held-out sign->text R@1 before {r1_before:.3f}, after {r1:.3f} (chance {1 / CLASSES:.3f})")
    assert r1 > 3 / CLASSES
