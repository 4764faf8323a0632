"""A small pose-text corpus whose pose encodes the sentence, a tiny fp32 config and a stand-in text encoder
(importable from spawned DDP workers, which cannot use fixtures)."""

from __future__ import annotations

import hashlib

import numpy as np
import torch

from mslu.data.corpus import Corpus, CorpusWriter
from mslu.data.schema import Sample
from mslu.models import PretrainModel
from mslu.training.pretrainer import PretrainTrainer
from mslu.training.run_config import build_model_config, load_config

WORDS = ["hello", "world", "sign", "language", "good", "morning", "thank", "you", "house", "water",
         "red", "tree"]


def write_toy_corpus(root, n: int = 64, seed: int = 0, classes: int = 12, unpaired_every: int = 10) -> Corpus:
    """Sample i belongs to class i % classes: a class-specific pose template (plus noise) drifting along a
    class-specific direction, and a class-specific sentence, so sign-text retrieval is learnable."""
    rng = np.random.default_rng(seed)
    with CorpusWriter(root) as w:
        for i in range(n):
            c = i % classes
            t = int(rng.integers(16, 48))
            angle = 2 * np.pi * c / classes
            template = np.random.default_rng([99, c]).uniform(0.3, 0.7, size=(1, 79, 2))
            base = template + 0.02 * rng.standard_normal((1, 79, 2))
            steps = np.linspace(0, 1, t)[:, None, None]
            motion = 0.2 * steps * np.array([np.cos(angle), np.sin(angle)])[None, None, :]
            pose = np.empty((t, 79, 3), np.float32)
            pose[..., :2] = np.clip(base + motion + 0.01 * rng.standard_normal((t, 79, 2)), 0, 1)
            pose[..., 2] = 1.0
            paired = unpaired_every <= 0 or i % unpaired_every != unpaired_every - 1
            w.add(Sample(id=f"toy{i:05d}", pose=pose, source="toy", sign_language="ase",
                         text=f"{WORDS[c]} {WORDS[(c * 5 + 1) % len(WORDS)]}" if paired else None,
                         text_language="en" if paired else None, width=640, height=480, paired=paired))
    return Corpus(root)


def tiny_overrides(out, corpus_root, **extra) -> list[str]:
    opts = {
        "model.preset": "tiny", "data.corpus": str(corpus_root), "data.batch_size": 16, "data.max_frames": 64,
        "optim.epochs": 2, "run.out": str(out), "run.precision": "fp32", "run.progress": False,
        "run.tensorboard": False, "run.log_every": 1, "run.checkpoint_every": 1000, "run.device": "cpu",
    }
    opts.update(extra)
    return [f"{k}={v}" for k, v in opts.items()]


class WordTextEncoder(torch.nn.Module):
    """Stand-in for the frozen text encoder (no transformers import): a fixed random vector per word."""

    hidden_size = 32

    def encode(self, texts: list[str], langs: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        rows = [[*t.split(), "<eos>"] for t in texts]
        m = max(len(r) for r in rows)
        feats = torch.zeros(len(rows), m, self.hidden_size)
        mask = torch.zeros(len(rows), m, dtype=torch.bool)
        for i, words in enumerate(rows):
            for j, w in enumerate(words):
                seed = int(hashlib.sha1(w.encode()).hexdigest()[:8], 16)
                feats[i, j] = torch.randn(self.hidden_size, generator=torch.Generator().manual_seed(seed))
                mask[i, j] = True
        return feats, mask




def make_tiny_trainer(out, root, **extra):
    """A PretrainTrainer: tiny model, fp32, CPU, the stand-in text encoder, fixed initial weights."""
    cfg = load_config(None, tiny_overrides(out, root, **extra))
    model_cfg = build_model_config(cfg["model"])
    model_cfg.text.hidden_size = WordTextEncoder.hidden_size
    torch.manual_seed(0)
    model = PretrainModel(model_cfg, text_encoder=WordTextEncoder())
    return PretrainTrainer(cfg, model=model)
