"""Tiny fine-tuned runs (one per task) and a tiny pre-trained encoder for the sharing tests (built once)."""

from __future__ import annotations

import pytest
import torch

from mslu.data.corpus import Corpus, write_corpus
from mslu.data.synth import build_benchmark
from mslu.models import PretrainConfig, SignPoseEncoder

TASKS = ("islr", "cslr", "slt", "retrieval")
HEADS = {
    "islr": {},
    "cslr": {"tcn_hidden": 16, "lstm_hidden": 16, "beam_width": 4},
    "slt": {"d_model": 16, "heads": 2, "ffn_dim": 32, "decode_max_len": 6, "beam_size": 2},
    "retrieval": {"embed_dim": 16},
}


def build_runs(root, tasks=TASKS) -> dict:
    """``{"encoder": dir, task: (run_dir, Corpus)}``: 2-epoch / 4-step fine-tunes of a tiny encoder."""
    from mslu.training.finetuner import run_finetune

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        torch.manual_seed(0)
        enc = root / "encoder"
        SignPoseEncoder(PretrainConfig.preset("tiny").encoder).save_pretrained(enc)
        out: dict = {"encoder": enc}
        for task in tasks:
            write_corpus(root / f"corpus_{task}", build_benchmark(task, num_train=12, num_dev=4, num_test=4))
            cfg = {
                "task": task,
                "model": {"preset": "tiny", "head": dict(HEADS[task])},
                "data": {"corpus": str(root / f"corpus_{task}"), "batch_size": 4},
                "optim": {"epochs": 2, "max_steps": 4},
                "run": {"progress": False, "seed": 0},
            }
            run_finetune(cfg, root / f"run_{task}", encoder_dir=enc)
            out[task] = (root / f"run_{task}", Corpus(root / f"corpus_{task}"))
    finally:
        torch.set_num_threads(threads)
    return out


@pytest.fixture(scope="session")
def runs(tmp_path_factory) -> dict:
    return build_runs(tmp_path_factory.mktemp("hub_runs"))


@pytest.fixture(scope="session")
def saved(runs, tmp_path_factory) -> dict:
    """``{task: folder}`` written by ``mslu.hub.save_pretrained`` (and ``"encoder"``)."""
    from mslu.hub import save_pretrained

    root = tmp_path_factory.mktemp("hub_saved")
    out = {t: save_pretrained(runs[t][0], root / f"tiny-{t}") for t in TASKS}
    out["encoder"] = save_pretrained(runs["encoder"], root / "tiny-encoder")
    return out


@pytest.fixture(autouse=True)
def _offline_hub(monkeypatch, tmp_path):
    """No test reaches the network or the user's Hugging Face cache / token."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf_home"))
    for var in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"):
        monkeypatch.delenv(var, raising=False)
