"""Each ablation of Tables XII-XIX is one config value of the pre-training run config, and each reaches the
model or the trainer (every check fails if the value is ignored)."""

from __future__ import annotations

import pytest
import torch

from mslu.configs.schema import ConfigError
from mslu.pose.layouts import SL79
from mslu.training.run_config import load_config


def _batch(trainer, n=8):
    items = [trainer.dataset[i] for i in range(n)]
    batch = trainer.collate(items)
    return trainer._to_device(batch)


def _out(trainer, batch, seed=0):
    torch.manual_seed(seed)
    trainer.model.eval()
    with torch.no_grad():
        return trainer.model(batch)


def test_xii_lambda(tmp_path, toy_corpus, tiny_trainer):
    t = tiny_trainer(tmp_path, toy_corpus.root, **{"model.loss.lambda_stc": 0.25})
    out = _out(t, _batch(t))
    assert t.model.cfg.loss.lambda_stc == 0.25
    torch.testing.assert_close(out["loss"], out["loss_pr"] + 0.25 * out["loss_stc"])


def test_xiii_alpha_is_a_nested_subset(tmp_path, toy_corpus, tiny_trainer):
    sizes = {a: len(tiny_trainer(tmp_path / str(a), toy_corpus.root, **{"data.alpha": a}).dataset)
             for a in (0.25, 0.5, 1.0)}
    assert sizes == {0.25: 16, 0.5: 32, 1.0: 64}
    small = tiny_trainer(tmp_path / "s", toy_corpus.root, **{"data.alpha": 0.25}).dataset.ids
    large = tiny_trainer(tmp_path / "l", toy_corpus.root, **{"data.alpha": 0.5}).dataset.ids
    assert set(small) < set(large)
    with pytest.raises(ConfigError, match="model: PretrainConfig: unknown keys \\['data_fraction'\\]"):
        load_config(None, ["model.data_fraction=0.25"])


@pytest.mark.parametrize("off", ["use_pr", "use_stc"])
def test_xiv_objectives(tmp_path, toy_corpus, tiny_trainer, off):
    t = tiny_trainer(tmp_path, toy_corpus.root, **{f"model.loss.{off}": False})
    out = _out(t, _batch(t))
    if off == "use_pr":
        assert t.model.decoder is None and out["loss_pr"] == 0 and out["loss"] == out["loss_stc"]
    else:
        assert t.model.similarity is None and out["loss_stc"] == 0 and out["loss"] == out["loss_pr"]


@pytest.mark.parametrize("stream", ["manual", "non_manual"])
def test_xv_streams(tmp_path, toy_corpus, tiny_trainer, stream):
    t = tiny_trainer(tmp_path, toy_corpus.root, **{"model.encoder.streams": f"[{stream}]"})
    assert t.model.encoder.streams == (stream,)
    assert t.model.encoder.output_dim == getattr(t.model.cfg.encoder, stream).width
    assert t.model.decoder.num_keypoints == len(SL79.groups[stream])


def test_xvi_window(tmp_path, toy_corpus, tiny_trainer):
    outs = {}
    for s in (1, 4):
        t = tiny_trainer(tmp_path / str(s), toy_corpus.root, **{"model.loss.window": s})
        assert t.model.similarity.window == s
        outs[s] = _out(t, _batch(t))["loss_stc"]
    assert outs[1] != outs[4]


def test_xvii_mask_ratio(tmp_path, toy_corpus, tiny_trainer):
    fractions = {}
    for ratio in (0.1, 0.6):
        t = tiny_trainer(tmp_path / str(ratio), toy_corpus.root, **{"model.mask.ratio": ratio})
        batch = _batch(t, 32)
        out = _out(t, batch)
        valid = batch["frame_mask"].unsqueeze(-1).expand_as(out["mask"])
        fractions[ratio] = float(out["mask"][valid].float().mean())
    assert fractions[0.1] == pytest.approx(0.1, abs=0.04) and fractions[0.6] == pytest.approx(0.6, abs=0.06)


def test_xviii_coarse_similarity(tmp_path, toy_corpus, tiny_trainer):
    t = tiny_trainer(tmp_path, toy_corpus.root, **{"model.loss.similarity": "coarse"})
    assert t.model.similarity.kind == "coarse" and t.model.encoder.cfg.cls_token
    fine = tiny_trainer(tmp_path / "f", toy_corpus.root)
    assert fine.model.similarity.kind == "fine"


def test_xix_linear_embedding(tmp_path, toy_corpus, tiny_trainer):
    t = tiny_trainer(tmp_path, toy_corpus.root, **{"model.encoder.embedding.kind": "linear"})
    assert t.model.encoder.embed.gcn is None
    assert tiny_trainer(tmp_path / "g", toy_corpus.root).model.encoder.embed.gcn is not None
