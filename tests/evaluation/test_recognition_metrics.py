import numpy as np
import pytest
import torch

from mslu.evaluation import topk_accuracy


def test_hand_computed_per_instance_and_per_class():
    # 4 classes; class 0 has 3 instances, class 2 has 1.
    scores = np.array(
        [
            [0.9, 0.1, 0.0, 0.0],  # label 0: top-1 correct
            [0.1, 0.9, 0.0, 0.0],  # label 0: rank 2 -> top-2 correct
            [0.1, 0.2, 0.3, 0.4],  # label 0: rank 4
            [0.0, 0.1, 0.8, 0.1],  # label 2: top-1 correct
        ]
    )
    labels = np.array([0, 0, 0, 2])
    r = topk_accuracy(scores, labels, ks=(1, 2))
    assert r["per_instance_top1"] == pytest.approx(50.0)
    assert r["per_instance_top2"] == pytest.approx(75.0)
    assert r["per_class_top1"] == pytest.approx((100 / 3 + 100) / 2)
    assert r["per_class_top2"] == pytest.approx((200 / 3 + 100) / 2)


def test_matches_torch_topk_without_ties():
    rng = np.random.default_rng(0)
    scores = rng.normal(size=(200, 30))
    labels = rng.integers(0, 30, size=200)
    r = topk_accuracy(torch.from_numpy(scores), torch.from_numpy(labels), ks=(1, 5))
    top5 = torch.from_numpy(scores).topk(5, dim=1).indices.numpy()
    for k in (1, 5):
        hit = (top5[:, :k] == labels[:, None]).any(1)
        assert r[f"per_instance_top{k}"] == pytest.approx(100 * hit.mean())
        per_class = [hit[labels == c].mean() for c in np.unique(labels)]
        assert r[f"per_class_top{k}"] == pytest.approx(100 * np.mean(per_class))


def test_tie_rule():
    scores = np.zeros((2, 3))
    labels = np.array([0, 2])
    assert topk_accuracy(scores, labels, ks=(1, 3))["per_instance_top1"] == 0.0
    assert topk_accuracy(scores, labels, ks=(3,))["per_instance_top3"] == 100.0
    assert topk_accuracy(scores, labels, ks=(1,), ties="optimistic")["per_instance_top1"] == 100.0


def test_bad_input():
    with pytest.raises(ValueError, match="labels must lie"):
        topk_accuracy(np.zeros((2, 3)), np.array([0, 3]))
    with pytest.raises(ValueError, match="shape"):
        topk_accuracy(np.zeros((2, 3)), np.array([0]))
