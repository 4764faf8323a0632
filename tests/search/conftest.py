"""Fixtures for the sign-search tests: a tiny SL-RT run on the synthetic retrieval benchmark (a few
optimiser steps through the task API, saved as a run directory) and its test clips as pose files."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from mslu.data.corpus import Corpus, write_corpus
from mslu.data.synth import build_benchmark
from mslu.models import PretrainConfig, SignPoseEncoder
from mslu.pose.io import write_pose
from mslu.pose.layouts import SL79
from mslu.pose.sequence import PoseSequence
from mslu.tasks.dataset import split_view
from mslu.tasks.retrieval import RetrievalTask
from mslu.tasks.run_dir import load_model, save_model

WIDTH, HEIGHT = 640, 480


@pytest.fixture(scope="session")
def retrieval_corpus(tmp_path_factory) -> Corpus:
    root = tmp_path_factory.mktemp("search_corpus")
    write_corpus(root, build_benchmark("retrieval", num_train=12, num_dev=2, num_test=10))
    return Corpus(root)


@pytest.fixture(scope="session")
def retrieval_run(retrieval_corpus, tmp_path_factory):
    """A run directory (``<run>/model``) of a 4-step SL-RT fine-tune of a tiny scratch encoder."""
    out = tmp_path_factory.mktemp("search_run")
    cfg = {
        "task": "retrieval",
        "model": {"preset": "tiny", "head": {"embed_dim": 16}},
        "data": {"corpus": str(retrieval_corpus.root), "batch_size": 4, "max_frames": 64},  # tiny: 64
    }
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        torch.manual_seed(0)
        task = RetrievalTask(cfg)
        train = task.dataset(split_view(retrieval_corpus, "train"), train=True)
        task.fit_assets(train)
        model = task.build_model(SignPoseEncoder(PretrainConfig.preset("tiny").encoder))
        opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-3)
        model.train()
        for _, batch in zip(range(4), DataLoader(train, batch_size=4, collate_fn=task.collate)):
            loss = task.loss(model, batch)
            opt.zero_grad()
            loss.backward()
            opt.step()
        save_model(task, model, cfg, out / "model")
    finally:
        torch.set_num_threads(threads)
    return out


@pytest.fixture(scope="session")
def loaded_run(retrieval_run):
    """``(task, model)`` of the run, loaded once (text encoder included)."""
    task, model = load_model(retrieval_run, "cpu")
    model.eval()
    return task, model


def write_clip(pose: np.ndarray, path, fmt: str = "pose") -> None:
    """A frame-unit (T, 79, 3) pose as a pixel-unit SL79 ``.pose`` or ``.npz`` file."""
    px = np.asarray(pose, np.float32) * np.array([WIDTH, HEIGHT, 1.0], np.float32)
    px[pose[..., 2] <= 0] = (np.nan, np.nan, 0.0)
    if fmt == "pose":
        write_pose(PoseSequence(px, SL79, 25.0, WIDTH, HEIGHT), path)
    else:
        np.savez(path, pose=np.nan_to_num(px), width=WIDTH, height=HEIGHT, layout=SL79.name)


@pytest.fixture(scope="session")
def clip_dir(retrieval_corpus, tmp_path_factory):
    """The test split as pose files (half ``.pose``, half ``.npz``, one sub-folder) and ``texts``:
    ``{file name: sentence}``."""
    d = tmp_path_factory.mktemp("clips")
    view = split_view(retrieval_corpus, "test")
    texts = {}
    for i in range(len(view)):
        s = view[i]
        fmt = "pose" if i % 2 == 0 else "npz"
        sub = d / "b" if i >= 6 else d
        sub.mkdir(exist_ok=True)
        name = f"clip{i:02d}.{fmt}"
        write_clip(view.pose(i), sub / name, fmt)
        texts[(sub / name).relative_to(d).as_posix()] = s.text
    return d, texts
