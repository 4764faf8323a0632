"""PretrainModel does not change the config it is given (coarse similarity turns on [CLS] in its copy)."""

from __future__ import annotations

from mslu.models import PretrainConfig, PretrainModel


def test_pretrain_model_keeps_the_callers_config():
    cfg = PretrainConfig.preset("tiny")
    cfg.loss.similarity = "coarse"
    cfg.text.hidden_size = 32
    model = PretrainModel(cfg, text_encoder=None)
    assert cfg.encoder.cls_token is False  # the caller's object is unchanged
    assert model.cfg.encoder.cls_token is True and model.encoder.cfg.cls_token is True
