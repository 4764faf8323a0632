"""Tab. XV: a single-stream model sees only its own keypoints end to end (embedding with the GCN or the
linear form, encoder, pose decoder, L_PR, L_STC): changing the other stream's keypoints changes nothing."""

from __future__ import annotations

import pytest
import torch

from mslu.models import PretrainConfig, PretrainModel, SignPoseEncoder
from mslu.pose.layouts import SL79

OTHER = {"manual": "non_manual", "non_manual": "manual"}


def _cfg(stream: str, kind: str) -> PretrainConfig:
    cfg = PretrainConfig.preset("tiny")
    cfg.encoder.streams = (stream,)
    cfg.encoder.embedding.kind = kind
    cfg.text.hidden_size = 8
    return cfg


def _poses(stream: str):
    torch.manual_seed(0)
    pose = torch.rand(2, 6, 79, 3)
    moved = pose.clone()
    moved[:, :, list(SL79.groups[OTHER[stream]])] = torch.rand(2, 6, len(SL79.groups[OTHER[stream]]), 3)
    return pose, moved


@pytest.mark.parametrize("kind", ["gcn", "linear"])
@pytest.mark.parametrize("stream", ["manual", "non_manual"])
def test_encoder_ignores_the_other_stream(stream, kind):
    enc = SignPoseEncoder(_cfg(stream, kind).encoder).eval()
    pose, moved = _poses(stream)
    fm = torch.ones(2, 6, dtype=torch.bool)
    with torch.no_grad():
        torch.testing.assert_close(enc(pose, fm), enc(moved, fm), rtol=0, atol=0)
        both = SignPoseEncoder(PretrainConfig.preset("tiny").encoder).eval()
        assert not torch.equal(both(pose, fm), both(moved, fm))  # the check can fail


@pytest.mark.parametrize("stream", ["manual", "non_manual"])
def test_pretraining_losses_ignore_the_other_stream(stream):
    torch.manual_seed(0)
    model = PretrainModel(_cfg(stream, "gcn"), text_encoder=None).eval()
    pose, moved = _poses(stream)
    fm = torch.ones(2, 6, dtype=torch.bool)
    mask = torch.rand(2, 6, 79) < 0.4
    feats, tmask = torch.randn(2, 3, 8), torch.ones(2, 3, dtype=torch.bool)
    outs = []
    for p in (pose, moved):
        batch = {"pose": p, "frame_mask": fm, "mask": mask, "texts": ["a", "b"], "text_langs": ["en", "en"],
                 "paired": torch.ones(2, dtype=torch.bool), "text_features": feats, "text_mask": tmask}
        with torch.no_grad():
            outs.append(model(batch))
    assert model.decoder.num_keypoints == len(SL79.groups[stream])
    for key in ("loss", "loss_pr", "loss_stc"):
        assert torch.equal(outs[0][key], outs[1][key]), key
