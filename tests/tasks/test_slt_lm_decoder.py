"""GF-SLT with a pre-trained LM decoder (``model.head.kind: mbart | seq2seq``): a tiny mBART / T5 built from
config with an in-process tokenizer, saved as a local HF model directory (nothing is downloaded)."""

from __future__ import annotations

import json
import shutil

import pytest
import torch
from safetensors.torch import load_file

from mslu.tasks import SLTTask
from mslu.tasks.lm_decoder import LMDecoderModel, write_scratch_lm
from mslu.tasks.run_dir import evaluate_run, load_model
from mslu.training.finetuner import FineTuner, run_finetune
from mslu.training.run_config import finetune_config
from mslu.training.schedules import optimizer_groups

TINY = {"d_model": 16, "decoder_layers": 2, "encoder_layers": 1, "heads": 2, "ffn_dim": 32,
        "max_positions": 64}


@pytest.fixture
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def tiny_lm(task_corpora, tmp_path_factory):
    """A tiny randomly initialised mBART + tokenizer trained on the SLT benchmark's training sentences."""
    meta = task_corpora["slt"].metadata.to_pydict()
    texts = [t for t, split in zip(meta["text"], meta["split"]) if split == "train"]
    return write_scratch_lm(tmp_path_factory.mktemp("tiny_mbart"), texts, "en", **TINY)


def lm_config(corpus_root, lm, **head) -> dict:
    return {
        "task": "slt",
        "model": {"preset": "tiny", "head": {"kind": "mbart", "lm": str(lm), "decode_max_len": 6,
                                             "beam_size": 2, **head}},
        "data": {"corpus": str(corpus_root), "batch_size": 4},
        "optim": {"epochs": 2, "max_steps": 4, "lr": 3e-3},
        "run": {"progress": False, "seed": 0, "device": "cpu"},
    }


def tuner(task_corpora, tiny_encoder_dir, lm, **head) -> FineTuner:
    cfg = finetune_config(lm_config(task_corpora["slt"].root, lm, **head))
    cfg["model"]["encoder"] = str(tiny_encoder_dir)
    return FineTuner(cfg, corpus=task_corpora["slt"])


def first_batch(t: FineTuner) -> dict:
    return t.task.collate([t.train_set[i] for i in range(4)])


def test_targets_start_with_the_language_code(task_corpora, tiny_encoder_dir, tiny_lm):
    t = tuner(task_corpora, tiny_encoder_dir, tiny_lm)
    tok = t.task.tokenizer
    assert t.task.language == "en" and t.task.start_id == tok.token_id("en_XX")
    b = first_batch(t)
    assert (b["tokens_in"][:, 0] == t.task.start_id).all()
    for i, ref in enumerate(b["refs"]):
        ids = tok.encode(ref)
        assert b["tokens_in"][i, 1 : len(ids) + 1].tolist() == ids
        assert b["tokens_out"][i, : len(ids) + 1].tolist() == [*ids, tok.eos_id]
    assert isinstance(t.model, LMDecoderModel) and t.model.lm.config.d_model == 16


def test_lm_head_trains_and_decodes_greedy_like_argmax(task_corpora, tiny_encoder_dir, tiny_lm, one_thread):
    torch.manual_seed(0)
    t = tuner(task_corpora, tiny_encoder_dir, tiny_lm, label_smoothing=0.0)
    model, task = t.model, t.task
    batch = first_batch(t)
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-2)
    model.train()
    losses = []
    for _ in range(30):
        loss = task.loss(model, batch)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    assert losses[-1] < 0.5 * losses[0], losses
    model.eval()
    pose, mask = batch["pose"], batch["frame_mask"]
    greedy = model.generate_ids(pose, mask, beam_size=1, max_new_tokens=6)
    with torch.no_grad():  # greedy by hand from the teacher-forcing forward
        seq = torch.full((pose.shape[0], 1), task.start_id)
        for _ in range(6):
            seq = torch.cat([seq, model(pose, mask, seq)[:, -1].argmax(-1, keepdim=True)], 1)
    for row, ids in zip(seq.tolist(), greedy):
        row = row[1:]
        assert ids == (row[: row.index(task.tokenizer.eos_id)] if task.tokenizer.eos_id in row else row)
    beams = task.generate(model, pose, mask)  # head.beam_size (2) beams
    assert len(beams) == pose.shape[0] and all(isinstance(h, str) for h in beams)
    assert all(len(ids) <= 6 for ids in model.generate_ids(pose, mask, beam_size=3, max_new_tokens=6))


def test_finetune_round_trips_without_the_original_lm(task_corpora, tiny_encoder_dir, tiny_lm, tmp_path,
                                                       one_thread):
    lm = shutil.copytree(tiny_lm, tmp_path / "lm")
    out = tmp_path / "run"
    metrics = run_finetune(lm_config(task_corpora["slt"].root, lm), out, encoder_dir=tiny_encoder_dir)
    assert "bleu4" in metrics["test"] and "rouge_l" in metrics["test"]
    model_dir = out / "model"
    assert (model_dir / "lm" / "config.json").is_file() and (model_dir / "tokenizer").is_dir()
    assert json.loads((model_dir / "slt_head.json").read_text())["kind"] == "mbart"
    keys = set(load_file(str(model_dir / "model.safetensors")))
    assert "lm.model.shared.weight" in keys and "lm.lm_head.weight" not in keys  # tied weights stored once
    shutil.rmtree(lm)  # the fine-tuned model does not need the LM it started from
    task, model = load_model(out)
    assert isinstance(model, LMDecoderModel) and task.start_id == task.tokenizer.token_id("en_XX")
    saved = [json.loads(line) for line in (out / "predictions.jsonl").read_text().splitlines()]
    again = evaluate_run(out, corpus=task_corpora["slt"], device="cpu")
    assert [p["hyp"] for p in again["predictions"]] == [p["hyp"] for p in saved]
    assert again["metrics"]["bleu4"] == pytest.approx(metrics["test"]["bleu4"])
    pose = task_corpora["slt"].pose(0)
    assert isinstance(task.predict(model, pose, "cpu")["translation"], str)


def test_without_the_lm_encoder_its_layers_are_dropped(task_corpora, tiny_encoder_dir, tiny_lm, one_thread):
    t = tuner(task_corpora, tiny_encoder_dir, tiny_lm, lm_encoder=False)
    names = list(t.model.state_dict())
    assert not any(n.startswith("lm.model.encoder.layers.") for n in names)
    assert any(n.startswith("lm.model.decoder.layers.1.") for n in names)
    assert isinstance(t.model.memory_norm, torch.nn.LayerNorm)
    b = first_batch(t)
    assert t.model.memory(b["pose"], b["frame_mask"]).shape[-1] == t.model.projector[-1].out_features == 16
    loss = t.task.loss(t.model, b)
    loss.backward()
    assert t.model.projector[0].weight.grad is not None
    t.model.eval()
    assert len(t.task.generate(t.model, b["pose"], b["frame_mask"], 1)) == 4


def test_lm_layers_keeps_the_first_layers(task_corpora, tiny_encoder_dir, tiny_lm):
    t = tuner(task_corpora, tiny_encoder_dir, tiny_lm, lm_layers=1)
    assert len(t.model.lm.model.decoder.layers) == 1 and len(t.model.lm.model.encoder.layers) == 1
    with pytest.raises(ValueError, match="model.head.lm_layers"):
        tuner(task_corpora, tiny_encoder_dir, tiny_lm, lm_layers=0)


def _trainable(model) -> set[str]:
    return {n for n, p in model.lm.named_parameters() if p.requires_grad}


def test_freeze_lm(task_corpora, tiny_encoder_dir, tiny_lm):
    full = _trainable(tuner(task_corpora, tiny_encoder_dir, tiny_lm).model)
    emb = _trainable(tuner(task_corpora, tiny_encoder_dir, tiny_lm, freeze_lm="embeddings").model)
    assert "model.shared.weight" in full and "model.shared.weight" not in emb
    assert not any("embed_positions" in n for n in emb) and any("self_attn" in n for n in emb)
    dec = _trainable(tuner(task_corpora, tiny_encoder_dir, tiny_lm, freeze_lm="decoder").model)
    assert dec and all(("encoder_attn" in n) or n.startswith("model.encoder.") for n in dec)
    assert any(n.startswith("model.decoder.") and "encoder_attn" in n for n in dec)
    model = tuner(task_corpora, tiny_encoder_dir, tiny_lm, freeze_lm="all").model
    assert not _trainable(model) and model.projector[0].weight.requires_grad


def test_lm_group_maps_to_the_finetuner_groups(task_corpora, tiny_encoder_dir, tiny_lm):
    o = {"lr": 1e-3, "finetune_rate": 0.1, "weight_decay": 0.0}
    for group, lm_lr in (("head", 1e-3), ("encoder", 1e-4)):
        model = tuner(task_corpora, tiny_encoder_dir, tiny_lm, lm_group=group).model
        lrs = {id(p): g["lr"] for g in optimizer_groups(model, o, pretrained=True) for p in g["params"]}
        assert len(lrs) == len({id(p) for p in model.parameters() if p.requires_grad})
        assert {lrs[id(p)] for p in model.lm_parameters()} == {lm_lr}
        assert {lrs[id(p)] for p in model.projector.parameters()} == {1e-3}
        assert {lrs[id(p)] for p in model.encoder.parameters()} == {1e-4}


def test_seq2seq_kind_takes_any_encoder_decoder(task_corpora, tiny_encoder_dir, tiny_lm, tmp_path,
                                                one_thread):
    """A tiny T5 (mT5's architecture) through ``kind: seq2seq``: start token = its decoder_start_token_id."""
    from transformers import AutoTokenizer, T5Config, T5ForConditionalGeneration

    tok = AutoTokenizer.from_pretrained(str(tiny_lm))
    cfg = T5Config(vocab_size=len(tok), d_model=16, d_kv=8, d_ff=32, num_layers=2, num_decoder_layers=2,
                   num_heads=2, pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id,
                   decoder_start_token_id=tok.pad_token_id)
    torch.manual_seed(0)
    T5ForConditionalGeneration(cfg).save_pretrained(str(tmp_path / "t5"))
    tok.save_pretrained(str(tmp_path / "t5"))
    t = tuner(task_corpora, tiny_encoder_dir, tmp_path / "t5", kind="seq2seq", freeze_lm="decoder")
    assert t.task.start_id == tok.pad_token_id
    assert any("EncDecAttention" in n for n in _trainable(t.model))
    b = first_batch(t)
    opt = torch.optim.AdamW([p for p in t.model.parameters() if p.requires_grad], lr=3e-3)
    first = None
    for _ in range(15):
        loss = t.task.loss(t.model, b)
        first = float(loss.detach()) if first is None else first
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert float(loss.detach()) < first
    t.model.eval()
    assert len(t.task.generate(t.model, b["pose"], b["frame_mask"])) == 4


def _one_line_error(exc_info) -> str:
    msg = str(exc_info.value)
    assert "\n" not in msg.strip()
    return msg


def test_an_absent_lm_is_a_one_line_error(task_corpora, tiny_encoder_dir, tmp_path):
    for name in (str(tmp_path / "nowhere"), "mslu-tests/no-such-lm"):
        cfg = finetune_config(lm_config(task_corpora["slt"].root, name))
        cfg["model"]["encoder"] = str(tiny_encoder_dir)
        with pytest.raises(FileNotFoundError) as e:
            FineTuner(cfg, corpus=task_corpora["slt"])
        msg = _one_line_error(e)
        assert msg.startswith("model.head.lm:") and name in msg and "nothing is downloaded" in msg


def test_head_settings_are_checked(task_corpora, tiny_lm, tmp_path):
    root = task_corpora["slt"].root
    for key, value in (("kind", "gpt"), ("freeze_lm", "some"), ("lm_group", "lm")):
        with pytest.raises(ValueError, match=f"model.head.{key}: unknown value") as e:
            SLTTask(finetune_config(lm_config(root, tiny_lm, **{key: value})))
        _one_line_error(e)
    with pytest.raises(ValueError, match="model.head.lm: kind seq2seq needs"):
        SLTTask(finetune_config({**lm_config(root, tiny_lm), "model": {"head": {"kind": "seq2seq"}}}))
    with pytest.raises(ValueError, match="model.head.lm_encoder: expected bool"):
        finetune_config(lm_config(root, tiny_lm, lm_encoder="yes"))
    with pytest.raises(ValueError, match="model.head.lm_typo: unknown key"):
        finetune_config(lm_config(root, tiny_lm, lm_typo=1))
    unknown = lm_config(root, tiny_lm)
    unknown["data"]["language"] = "xx"
    with pytest.raises(ValueError, match="data.language: 'xx' has no mBART language code"):
        SLTTask(finetune_config(unknown)).fit_assets(_Train())
    with pytest.raises(ValueError, match="model.head.lang_code: 'qq_QQ' is not a token"):
        SLTTask(finetune_config(lm_config(root, tiny_lm, lang_code="qq_QQ"))).fit_assets(_Train())


class _Train:
    """What ``fit_assets`` reads of a training set."""

    text_languages = ["en"]
    texts = ["a b"]


@pytest.mark.parametrize("name", ["phoenix2014t", "csl_daily", "how2sign"])
def test_shipped_mbart_configs(name):
    base, cfg = finetune_config(f"slt/{name}"), finetune_config(f"slt/{name}_mbart")
    head = cfg["model"]["head"]
    assert head["kind"] == "mbart" and head["lm"] == "facebook/mbart-large-cc25"
    assert cfg["data"]["benchmark"] == base["data"]["benchmark"] == name
    assert cfg["data"]["language"] == base["data"]["language"]
    assert cfg["optim"]["lr"] != base["optim"]["lr"] and head["lm_group"] == "encoder"
    assert cfg["run"]["out"] == f"runs/slt/{name}_mbart"
    assert base["model"]["head"]["kind"] == "transformer"  # the paper's decoder stays the default
