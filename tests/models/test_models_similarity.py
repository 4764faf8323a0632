"""psi_FSTS (Eq. 4) and the coarse similarity against direct per-pair loops."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

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
