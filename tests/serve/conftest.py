"""Fixtures for the web demo tests: tiny ISLR, GF-SLT and SL-RT runs fine-tuned in-process from a tiny
encoder on the synthetic benchmarks, a sign index of a few synthetic clips, the loaded engine, a test client
and synthetic pose files (so that most tests need no ../shared)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mslu.data.corpus import Corpus, write_corpus
from mslu.data.synth import build_benchmark
from mslu.models import PretrainConfig, SignPoseEncoder
from mslu.pose.io import write_pose
from mslu.pose.layouts import SL79
from mslu.pose.sequence import PoseSequence
from mslu.serve import Engine, build_app
from mslu.tasks.dataset import split_view

WIDTH, HEIGHT = 640, 480
HEADS = {
    "islr": {},
    "slt": {"d_model": 16, "heads": 2, "ffn_dim": 32, "decode_max_len": 6, "beam_size": 2},
    "retrieval": {"embed_dim": 16},
}
# a few steps each; SL-T gets 30 at a high rate so that it says something (not only </s>)
OPTIM = {
    "islr": {"epochs": 1, "max_steps": 2},
    "slt": {"epochs": 100, "max_steps": 30, "lr": 1e-2},
    "retrieval": {"epochs": 1, "max_steps": 2},
}


@pytest.fixture(scope="session")
def serve_corpora(tmp_path_factory) -> dict[str, Corpus]:
    root = tmp_path_factory.mktemp("serve_corpora")
    out = {}
    for task in HEADS:
        write_corpus(root / task, build_benchmark(task, num_train=8, num_dev=2, num_test=6))
        out[task] = Corpus(root / task)
    return out


@pytest.fixture(scope="session")
def serve_runs(serve_corpora, tmp_path_factory) -> dict:
    """``{task: run_dir}`` of tiny fine-tunes (ISLR, GF-SLT, SL-RT)."""
    from mslu.training.finetuner import run_finetune

    enc = tmp_path_factory.mktemp("serve_encoder")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    runs = {}
    try:
        torch.manual_seed(0)
        SignPoseEncoder(PretrainConfig.preset("tiny").encoder).save_pretrained(enc)
        for task in HEADS:
            out = tmp_path_factory.mktemp(f"serve_run_{task}")
            cfg = {
                "task": task,
                "model": {"preset": "tiny", "head": dict(HEADS[task])},
                "data": {"corpus": str(serve_corpora[task].root), "batch_size": 4, "max_frames": 64},
                "optim": dict(OPTIM[task]),
                "run": {"progress": False, "seed": 0},
            }
            run_finetune(cfg, out, encoder_dir=enc)
            runs[task] = out
    finally:
        torch.set_num_threads(threads)
    return runs


def pose_file(pose: np.ndarray, path, fps: float = 25.0) -> None:
    """A frame-unit (T, 79, 3) pose as a pixel-unit SL79 ``.pose`` file."""
    px = np.asarray(pose, np.float32) * np.array([WIDTH, HEIGHT, 1.0], np.float32)
    px[pose[..., 2] <= 0] = (np.nan, np.nan, 0.0)
    write_pose(PoseSequence(px, SL79, fps, WIDTH, HEIGHT), path)


@pytest.fixture(scope="session")
def write_pose_file():
    """``write_pose_file(pose, path)``: see :func:`pose_file`."""
    return pose_file


@pytest.fixture(scope="session")
def synthetic_clips(serve_corpora, tmp_path_factory):
    """The SL-RT test split as ``.pose`` files: (folder, [paths])."""
    d = tmp_path_factory.mktemp("serve_clips")
    view = split_view(serve_corpora["retrieval"], "test")
    paths = []
    for i in range(len(view)):
        p = d / f"clip{i:02d}.pose"
        pose_file(view.pose(i), p)
        paths.append(p)
    return d, paths


@pytest.fixture(scope="session")
def serve_index(serve_runs, synthetic_clips, tmp_path_factory):
    from mslu.search import build_index

    out = tmp_path_factory.mktemp("serve_index") / "idx"
    build_index(serve_runs["retrieval"], [synthetic_clips[0]], out, progress=False, device="cpu")
    return out


@pytest.fixture(scope="session")
def engine(serve_runs, serve_index) -> Engine:
    """The three runs and the index, loaded once (the searcher shares the SL-RT run's model)."""
    runs = [serve_runs["islr"], serve_runs["slt"], serve_runs["retrieval"]]
    return Engine.load(runs, serve_index, device="cpu")


@pytest.fixture
def upload_tmp(tmp_path):
    """Where the app puts its per-upload temporary directories (checked empty afterwards)."""
    d = tmp_path / "uploads"
    d.mkdir()
    return d


@pytest.fixture
def client(engine, upload_tmp):
    from fastapi.testclient import TestClient

    with TestClient(build_app(engine=engine, tmp_dir=upload_tmp), base_url="http://127.0.0.1") as c:
        yield c
