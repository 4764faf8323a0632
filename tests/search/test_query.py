"""Two-stage search: text -> signs agrees with the SL-RT evaluation's psi_FSTS ranking, sign -> signs finds
the query clip itself first, ANN and exact candidates give the same answer on a small index."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mslu.search import SignIndex, SignSearcher, build_index, load_clip, sign_sign_similarity


@pytest.fixture(scope="module")
def built(retrieval_run, clip_dir, tmp_path_factory):
    d, texts = clip_dir
    out = tmp_path_factory.mktemp("query") / "idx"
    build_index(retrieval_run, [d], out, progress=False, device="cpu", batch_size=4)
    return SignIndex.open(out), texts


def test_querying_with_a_clip_of_the_index_returns_it_first(built, loaded_run):
    index, _ = built
    searcher = SignSearcher(index, model=loaded_run)
    for row, clip in enumerate(index.clips()):
        hits = searcher.search_file(clip["path"], k=3)
        assert hits[0].id == clip["id"] and hits[0].row == row
        assert hits[0].score == pytest.approx(1.0, abs=2e-3)
        assert [h.rank for h in hits] == [1, 2, 3]
        assert hits[0].score >= hits[1].score >= hits[2].score


def test_text_query_ranks_like_the_retrieval_evaluation(built, loaded_run):
    """With no more clips than candidates the ranking is the paper's: psi_FSTS of the text with every clip,
    as :meth:`RetrievalTask.similarity_matrix` computes it for SL-RT evaluation."""
    index, texts = built
    task, model = loaded_run
    clips = index.clips()
    poses = [load_clip(c["path"])[0] for c in clips]
    sign = task.embed_poses(model, poses, "cpu")
    searcher = SignSearcher(index, model=loaded_run)
    for c in clips[:5]:
        sentence = texts[c["id"]]
        text = task.embed_sentences(model, [sentence], "cpu")
        ref = task.similarity_matrix(model, sign, text)[0].numpy()  # (clips,)
        hits = searcher.search_text(sentence, k=len(clips))
        assert len(hits) == len(clips)
        got = np.array([h.score for h in hits])
        assert np.allclose(got, ref[[h.row for h in hits]], atol=2e-3)  # clip embeddings stored in float16
        assert ref[hits[0].row] >= ref.max() - 2e-3  # the expected clip first (up to float16 ties)


def test_a_clip_with_the_sentences_own_embedding_is_found_first(built, loaded_run, tmp_path):
    """Constructed case: an index whose clip 3 carries the query's projected word embeddings as its clip
    embeddings; psi_FSTS puts it first among clips of random embeddings."""
    task, model = loaded_run
    index, _ = built
    text, mask = task.embed_sentences(model, ["the house is red"], "cpu")
    words = text[0, mask[0]].numpy()
    rng = np.random.default_rng(0)
    fine = [rng.standard_normal((5, words.shape[1])).astype(np.float32) for _ in range(8)]
    fine[3] = words
    pooled = np.stack([(f / np.linalg.norm(f, axis=1, keepdims=True)).mean(0) for f in fine])
    idx = SignIndex.create(tmp_path / "idx", index.run, index.embedding)
    idx.add_shard([{"id": f"c{i}", "path": f"/c{i}", "frames": 20} for i in range(8)], pooled, fine)
    hits = SignSearcher(idx, model=loaded_run).search_text("the house is red", k=3)
    assert hits[0].id == "c3"


def test_ann_candidates_agree_with_exact_on_a_small_index(built, loaded_run):
    pytest.importorskip("usearch")
    index, texts = built
    exact = SignSearcher(index, model=loaded_run, ann="off")
    approx = SignSearcher(index, model=loaded_run, ann="on", candidates=len(index))
    assert approx.uses_ann and not exact.uses_ann
    sentence = next(iter(texts.values()))
    a = [h.id for h in approx.search_text(sentence, k=5)]
    assert a == [h.id for h in exact.search_text(sentence, k=5)]
    assert (index.root / "ann" / "ann.json").is_file()  # built on first use and saved
    path = index.clips()[2]["path"]
    assert approx.search_file(path, 1)[0].id == exact.search_file(path, 1)[0].id


def test_search_checks_its_inputs(built, loaded_run, tmp_path):
    index, _ = built
    searcher = SignSearcher(index, model=loaded_run)
    with pytest.raises(ValueError, match="empty"):
        searcher.search_text("  ")
    with pytest.raises(FileNotFoundError, match="no such file"):
        searcher.search_file(tmp_path / "nothing.pose")
    with pytest.raises(ValueError, match="not a sign index"):
        SignSearcher(tmp_path, model=loaded_run)
    with pytest.raises(ValueError, match="--candidates"):
        SignSearcher(index, model=loaded_run, candidates=0)
    empty = SignIndex.create(tmp_path / "empty", index.run, index.embedding)
    assert SignSearcher(empty, model=loaded_run).search_text("hello") == []


def test_sign_sign_similarity_is_one_for_itself_and_symmetric():
    g = torch.Generator().manual_seed(0)
    a = torch.randn(4, 6, 8, generator=g)
    am = torch.ones(4, 6, dtype=torch.bool)
    am[1, 4:] = False
    s = sign_sign_similarity("fine", a, am, a, am)
    assert torch.allclose(s.diagonal(), torch.ones(4), atol=1e-5)
    assert torch.allclose(s, s.T, atol=1e-6)
    assert (s <= 1 + 1e-5).all()
    assert (s.diagonal()[:, None] >= s - 1e-6).all()
    c = sign_sign_similarity("coarse", a[:, :1], am[:, :1], a[:, :1], am[:, :1])
    assert torch.allclose(c.diagonal(), torch.ones(4), atol=1e-5)
