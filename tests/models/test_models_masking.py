"""Hierarchical random masking: ratio statistics, levels, padding."""

from __future__ import annotations

import pytest
import torch

from mslu.models.config import MaskConfig
from mslu.models.masking import PARTS, MaskToken, hierarchical_mask, level_probabilities, part_index
from mslu.pose.layouts import SL79


@pytest.mark.parametrize("ratio", [0.2, 0.4, 0.6])
def test_mask_ratio_statistics(ratio):
    g = torch.Generator().manual_seed(0)
    fm = torch.ones(64, 100, dtype=torch.bool)
    fm[:, 80:] = False
    m = hierarchical_mask(fm, MaskConfig(ratio=ratio), generator=g)
    assert m.shape == (64, 100, 79) and m.dtype == torch.bool
    assert not m[:, 80:].any()  # padding never masked
    frac = m[:, :80].float().mean().item()
    assert abs(frac - ratio) < 0.01


def test_mask_levels_present():
    g = torch.Generator().manual_seed(1)
    fm = torch.ones(32, 50, dtype=torch.bool)
    m = hierarchical_mask(fm, MaskConfig(ratio=0.4), generator=g)
    whole_frames = m.all(-1)
    assert whole_frames.float().mean() > 0.05  # frame level: p_f = 1 - 0.6 ** (1/3) ~ 0.157
    partial = m.any(-1) & ~whole_frames
    assert partial.float().mean() > 0.3
    # part level alone: every masked frame is a union of whole parts
    only_parts = hierarchical_mask(fm, MaskConfig(ratio=0.4, frame_weight=0, joint_weight=0), generator=g)
    for name in PARTS:
        idx = list(SL79.groups[name])
        sub = only_parts[..., idx]
        assert (sub.all(-1) | ~sub.any(-1)).all()
    assert abs(only_parts.float().mean().item() - 0.4) < 0.02


def test_level_probabilities_union_equals_ratio():
    p = level_probabilities(MaskConfig(ratio=0.4, frame_weight=1, part_weight=2, joint_weight=3))
    assert abs(1 - (1 - p[0]) * (1 - p[1]) * (1 - p[2]) - 0.4) < 1e-12
    assert p[0] < p[1] < p[2]
    with pytest.raises(ValueError):
        level_probabilities(MaskConfig(ratio=1.0))


def test_zero_ratio_and_part_index():
    fm = torch.ones(2, 3, dtype=torch.bool)
    assert not hierarchical_mask(fm, MaskConfig(ratio=0.0)).any()
    pi = part_index()
    assert pi.shape == (79,) and pi.min() == 0 and pi.max() == len(PARTS) - 1


def test_mask_token_application():
    pose = torch.rand(1, 2, 79, 3) + 1
    m = torch.zeros(1, 2, 79, dtype=torch.bool)
    m[0, 1, 5] = True
    zero = MaskToken(MaskConfig(replace="zero"))(pose, m)
    assert (zero[0, 1, 5] == 0).all() and torch.equal(zero[~m], pose[~m])
    tok = MaskToken(MaskConfig(replace="token"))
    with torch.no_grad():
        tok.token.fill_(7.0)
    assert (tok(pose, m)[0, 1, 5] == 7).all()
