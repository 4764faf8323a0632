"""psi_SE (Eq. 1): GCN embedding, two streams, padding, bf16 autocast, save/load."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mslu.models.config import PretrainConfig
from mslu.models.embedding import SpatialGraphConv, partitioned_adjacency
from mslu.models.encoder import SignPoseEncoder
from mslu.pose.skeleton import SL79_CENTER, adjacency, hop_distance


def _cfg(**kw):
    cfg = PretrainConfig.preset("tiny").encoder
    for k, v in kw.items():
        setattr(cfg, k, v)
    return cfg


def test_partitions_sum_to_normalized_adjacency():
    uni = partitioned_adjacency("uniform")[0]
    spatial = partitioned_adjacency("spatial")
    assert spatial.shape == (3, 79, 79)
    np.testing.assert_allclose(spatial.sum(0), uni, atol=1e-6)
    np.testing.assert_allclose(uni.sum(0), np.ones(79), atol=1e-5)  # columns normalised
    assert ((uni > 0) == (adjacency() > 0)).all()
    hop = hop_distance()
    # ST-GCN reference convention, entry [j, i] = message from neighbour j to node i:
    # partition 1 = same distance or j farther from the centre, partition 2 = j nearer
    j, i = np.nonzero(spatial[1])
    assert (hop[j, SL79_CENTER] >= hop[i, SL79_CENTER]).all()
    j, i = np.nonzero(spatial[2])
    assert len(j) > 0 and (hop[j, SL79_CENTER] < hop[i, SL79_CENTER]).all()
    assert (np.diag(spatial[0]) > 0).all() and (spatial[0] - np.diag(np.diag(spatial[0])) == 0).all()


def test_graph_conv_matches_loop():
    torch.manual_seed(0)
    a = torch.from_numpy(partitioned_adjacency("spatial"))
    layer = SpatialGraphConv(3, 4, a, edge_importance=True, dropout=0.0)
    with torch.no_grad():
        layer.importance.uniform_(0.5, 1.5)
    x = torch.randn(2, 79, 3)
    got = layer(x)
    w = a * layer.importance
    y = layer.conv(x).view(2, 79, 3, 4)
    ref = torch.zeros(2, 79, 4)
    for node in range(79):  # out[node] = sum_k sum_v y[v, k] * A_k[v, node]
        for k in range(3):
            ref[:, node] += (y[:, :, k, :] * w[k, :, node, None]).sum(1)
    ref = torch.relu(layer.norm(ref) + layer.residual(x))
    torch.testing.assert_close(got, ref, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("kind", ["gcn", "linear"])
def test_encoder_shapes_and_padding_invariance(kind):
    torch.manual_seed(0)
    cfg = _cfg()
    cfg.embedding.kind = kind
    enc = SignPoseEncoder(cfg).eval()
    assert enc.output_dim == 16 + 24
    pose = torch.rand(2, 10, 79, 3)
    fm = torch.ones(2, 10, dtype=torch.bool)
    fm[1, 6:] = False
    out = enc(pose, fm)
    assert out.shape == (2, 10, 40) and torch.isfinite(out).all()
    assert (out[1, 6:] == 0).all()
    pose2 = pose.clone()
    pose2[1, 6:] = 5.0  # padding content must not matter
    torch.testing.assert_close(enc(pose2, fm), out)
    alone = enc(pose[1:, :6], fm[1:, :6])  # nor the amount of padding
    torch.testing.assert_close(alone[0], out[1, :6], atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("streams,dim", [(("manual",), 16), (("non_manual",), 24)])
def test_single_stream(streams, dim):
    enc = SignPoseEncoder(_cfg(streams=streams))
    assert enc.output_dim == dim
    assert enc(torch.rand(1, 4, 79, 3), torch.ones(1, 4, dtype=torch.bool)).shape == (1, 4, dim)
    with pytest.raises(ValueError):
        SignPoseEncoder(_cfg(streams=("hands",)))


def test_streams_use_their_own_keypoints():
    """With the linear embedding, changing face keypoints leaves F_m unchanged."""
    cfg = _cfg()
    cfg.embedding.kind = "linear"
    enc = SignPoseEncoder(cfg).eval()
    pose = torch.rand(1, 5, 79, 3)
    fm = torch.ones(1, 5, dtype=torch.bool)
    pose2 = pose.clone()
    pose2[:, :, 11:37] += 1.0  # non-manual points
    a, b = enc(pose, fm), enc(pose2, fm)
    torch.testing.assert_close(a[..., :16], b[..., :16])
    assert not torch.allclose(a[..., 16:], b[..., 16:])


def test_bf16_autocast_backward():
    enc = SignPoseEncoder(_cfg())
    fm = torch.ones(2, 8, dtype=torch.bool)
    fm[0, 5:] = False
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = enc(torch.rand(2, 8, 79, 3), fm)
    out.float().sum().backward()
    assert all(p.grad is not None for p in enc.parameters())


def test_save_and_load_roundtrip(tmp_path):
    enc = SignPoseEncoder(_cfg(cls_token=True)).eval()
    enc.save_pretrained(tmp_path / "enc")
    assert (tmp_path / "enc" / "model.safetensors").is_file() and (tmp_path / "enc" / "config.json").is_file()
    back = SignPoseEncoder.from_pretrained(tmp_path / "enc").eval()
    assert back.cfg == enc.cfg
    x, fm = torch.rand(1, 6, 79, 3), torch.ones(1, 6, dtype=torch.bool)
    torch.testing.assert_close(back(x, fm), enc(x, fm))
    with pytest.raises(FileNotFoundError):
        SignPoseEncoder.from_pretrained(tmp_path / "missing")


def test_too_long_sequence_is_rejected():
    enc = SignPoseEncoder(_cfg())
    with pytest.raises(ValueError, match="max_frames"):
        enc(torch.rand(1, 65, 79, 3), torch.ones(1, 65, dtype=torch.bool))
