"""psi_SE (Eq. 1): GCN embedding, two streams, padding, bf16 autocast, save/load."""

from __future__ import annotations

from contextlib import nullcontext

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


def _embedding_grads(emb, pose, fm, ctx):
    emb.zero_grad()
    with ctx:
        out = emb(pose, fm)
    loss = sum((o * torch.linspace(-1, 1, o.shape[-1])).sum() for o in out.values())
    loss.backward()
    return out, {n: p.grad.clone() for n, p in emb.named_parameters()}


@pytest.mark.parametrize("norm", ["node", "frame"])
@pytest.mark.parametrize("dense_layers", [(True,), (True, False), (False, True)])
def test_dense_graph_conv_equals_factored(dense_layers, norm):
    """The dense per-frame kernel computes the same graph conv (outputs and gradients) as the factored form,
    in any mix of layouts."""
    from contextlib import nullcontext

    from mslu.models.embedding import PoseEmbedding, factored_graph_conv

    torch.manual_seed(0)
    cfg = _cfg().embedding
    cfg.gcn_channels = (6, 6)[: len(dense_layers)]
    cfg.norm = norm
    emb = PoseEmbedding(cfg, ("manual", "non_manual"))
    for layer, dense in zip(emb.gcn, dense_layers):
        layer.dense = dense
        with torch.no_grad():
            layer.importance.uniform_(0.5, 1.5)
    pose = torch.randn(2, 5, 79, 3)
    fm = torch.ones(2, 5, dtype=torch.bool)
    fm[1, 3:] = False
    out, grads = _embedding_grads(emb, pose, fm, nullcontext())
    ref, ref_grads = _embedding_grads(emb, pose, fm, factored_graph_conv())
    for s in out:
        torch.testing.assert_close(out[s], ref[s], atol=1e-5, rtol=1e-5)
    for n in grads:
        torch.testing.assert_close(grads[n], ref_grads[n], atol=1e-4, rtol=1e-4)


def test_narrow_layers_run_dense():
    from mslu.models.embedding import PoseEmbedding

    small = PoseEmbedding(PretrainConfig.preset("small").encoder.embedding, ("manual", "non_manual"))
    paper = PoseEmbedding(PretrainConfig.preset("paper").encoder.embedding, ("manual", "non_manual"))
    assert [layer.dense for layer in small.gcn] == [True]
    assert [layer.dense for layer in paper.gcn] == [True, False, False]  # 3 -> 64 dense, wider factored


def test_cpu_linear_equals_autocast_linear():
    """The fused-bias oneDNN linear gives F.linear's bf16-autocast outputs and gradients (or is F.linear)."""
    from mslu.models.cpu_linear import linear, plain_linear

    torch.manual_seed(0)
    x = torch.randn(3, 7, 16, requires_grad=True)
    w = torch.randn(8, 16, requires_grad=True)
    b = torch.randn(8, requires_grad=True)
    results = []
    for fused in (True, False):
        for t in (x, w, b):
            t.grad = None
        with (nullcontext() if fused else plain_linear()), torch.autocast("cpu", dtype=torch.bfloat16):
            y = linear(x, w, b)
        (y.float() * torch.linspace(-1, 1, 8)).sum().backward()
        results.append([y.detach(), x.grad, w.grad, b.grad])
    for got, ref in zip(*results):
        assert got.dtype == ref.dtype
        torch.testing.assert_close(got, ref, atol=0, rtol=0)
    with torch.no_grad():  # outside autocast / without autograd it is F.linear
        torch.testing.assert_close(linear(x, w, b), torch.nn.functional.linear(x, w, b))


def _encoder_runs(*contexts, bf16: bool):
    """Output and parameter gradients of one tiny encoder on one padded batch, once inside each context."""
    torch.manual_seed(0)
    enc = SignPoseEncoder(_cfg())
    pose, fm = torch.rand(2, 6, 79, 3), torch.ones(2, 6, dtype=torch.bool)
    fm[0, 4:] = False
    res = []
    for ctx in contexts:
        enc.zero_grad()
        with ctx, torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            out = enc(pose, fm)
        out.float().pow(2).sum().backward()
        res.append((out.detach().float(), [p.grad.clone() for p in enc.parameters()]))
    return res


def test_encoder_fused_linear_matches_plain():
    from mslu.models.cpu_linear import plain_linear

    res = _encoder_runs(nullcontext(), plain_linear(), bf16=True)
    torch.testing.assert_close(res[0][0], res[1][0], atol=0, rtol=0)
    for a, b in zip(res[0][1], res[1][1]):
        torch.testing.assert_close(a, b, atol=0, rtol=0)


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_attention_core_matches_autograd(dtype):
    """The hand-written attention backward gives autograd's gradients (padding keys masked)."""
    from mslu.models.cpu_attention import (
        AttentionCore,
        attention_probs,
        merge_heads,
        padding_bias,
        split_heads,
    )

    torch.manual_seed(0)
    b, t, h, d = 3, 7, 2, 8
    qkv = torch.randn(b, t, 3, h, d).to(dtype).requires_grad_()
    pad = torch.zeros(b, t, dtype=torch.bool)
    pad[1, 5:] = True
    bias = padding_bias(pad, b, h, t, dtype)
    g = torch.randn(b, t, h * d).to(dtype)

    out = AttentionCore.apply(qkv, bias)
    (grad,) = torch.autograd.grad(out, qkv, g)
    q, k, v = split_heads(qkv).unbind(0)
    p = attention_probs(q, k, bias, d**-0.5).to(dtype)
    ref = merge_heads(torch.bmm(p, v), b)
    (ref_grad,) = torch.autograd.grad(ref, qkv, g)
    tol = dict(atol=0, rtol=0) if dtype == torch.float32 else dict(atol=2e-2, rtol=2e-2)
    torch.testing.assert_close(out, ref, **tol)
    tol = dict(atol=1e-5, rtol=1e-5) if dtype == torch.float32 else dict(atol=3e-2, rtol=3e-2)
    torch.testing.assert_close(grad, ref_grad, **tol)
    assert grad[1, 5:].abs().sum() > 0  # padded frames still get query / value gradients
    assert grad.dtype == dtype


def test_encoder_attention_core_matches_autograd():
    from mslu.models.cpu_attention import reference_attention

    res = _encoder_runs(nullcontext(), reference_attention(), bf16=False)
    torch.testing.assert_close(res[0][0], res[1][0], atol=0, rtol=0)
    for a, b in zip(res[0][1], res[1][1]):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("residual", ["identity", "linear"])
@pytest.mark.parametrize("dense", [True, False])
def test_frame_norm_matches_reference(residual, dense):
    """norm="frame": statistics over all nodes and channels of a frame, per-channel scale and shift."""
    from mslu.models.embedding import SpatialGraphConv

    torch.manual_seed(0)
    a = torch.from_numpy(partitioned_adjacency("spatial"))
    c_in = 4 if residual == "identity" else 3
    layer = SpatialGraphConv(c_in, 4, a, True, 0.0, norm="frame")
    layer.dense = dense
    with torch.no_grad():
        layer.norm.weight.uniform_(0.5, 1.5)
        layer.norm.bias.uniform_(-0.5, 0.5)
    x = torch.randn(5, 79, c_in)
    out = layer(x)
    y = torch.einsum("nvc,kvw,koc->nwo", x, layer._adjacency(), layer.conv.weight.view(layer.k, 4, c_in))
    y = y + torch.einsum("kvw,ko->wo", layer._adjacency(), layer.conv.bias.view(layer.k, 4))
    mean = y.mean(dim=(1, 2), keepdim=True)
    var = y.var(dim=(1, 2), unbiased=False, keepdim=True)
    y = (y - mean) / torch.sqrt(var + layer.norm.eps) * layer.norm.weight + layer.norm.bias
    res = x if residual == "identity" else layer.residual(x)
    torch.testing.assert_close(out, torch.relu(y + res), atol=1e-5, rtol=1e-5)
    with pytest.raises(ValueError, match="GCN norm"):
        SpatialGraphConv(3, 4, a, True, 0.0, norm="batch")
