"""mslu.models.kernels: attention functions, the fused-bias linear, selection by device and setting."""

from __future__ import annotations

from contextlib import nullcontext

import pytest
import torch
import torch.nn.functional as F

from mslu.models.kernels import (
    ATTENTION_FUNCTIONS,
    FAST_PATHS,
    FusedLinear,
    attention_function,
    fast_paths_off,
    fine_similarity_function,
    linear,
    use_dense_graph_conv,
    use_fused_linear,
)
from mslu.models.kernels.attention import AttentionCore, eager_attention, padding_bias, sdpa_attention
from mslu.models.kernels.similarity import fine_similarity_autograd, fine_similarity_written


def _qkv(b=3, t=7, h=2, d=8, dtype=torch.float32):
    torch.manual_seed(0)
    qkv = torch.randn(b, t, 3, h, d).to(dtype).requires_grad_()
    q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)  # (B, H, T, d) views, as SelfAttention makes them
    key_mask = torch.ones(b, t, dtype=torch.bool)
    key_mask[1, 5:] = False
    return qkv, (q, k, v), key_mask


@pytest.mark.parametrize("name", sorted(ATTENTION_FUNCTIONS))
def test_attention_functions_match_a_loop_reference(name):
    qkv, (q, k, v), key_mask = _qkv()
    out = ATTENTION_FUNCTIONS[name](q, k, v, key_mask)
    assert out.shape == (3, 7, 2, 8)
    for i in range(3):
        for h in range(2):
            keys = key_mask[i]
            p = (q[i, h] @ k[i, h, keys].T / 8**0.5).softmax(-1)
            torch.testing.assert_close(out[i, :, h], p @ v[i, h, keys], atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_attention_core_backward_matches_autograd(dtype):
    """The hand-written backward gives autograd's gradients of the eager form (padding keys masked)."""
    qkv, (q, k, v), key_mask = _qkv(dtype=dtype)
    g = torch.randn(3, 7, 2 * 8).to(dtype)
    out = AttentionCore.apply(q, k, v, padding_bias(key_mask, 2, k))
    (grad,) = torch.autograd.grad(out, qkv, g)
    ref = eager_attention(q, k, v, key_mask).reshape(3, 7, 16)
    (ref_grad,) = torch.autograd.grad(ref, qkv, g)
    exact = dtype == torch.float32
    torch.testing.assert_close(out, ref, **(dict(atol=0, rtol=0) if exact else dict(atol=2e-2, rtol=2e-2)))
    tol = dict(atol=1e-5, rtol=1e-5) if exact else dict(atol=3e-2, rtol=3e-2)
    torch.testing.assert_close(grad, ref_grad, **tol)
    assert grad[1, 5:].abs().sum() > 0  # padded frames still get query / value gradients
    assert grad.dtype == dtype


def test_attention_dropout_is_applied():
    _, (q, k, v), key_mask = _qkv()
    torch.manual_seed(1)
    for name in ATTENTION_FUNCTIONS:
        a, b = (ATTENTION_FUNCTIONS[name](q, k, v, key_mask, 0.5) for _ in range(2))
        assert not torch.allclose(a, b), name


def test_attention_function_by_name_and_device():
    assert attention_function("cpu_fused") is ATTENTION_FUNCTIONS["cpu_fused"]
    assert attention_function("cpu_fused", "cuda") is sdpa_attention  # a CPU kernel: sdpa elsewhere
    assert attention_function("eager", "cuda") is eager_attention
    with pytest.raises(ValueError, match="unknown attn_impl 'flash'; use one of sdpa, eager, cpu_fused") as e:
        attention_function("flash")
    assert "\n" not in str(e.value)


def test_dense_graph_conv_only_on_cpu_for_narrow_layers():
    assert use_dense_graph_conv("cpu", narrow=True)
    assert not use_dense_graph_conv("cpu", narrow=False)
    assert not use_dense_graph_conv("cuda", narrow=True)
    with fast_paths_off("dense_graph_conv"):
        assert not use_dense_graph_conv("cpu", narrow=True)
    assert use_dense_graph_conv("cpu", narrow=True)


def test_fast_paths_off_nests_restores_and_checks_names():
    with fast_paths_off("fused_linear"):
        assert not FAST_PATHS.fused_linear and FAST_PATHS.dense_graph_conv
        with fast_paths_off("fused_linear", "dense_graph_conv", "similarity_backward"):
            assert not any(vars(FAST_PATHS).values())
        with fast_paths_off():
            assert not FAST_PATHS.fused_linear and FAST_PATHS.dense_graph_conv
        assert not FAST_PATHS.fused_linear and FAST_PATHS.similarity_backward
    assert FAST_PATHS.fused_linear
    with pytest.raises(RuntimeError), fast_paths_off("similarity_backward"):
        raise RuntimeError
    assert FAST_PATHS.similarity_backward
    assert fine_similarity_function() is fine_similarity_written
    with fast_paths_off("similarity_backward"):
        assert fine_similarity_function() is fine_similarity_autograd
    with pytest.raises(ValueError, match="unknown fast paths"), fast_paths_off("fused_gelu"):
        pass


def test_fused_linear_equals_autocast_linear():
    """The fused-bias oneDNN linear gives F.linear's bf16-autocast outputs and gradients (or is F.linear)."""
    torch.manual_seed(0)
    x = torch.randn(3, 7, 16, requires_grad=True)
    w = torch.randn(8, 16, requires_grad=True)
    b = torch.randn(8, requires_grad=True)
    results = []
    for fused in (True, False):
        for t in (x, w, b):
            t.grad = None
        plain = nullcontext() if fused else fast_paths_off("fused_linear")
        with plain, torch.autocast("cpu", dtype=torch.bfloat16):
            assert fused or not use_fused_linear(x, w, b)
            y = linear(x, w, b)
        (y.float() * torch.linspace(-1, 1, 8)).sum().backward()
        results.append([y.detach(), x.grad, w.grad, b.grad])
    for got, ref in zip(*results):
        assert got.dtype == ref.dtype
        torch.testing.assert_close(got, ref, atol=0, rtol=0)
    with torch.no_grad():  # outside autocast / without autograd it is F.linear
        assert not use_fused_linear(x, w, b)
        torch.testing.assert_close(linear(x, w, b), F.linear(x, w, b))


def test_fused_linear_module_is_an_nn_linear_and_runs_its_hooks():
    layer = FusedLinear(4, 3)
    assert isinstance(layer, torch.nn.Linear)
    seen = []
    layer.register_forward_hook(lambda mod, inp, out: seen.append(out.shape))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        y = layer(torch.randn(2, 4))
    assert seen == [(2, 3)] and y.dtype == torch.bfloat16
