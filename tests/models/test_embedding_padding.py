"""The embedding gives the same output whether padding frames are left out (CPU) or embedded and zeroed
(other devices, no host read of the mask)."""

from __future__ import annotations

import torch

import mslu.models.embedding as embedding
from mslu.models import PretrainConfig


def test_both_padding_paths_agree(monkeypatch):
    torch.manual_seed(0)
    enc = PretrainConfig.preset("tiny").encoder
    emb = embedding.PoseEmbedding(enc.embedding, ("manual", "non_manual")).eval()
    pose = torch.rand(3, 9, 79, 3)
    mask = torch.ones(3, 9, dtype=torch.bool)
    mask[1, 5:] = False
    mask[2, 2:] = False
    with torch.no_grad():
        skipped = emb(pose, mask)
        monkeypatch.setattr(embedding, "skips_padding", lambda device_type: False)
        embedded = emb(pose, mask)
    assert skipped.keys() == embedded.keys()
    for s in skipped:
        torch.testing.assert_close(embedded[s], skipped[s], rtol=1e-5, atol=1e-6)
        assert embedded[s][~mask].abs().max() == 0
