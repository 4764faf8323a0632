"""psi_SE (Eq. 1): GCN embedding, two streams, transformer blocks, attention functions, padding, bf16
autocast, save/load."""

from __future__ import annotations

from contextlib import nullcontext

import numpy as np
import pytest
import torch

from mslu.models.config import PretrainConfig
from mslu.models.embedding import PoseEmbedding, SpatialGraphConv, partitioned_adjacency
from mslu.models.encoder import SignPoseEncoder
from mslu.models.kernels import ATTENTION_FUNCTIONS, fast_paths_off
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
    enc = SignPoseEncoder(_cfg(cls_token=True, attn_impl="cpu_fused")).eval()
    enc.save_pretrained(tmp_path / "enc")
    assert (tmp_path / "enc" / "model.safetensors").is_file() and (tmp_path / "enc" / "config.json").is_file()
    back = SignPoseEncoder.from_pretrained(tmp_path / "enc").eval()
    assert back.cfg == enc.cfg
    x, fm = torch.rand(1, 6, 79, 3), torch.ones(1, 6, dtype=torch.bool)
    torch.testing.assert_close(back(x, fm), enc(x, fm))
    other = SignPoseEncoder.from_pretrained(tmp_path / "enc", attn_impl="eager").eval()
    assert other.cfg.attn_impl == "eager"
    assert other.encoders["manual"].blocks[0].self_attn.attn_impl == "eager"
    torch.testing.assert_close(other(x, fm), enc(x, fm), atol=1e-5, rtol=1e-5)
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
    torch.manual_seed(0)
    cfg = _cfg().embedding
    cfg.gcn_channels = (6, 6)[: len(dense_layers)]
    cfg.norm = norm
    emb = PoseEmbedding(cfg, ("manual", "non_manual"))
    for layer, dense in zip(emb.gcn, dense_layers):
        layer.narrow = dense
        with torch.no_grad():
            layer.importance.uniform_(0.5, 1.5)
    pose = torch.randn(2, 5, 79, 3)
    fm = torch.ones(2, 5, dtype=torch.bool)
    fm[1, 3:] = False
    out, grads = _embedding_grads(emb, pose, fm, nullcontext())
    ref, ref_grads = _embedding_grads(emb, pose, fm, fast_paths_off("dense_graph_conv"))
    for s in out:
        torch.testing.assert_close(out[s], ref[s], atol=1e-5, rtol=1e-5)
    for n in grads:
        torch.testing.assert_close(grads[n], ref_grads[n], atol=1e-4, rtol=1e-4)


def test_narrow_layers_run_dense_on_cpu_only():
    small = PoseEmbedding(PretrainConfig.preset("small").encoder.embedding, ("manual", "non_manual"))
    paper = PoseEmbedding(PretrainConfig.preset("paper").encoder.embedding, ("manual", "non_manual"))
    assert [layer.runs_dense("cpu") for layer in small.gcn] == [True]
    assert [layer.runs_dense("cpu") for layer in paper.gcn] == [True, False, False]  # 3 -> 64 dense only
    assert not any(layer.runs_dense("cuda") for layer in paper.gcn)


def _encoder_runs(*runs, bf16: bool):
    """Output and parameter gradients of one tiny encoder on one padded batch, once per (attn_impl,
    context)."""
    torch.manual_seed(0)
    enc = SignPoseEncoder(_cfg())
    pose, fm = torch.rand(2, 6, 79, 3), torch.ones(2, 6, dtype=torch.bool)
    fm[0, 4:] = False
    weights = torch.randn(2, 6, enc.output_dim)
    res = []
    for attn_impl, ctx in runs:
        _set_attn_impl(enc, attn_impl)
        enc.zero_grad()
        with ctx, torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            out = enc(pose, fm)
        (out.float() * weights).sum().backward()
        res.append((out.detach().float(), [p.grad.clone() for p in enc.parameters()]))
    return res


def _set_attn_impl(enc: SignPoseEncoder, attn_impl: str) -> None:
    for stream in enc.encoders.values():
        for block in stream.blocks:
            block.self_attn.attn_impl = attn_impl


def test_encoder_fused_linear_matches_plain():
    res = _encoder_runs(("sdpa", nullcontext()), ("sdpa", fast_paths_off("fused_linear")), bf16=True)
    torch.testing.assert_close(res[0][0], res[1][0], atol=0, rtol=0)
    for a, b in zip(res[0][1], res[1][1]):
        torch.testing.assert_close(a, b, atol=0, rtol=0)


@pytest.mark.parametrize("attn_impl", ["sdpa", "cpu_fused"])
def test_attention_functions_give_the_eager_encoder(attn_impl):
    """sdpa / cpu_fused / eager: same encoder outputs and gradients (fp32 rounding), padding masked."""
    ref, got = _encoder_runs(("eager", nullcontext()), (attn_impl, nullcontext()), bf16=False)
    torch.testing.assert_close(got[0], ref[0], atol=1e-5, rtol=1e-5)
    for a, b in zip(got[1], ref[1]):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-4)


def test_attn_impl_reaches_every_block(monkeypatch):
    calls = []
    eager = ATTENTION_FUNCTIONS["eager"]

    def spy(*args, **kwargs):
        calls.append(args[0].shape)
        return eager(*args, **kwargs)

    monkeypatch.setitem(ATTENTION_FUNCTIONS, "eager", spy)
    cfg = _cfg(attn_impl="eager", num_blocks=2)
    enc = SignPoseEncoder(cfg)
    enc(torch.rand(1, 5, 79, 3), torch.ones(1, 5, dtype=torch.bool))
    assert len(calls) == 2 * 2  # two blocks in each of the two streams
    calls.clear()
    SignPoseEncoder(_cfg())(torch.rand(1, 5, 79, 3), torch.ones(1, 5, dtype=torch.bool))  # "sdpa"
    assert calls == []
    with pytest.raises(ValueError, match="unknown attn_impl"):
        SignPoseEncoder(_cfg(attn_impl="flash"))


def test_forward_hooks_fire_on_attention_and_ffn_linears():
    enc = SignPoseEncoder(_cfg())
    block = enc.encoders["manual"].blocks[0]
    seen = []
    for name in ("self_attn.qkv", "self_attn.out_proj", "fc1", "fc2"):
        block.get_submodule(name).register_forward_hook(lambda m, i, o, name=name: seen.append(name))
    fm = torch.ones(2, 5, dtype=torch.bool)
    for bf16 in (False, True):  # plain and fused-bias kernels
        seen.clear()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            enc(torch.rand(2, 5, 79, 3), fm).float().sum().backward()
        assert seen == ["self_attn.qkv", "self_attn.out_proj", "fc1", "fc2"]


def test_a_forward_hook_can_change_the_ffn_output():
    """Module swaps / adapters work: a hook's return value replaces fc2's output."""
    enc = SignPoseEncoder(_cfg()).eval()
    x, fm = torch.rand(1, 5, 79, 3), torch.ones(1, 5, dtype=torch.bool)
    ref = enc(x, fm)
    handle = enc.encoders["manual"].blocks[0].fc2.register_forward_hook(lambda m, i, o: o + 1.0)
    changed = enc(x, fm)
    handle.remove()
    assert not torch.allclose(changed[..., :16], ref[..., :16])
    torch.testing.assert_close(changed[..., 16:], ref[..., 16:])  # the other stream is untouched


@pytest.mark.parametrize("residual", ["identity", "linear"])
@pytest.mark.parametrize("dense", [True, False])
def test_frame_norm_matches_reference(residual, dense):
    """norm="frame": statistics over all nodes and channels of a frame, per-channel scale and shift."""
    torch.manual_seed(0)
    a = torch.from_numpy(partitioned_adjacency("spatial"))
    c_in = 4 if residual == "identity" else 3
    layer = SpatialGraphConv(c_in, 4, a, True, 0.0, norm="frame")
    layer.narrow = dense
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
