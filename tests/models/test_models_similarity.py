"""psi_FSTS (Eq. 4) and the coarse similarity against direct per-pair loops."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from mslu.models.kernels import fast_paths_off
from mslu.models.similarity import coarse_similarity, fine_similarity, window_pool


def _lengths_mask(lengths, t):
    return torch.arange(t)[None, :] < torch.tensor(lengths)[:, None]


def test_window_pool_matches_loop():
    torch.manual_seed(0)
    f = torch.randn(3, 10, 5)
    fm = _lengths_mask([10, 7, 1], 10)
    pooled, pm = window_pool(f, fm, 4)
    assert pooled.shape == (3, 3, 5)
    for b, n_valid in enumerate([10, 7, 1]):
        n = math.ceil(n_valid / 4)
        assert pm[b].tolist() == [k < n for k in range(3)]
        for k in range(n):
            ref = f[b, k * 4 : min((k + 1) * 4, n_valid)].mean(0)
            torch.testing.assert_close(pooled[b, k], ref)


def _pair_reference(sign, sm, text, tm):
    """m_ij for one pair, written out step by step."""
    s = [F.normalize(v, dim=0) for v, ok in zip(sign, sm) if ok]
    w = [F.normalize(v, dim=0) for v, ok in zip(text, tm) if ok]
    row_sums = []
    for a in s:
        z = torch.stack([a @ b for b in w])
        soft = torch.exp(z) / torch.exp(z).sum()
        row_sums.append(sum(soft[k] * z[k] for k in range(len(w))))
    return sum(row_sums) / len(row_sums)


def test_fine_similarity_matches_double_loop():
    torch.manual_seed(1)
    b1, b2, n, m, d = 4, 3, 5, 6, 8
    sign, text = torch.randn(b1, n, d), torch.randn(b2, m, d)
    sm, tm = _lengths_mask([5, 3, 1, 4], n), _lengths_mask([6, 2, 4], m)
    got = fine_similarity(sign, sm, text, tm)
    assert got.shape == (b1, b2)
    for i in range(b1):
        for j in range(b2):
            torch.testing.assert_close(got[i, j], _pair_reference(sign[i], sm[i], text[j], tm[j]))
    torch.testing.assert_close(fine_similarity(sign, sm, text, tm, chunk=2), got)
    # padding content is ignored
    sign2, text2 = sign.clone(), text.clone()
    sign2[~sm] = 100.0
    text2[~tm] = -50.0
    torch.testing.assert_close(fine_similarity(sign2, sm, text2, tm), got)


def test_fine_similarity_under_bf16_autocast_is_float32():
    sign, text = torch.randn(2, 3, 4), torch.randn(2, 5, 4)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = fine_similarity(
            sign, torch.ones(2, 3, dtype=torch.bool), text, torch.ones(2, 5, dtype=torch.bool)
        )
    assert out.dtype == torch.float32


def test_coarse_similarity_is_cosine():
    a, b = torch.randn(3, 4), torch.randn(2, 4)
    got = coarse_similarity(a, b)
    for i in range(3):
        for j in range(2):
            torch.testing.assert_close(got[i, j], F.cosine_similarity(a[i], b[j], dim=0))


def _grads(fn, sign, text):
    s, t = sign.clone().requires_grad_(), text.clone().requires_grad_()
    m = fn(s, t)
    loss = (m * torch.linspace(-1, 2, m.numel()).view_as(m)).sum()  # every m_ij gets its own weight
    loss.backward()
    return m.detach(), s.grad, t.grad


def test_fine_similarity_backward_matches_autograd_of_loop_reference():
    torch.manual_seed(2)
    b1, b2, n, m, d = 3, 4, 4, 5, 6
    sign, text = torch.randn(b1, n, d), torch.randn(b2, m, d)
    sm, tm = _lengths_mask([4, 2, 1], n), _lengths_mask([5, 1, 3, 2], m)

    def loop(s, t):
        return torch.stack(
            [torch.stack([_pair_reference(s[i], sm[i], t[j], tm[j]) for j in range(b2)]) for i in range(b1)]
        )

    ref = _grads(loop, sign, text)
    for chunk in (0, 3):
        got = _grads(lambda s, t, c=chunk: fine_similarity(s, sm, t, tm, chunk=c), sign, text)
        for g, r in zip(got, ref):
            torch.testing.assert_close(g, r, rtol=1e-5, atol=1e-6)
    with fast_paths_off("similarity_backward"):  # the step-by-step reference used by the benchmarks
        got = _grads(lambda s, t: fine_similarity(s, sm, t, tm), sign, text)
    for g, r in zip(got, ref):
        torch.testing.assert_close(g, r, rtol=1e-5, atol=1e-6)


def test_fine_similarity_text_without_words_gives_zero_and_finite_grads():
    sign, text = torch.randn(2, 3, 4), torch.randn(2, 5, 4)
    tm = _lengths_mask([5, 0], 5)
    m, gs, gt = _grads(lambda s, t: fine_similarity(s, torch.ones(2, 3, dtype=torch.bool), t, tm), sign, text)
    assert torch.all(m[:, 1] == 0)
    assert torch.isfinite(gs).all() and torch.isfinite(gt).all()
    assert torch.all(gt[1] == 0)


def test_fine_similarity_bf16_matmuls_stay_close_to_float32():
    """Under bf16 autocast the three matmuls take bf16 inputs (float32 accumulation, float32 softmax):
    m_ij within 1e-3 and gradients within 2% of the float32 computation."""
    torch.manual_seed(3)
    b, n, m, d = 8, 7, 6, 64
    sign, text = torch.randn(b, n, d), torch.randn(b, m, d)
    text[:, :3] += sign[:, :3]  # matching pairs: a spread of similarities like a trained model's
    sm, tm = _lengths_mask([7, 5, 3, 7, 2, 6, 7, 1], n), _lengths_mask([6, 4, 2, 6, 5, 3, 1, 6], m)
    ref = _grads(lambda s, t: fine_similarity(s, sm, t, tm), sign, text)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        got = _grads(lambda s, t: fine_similarity(s, sm, t, tm), sign, text)
        exact = _grads(lambda s, t: fine_similarity(s, sm, t, tm, matmul="float32"), sign, text)
    assert got[0].dtype == torch.float32
    assert 0 < (got[0] - ref[0]).abs().max() < 1e-3
    for g, r in zip(got[1:], ref[1:]):
        assert (g - r).norm() / r.norm() < 0.02
    for g, r in zip(exact, ref):
        torch.testing.assert_close(g, r)
