import numpy as np
import pytest

from mslu.evaluation import query_ranks, retrieval_metrics


def test_strict_hand_computed():
    sim = np.array([[0.9, 0.1, 0.5], [0.8, 0.7, 0.2], [0.3, 0.6, 0.4]])
    r = retrieval_metrics(sim)
    assert r["t2v_R@1"] == pytest.approx(100 / 3)
    assert r["t2v_R@5"] == 100.0 and r["t2v_R@10"] == 100.0
    assert r["t2v_MedR"] == 2.0 and r["t2v_MeanR"] == pytest.approx(5 / 3)
    assert r["v2t_R@1"] == pytest.approx(200 / 3)
    assert r["v2t_MedR"] == 1.0 and r["v2t_MeanR"] == pytest.approx(4 / 3)


def test_ties_pessimistic_and_optimistic():
    sim = np.ones((2, 2))
    p = retrieval_metrics(sim)
    assert p["t2v_R@1"] == 0.0 and p["t2v_MedR"] == 2.0 and p["v2t_R@1"] == 0.0
    o = retrieval_metrics(sim, ties="optimistic")
    assert o["t2v_R@1"] == 100.0 and o["t2v_MedR"] == 1.0
    # a tie with one of three incorrect items, a strict win over another
    ranks = query_ranks(np.array([[0.5, 0.5, 0.7, 0.1]]), np.array([[True, False, False, False]]))
    assert ranks.tolist() == [2]
    ranks = query_ranks(
        np.array([[0.5, 0.5, 0.7, 0.1]]), np.array([[True, False, False, False]]), ties="optimistic"
    )
    assert ranks.tolist() == [1]


def test_duplicate_sentences():
    sim = np.array([[0.2, 0.1, 0.9], [0.5, 0.4, 0.3], [0.6, 0.7, 0.1]])
    sentences = ["es regnet", "es schneit", "es regnet"]
    t2v = query_ranks(sim, np.array(sentences)[:, None] == np.array(sentences)[None, :])
    assert t2v.tolist() == [0, 1, 1]
    r = retrieval_metrics(sim, sentences)
    assert r["t2v_R@1"] == pytest.approx(100 / 3) and r["t2v_MedR"] == 2.0
    assert r["v2t_R@1"] == pytest.approx(200 / 3) and r["v2t_MeanR"] == pytest.approx(4 / 3)
    s = retrieval_metrics(sim, sentences, match="strict")
    assert s["t2v_R@1"] == 0.0 and s["t2v_MeanR"] == pytest.approx(7 / 3)  # ranks 1, 1, 2
    assert s["v2t_R@1"] == 0.0 and s["v2t_MeanR"] == pytest.approx(8 / 3)  # ranks 2, 1, 2
    assert retrieval_metrics(sim, None) == s


def test_duplicate_sentence_with_identical_text_embedding_is_not_penalised():
    # texts 0 and 1 are the same sentence, so their rows are identical; video 1's text ties with text 0
    sim = np.array([[0.8, 0.8, 0.1], [0.8, 0.8, 0.1], [0.2, 0.3, 0.9]])
    r = retrieval_metrics(sim, ["a", "a", "b"])
    assert r["t2v_R@1"] == 100.0 and r["v2t_R@1"] == 100.0
    assert retrieval_metrics(sim, ["a", "a", "b"], match="strict")["v2t_R@1"] == pytest.approx(100 / 3)


def test_matches_argsort_without_ties():
    rng = np.random.default_rng(0)
    sim = rng.normal(size=(50, 50))
    r = retrieval_metrics(sim, ks=(1, 5, 10))
    order = np.argsort(-sim, axis=1)
    ranks = np.array([np.flatnonzero(order[i] == i)[0] for i in range(50)])
    for k in (1, 5, 10):
        assert r[f"t2v_R@{k}"] == pytest.approx(100 * (ranks < k).mean())
    assert r["t2v_MedR"] == pytest.approx(np.median(ranks + 1))
    assert r["t2v_MeanR"] == pytest.approx(np.mean(ranks + 1))


def test_bad_input():
    with pytest.raises(ValueError, match="square"):
        retrieval_metrics(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="no correct"):
        query_ranks(np.zeros((1, 2)), np.zeros((1, 2), dtype=bool))
    with pytest.raises(ValueError, match="ties"):
        retrieval_metrics(np.zeros((2, 2)), ties="random")
