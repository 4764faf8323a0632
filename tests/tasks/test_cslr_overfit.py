"""CSLR regression test: encoder + TCN + BiLSTM + CTC must memorise a tiny batch.

Before the TCN had BatchNorm (as VAC / CorrNet's temporal conv), the head could not separate the
LayerNorm-ed encoder features (large constant per-channel offsets, small temporal variation): CTC stalled
near its all-blank plateau and greedy decoding emitted the same glosses for every clip.
"""

from __future__ import annotations

import pytest
import torch

from mslu.data.corpus import Corpus, write_corpus
from mslu.data.synth import build_benchmark
from mslu.models import PretrainConfig, SignPoseEncoder
from mslu.tasks.cslr import CSLRTask


@pytest.mark.slow
def test_cslr_overfits_tiny_batch(tmp_path):
    torch.manual_seed(0)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        _overfit(tmp_path)
    finally:
        torch.set_num_threads(threads)


def _overfit(tmp_path):
    write_corpus(tmp_path / "c", build_benchmark("cslr", num_train=8, num_dev=1, num_test=1))
    corpus = Corpus(tmp_path / "c")
    head = {"tcn_hidden": 64, "lstm_hidden": 64, "pools": 1, "dropout": 0.0}
    cfg = {"model": {"head": head}, "data": {"max_frames": 64}}
    task = CSLRTask(cfg)
    train = task.dataset(corpus.filter(split="train"), train=False)
    task.fit_assets(train)
    batch = task.collate([train[i] for i in range(len(train))])
    model = task.build_model(SignPoseEncoder(PretrainConfig.preset("tiny").encoder))
    opt = torch.optim.AdamW(model.parameters(), lr=5e-3)
    model.train()
    first = None
    for _ in range(200):
        loss = task.loss(model, batch)
        first = first if first is not None else loss.item()
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
    model.eval()
    with torch.no_grad():
        final = task.loss(model, batch).item()
        _, greedy = task.decode(*model(batch["pose"], batch["frame_mask"]))
    assert final < 0.5 < 10 < first  # the broken head stayed above 2 (CTC plateau)
    exact = sum(g == r for g, r in zip(greedy, batch["gloss"]))
    assert exact >= 7, list(zip(greedy, batch["gloss"]))
