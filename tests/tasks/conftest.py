"""Fixtures for the downstream-task tests: tiny synthetic benchmark corpora, a tiny pre-trained encoder and
one short fine-tuning run per task (session-scoped: built once)."""

from __future__ import annotations

import pytest
import torch

from mslu.data.corpus import Corpus, write_corpus
from mslu.data.synth import build_benchmark
from mslu.models import PretrainConfig, SignPoseEncoder

TASK_NAMES = ("islr", "cslr", "slt", "retrieval")
SIZES = {"num_train": 12, "num_dev": 4, "num_test": 4}
HEADS = {
    "islr": {},
    "cslr": {"tcn_hidden": 16, "lstm_hidden": 16, "beam_width": 4},
    "slt": {"d_model": 16, "heads": 2, "ffn_dim": 32, "decode_max_len": 6, "beam_size": 2},
    "retrieval": {"embed_dim": 16},
}


@pytest.fixture(scope="session")
def task_corpora(tmp_path_factory) -> dict[str, Corpus]:
    root = tmp_path_factory.mktemp("task_corpora")
    out = {}
    for kind in TASK_NAMES:
        write_corpus(root / kind, build_benchmark(kind, **SIZES))
        out[kind] = Corpus(root / kind)
    return out


@pytest.fixture(scope="session")
def tiny_encoder_dir(tmp_path_factory):
    torch.manual_seed(0)
    d = tmp_path_factory.mktemp("encoder")
    SignPoseEncoder(PretrainConfig.preset("tiny").encoder).save_pretrained(d)
    return d


def make_config(task: str, corpus_root, **optim) -> dict:
    return {
        "task": task,
        "model": {"preset": "tiny", "head": dict(HEADS[task])},
        "data": {"corpus": str(corpus_root), "batch_size": 4},
        "optim": {"epochs": 2, "max_steps": 4, **optim},
        "run": {"progress": False, "seed": 0},
    }


@pytest.fixture(scope="session")
def task_runs(task_corpora, tiny_encoder_dir, tmp_path_factory) -> dict:
    """``{task: (run_dir, metrics)}`` of a 2-epoch fine-tune from the tiny pre-trained encoder."""
    from mslu.training.finetuner import run_finetune

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    runs = {}
    try:
        for task in TASK_NAMES:
            out = tmp_path_factory.mktemp(f"run_{task}")
            cfg = make_config(task, task_corpora[task].root)
            runs[task] = (out, run_finetune(cfg, out, encoder_dir=tiny_encoder_dir))
    finally:
        torch.set_num_threads(threads)
    return runs


@pytest.fixture(scope="session")
def tiny_config():
    """``tiny_config(task, corpus_root, **optim) -> config dict`` of the short runs."""
    return make_config
