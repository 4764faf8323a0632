"""SL-RT initialised from the pre-trained psi_FSTS (export next to the encoder)."""

from __future__ import annotations

import json
import math
from types import SimpleNamespace

import pytest
import torch

from mslu.models import PretrainConfig, PretrainModel, SignPoseEncoder
from mslu.models.pretrain import load_similarity
from mslu.tasks.retrieval import RetrievalTask

TEXT_DIM = 24


def _pretrained(tmp_path, similarity="fine"):
    cfg = PretrainConfig.preset("tiny")
    cfg.text.hidden_size = TEXT_DIM
    cfg.loss.embed_dim, cfg.loss.window, cfg.loss.similarity = 12, 3, similarity
    torch.manual_seed(0)
    model = PretrainModel(cfg).eval()
    with torch.no_grad():
        model.logit_scale.fill_(math.log(1 / 0.05))
        for p in model.similarity.parameters():  # far from any fresh init
            p.add_(torch.randn_like(p))
    return model, model.export_encoder(tmp_path / "encoder")


def _task(enc_dir, scratch=False, init=True):
    cfg = {
        "task": "retrieval",
        "model": {"encoder": str(enc_dir), "scratch": scratch, "init_similarity": init,
                  "head": {"embed_dim": 32, "window": 4, "similarity": "fine"}},
    }
    task = RetrievalTask(cfg)
    task._text_encoder = SimpleNamespace(hidden_size=TEXT_DIM)  # features are given directly below
    return task


def test_similarity_export_roundtrip(tmp_path):
    model, d = _pretrained(tmp_path)
    assert {"model.safetensors", "config.json", "similarity.safetensors", "similarity.json"} <= {
        p.name for p in d.iterdir()
    }
    config, state = load_similarity(d)
    assert (config["sign_dim"], config["text_dim"], config["embed_dim"], config["window"]) == (
        model.encoder.output_dim, TEXT_DIM, 12, 3
    )
    ref = model.similarity.state_dict()
    assert set(state) == {f"similarity.{k}" for k in ref} | {"logit_scale"}
    for k, v in ref.items():
        assert torch.equal(state[f"similarity.{k}"], v)
    assert state["logit_scale"].item() == pytest.approx(math.log(20.0))
    assert load_similarity(tmp_path) is None  # no export there


def test_export_without_stc_has_no_similarity(tmp_path):
    cfg = PretrainConfig.preset("tiny")
    cfg.loss.use_stc = False
    d = PretrainModel(cfg).export_encoder(tmp_path / "enc")
    assert not (d / "similarity.safetensors").exists() and (d / "model.safetensors").is_file()


def _inputs():
    g = torch.Generator().manual_seed(1)
    pose = torch.randn(3, 10, 79, 3, generator=g)
    fmask = torch.ones(3, 10, dtype=torch.bool)
    fmask[1, 7:] = False
    tf = torch.randn(4, 6, TEXT_DIM, generator=g)
    tm = torch.ones(4, 6, dtype=torch.bool)
    tm[2, 4:] = False
    return pose, fmask, tf, tm


@torch.no_grad()
def test_retrieval_init_reproduces_pretraining_similarity(tmp_path):
    model, d = _pretrained(tmp_path)
    task = _task(d)
    rt = task.build_model(SignPoseEncoder.from_pretrained(d)).eval()
    assert task.cfg["model"]["head"]["embed_dim"] == 12 and task.cfg["model"]["head"]["window"] == 3
    assert rt.scale().item() == pytest.approx(20.0, rel=1e-5)
    pose, fmask, tf, tm = _inputs()
    f, cls = model.encoder.forward_with_cls(pose, fmask)
    s, sm = model.similarity.embed_sign(f, fmask, cls)
    t, tmask = model.similarity.embed_text(tf, tm)
    expected = model.similarity.similarity(s, sm, t, tmask)  # (signs, texts)
    rs, rsm = rt.embed_sign(pose, fmask)
    rtx, rtm = rt.embed_text(tf, tm)
    got = task.similarity_matrix(rt, (rs, rsm), (rtx, rtm))  # (texts, signs)
    assert got.shape == (4, 3)
    torch.testing.assert_close(got, expected.T, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("scratch,init", [(True, True), (False, False)])
def test_scratch_or_disabled_keeps_fresh_head(tmp_path, scratch, init):
    model, d = _pretrained(tmp_path)
    task = _task(d, scratch=scratch, init=init)
    rt = task.build_model(SignPoseEncoder.from_pretrained(d))
    assert rt.similarity.sign_proj[0].out_features == 32  # model.head's embed_dim
    assert rt.scale().item() == pytest.approx(1 / 0.07, rel=1e-5)


def test_text_dim_mismatch_is_reported(tmp_path):
    _, d = _pretrained(tmp_path)
    cfg = json.loads((d / "similarity.json").read_text())
    cfg["text_dim"] = TEXT_DIM + 1
    (d / "similarity.json").write_text(json.dumps(cfg))
    with pytest.raises(ValueError, match="text"):
        _task(d).build_model(SignPoseEncoder.from_pretrained(d))
