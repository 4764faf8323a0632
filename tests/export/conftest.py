"""Tiny fine-tuned runs (ISLR, retrieval, CSLR, SLT) and a tiny pre-trained encoder for the ONNX tests."""

from __future__ import annotations

import pytest
import torch

from mslu.data.corpus import Corpus, write_corpus
from mslu.data.synth import build_benchmark
from mslu.models import PretrainConfig, SignPoseEncoder

HEADS = {
    "islr": {},
    "cslr": {"tcn_hidden": 16, "lstm_hidden": 16, "beam_width": 4},
    "slt": {"d_model": 16, "heads": 2, "ffn_dim": 32, "decode_max_len": 6, "beam_size": 2},
    "retrieval": {"embed_dim": 16},
}


@pytest.fixture(scope="session")
def runs(tmp_path_factory) -> dict:
    """``{"encoder": dir, task: (run_dir, Corpus)}``: 2-epoch / 4-step fine-tunes of a tiny encoder."""
    from mslu.training.finetuner import run_finetune

    root = tmp_path_factory.mktemp("onnx_runs")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        torch.manual_seed(0)
        SignPoseEncoder(PretrainConfig.preset("tiny").encoder).save_pretrained(root / "encoder")
        out: dict = {"encoder": root / "encoder"}
        for task, head in HEADS.items():
            write_corpus(root / f"corpus_{task}", build_benchmark(task, num_train=12, num_dev=4, num_test=4))
            cfg = {
                "task": task,
                "model": {"preset": "tiny", "head": dict(head)},
                "data": {"corpus": str(root / f"corpus_{task}"), "batch_size": 4},
                "optim": {"epochs": 2, "max_steps": 4},
                "run": {"progress": False, "seed": 0},
            }
            run_finetune(cfg, root / f"run_{task}", encoder_dir=root / "encoder")
            out[task] = (root / f"run_{task}", Corpus(root / f"corpus_{task}"))
    finally:
        torch.set_num_threads(threads)
    return out
