"""The shipped NMFs-CSL and SLR500 configs fine-tune on a fixture release: corpus build with the carved dev
split, fine-tuning, and NMFs-CSL's Confusing / Normal breakdown (Tab. VI)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mslu.data.build import build_corpus
from mslu.pose.io import write_pose
from mslu.pose.layouts import COCO_WHOLEBODY_133
from mslu.pose.sequence import PoseSequence
from mslu.training.finetuner import run_finetune
from mslu.training.run_config import finetune_config


def _release(root, poses, media, signers, classes=3, reps=3):
    root.mkdir(parents=True)
    words = "".join(f"{c:06d}\tw{c}\n" for c in range(classes))
    (root / "dictionary.txt").write_text(words, encoding="utf-8")
    rng = np.random.default_rng(0)
    for c in range(classes):
        for s in signers:
            for r in range(reps):
                stem = f"P{s:02d}_s{r}_00_0_color"
                (root / media / f"{c:06d}").mkdir(parents=True, exist_ok=True)
                (root / media / f"{c:06d}" / f"{stem}.mp4").write_bytes(b"")
                data = rng.uniform(100, 500, (20, 133, 3))
                data[..., 2] = 1.0
                data[:, :, :2] += 40 * c  # classes differ
                seq = PoseSequence(data.astype(np.float32), COCO_WHOLEBODY_133, fps=25, width=640, height=480)
                (poses / f"{c:06d}").mkdir(parents=True, exist_ok=True)
                write_pose(seq, poses / f"{c:06d}" / f"{stem}.pose")


@pytest.mark.parametrize("name, media, signers", [("nmfs_csl", "video", [1, 2, 3, 9]),
                                                  ("slr500", "color", [1, 2, 3, 40])])
def test_shipped_config_fine_tunes(tmp_path, name, media, signers):
    root, poses = tmp_path / "release", tmp_path / "poses"
    _release(root, poses, media, signers)
    recipe = {"name": name, "include_splits": ["train", "dev", "test"], "exclude_benchmark_eval": False,
              "sources": [{"name": name, "root": str(root), "poses": str(poses),
                           "options": {"dev_fraction": 0.3}}]}
    build_corpus(recipe, tmp_path / "corpus")
    splits = {sp: (tmp_path / "corpus/benchmarks" / name / f"{sp}.txt").read_text().split()
              for sp in ("train", "dev", "test")}
    assert all(splits.values()) and not set(splits["dev"]) & set(splits["train"])
    cfg = finetune_config(f"islr/{name}", [
        f"data.corpus={tmp_path / 'corpus'}", "model.preset=tiny", "data.batch_size=4", "optim.epochs=1",
        "run.precision=fp32", "run.device=cpu", "run.progress=false", f"run.out={tmp_path / 'run'}"])
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        metrics = run_finetune(cfg, scratch=True)
    finally:
        torch.set_num_threads(threads)
    assert metrics["test"]["num_samples"] == len(splits["test"])
    if name == "nmfs_csl":  # every fixture class is below 610: all "confusing"
        assert metrics["test"]["confusing_num_samples"] == len(splits["test"])
        assert "confusing_per_instance_top1" in metrics["test"]
        assert "normal_num_samples" not in metrics["test"]
