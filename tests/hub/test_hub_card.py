"""The generated model card: front matter (library, tags, model-index), layout, corpus statistics, metrics and
the command line that produced them."""

from __future__ import annotations

import json

import pytest
import yaml

from mslu.hub import save_pretrained


def front_matter(card: str) -> dict:
    assert card.startswith("---\n")
    return yaml.safe_load(card.split("---\n", 2)[1])


@pytest.mark.parametrize("task", ["islr", "cslr", "slt", "retrieval"])
def test_card_front_matter_and_metrics(saved, runs, task):
    card = (saved[task] / "README.md").read_text()
    meta = front_matter(card)
    assert meta["library_name"] == "mslu"
    assert {"sign-language", task} <= set(meta["tags"])
    metrics = json.loads((runs[task][0] / "metrics.json").read_text())
    results = meta["model-index"][0]["results"][0]
    assert results["dataset"]["name"] == f"corpus_{task}" and results["dataset"]["split"] == "test"
    got = {m["type"]: m["value"] for m in results["metrics"]}
    main = metrics["main_metric"]
    assert got[main] == pytest.approx(metrics["test"][main])
    assert all(got[k] == pytest.approx(v) for k, v in metrics["test"].items() if k in got)
    assert f"| {main} |" in card


def test_card_command_layout_and_corpus(saved, runs):
    run, corpus = runs["islr"]
    card = (saved["islr"] / "README.md").read_text()
    command = (
        f"mslu finetune --task islr --config training_config.yaml --encoder {runs['encoder']} --out {run}"
    )
    assert command in card
    assert f"mslu evaluate --run {run} --split test" in card
    assert "**SL79** layout" in card and "79 keypoints" in card
    assert "| left_hand (left hand) | 21 | 37-57 |" in card
    assert "Pose estimator (recorded in the training corpus): synthetic (20 samples)" in card
    assert "| samples | 20 (paired 20, unpaired 0) |" in card
    assert "train = `train` (12 samples), dev = `dev` (4 samples), test = `test` (4 samples)" in card
    assert str(corpus.root) in card


def test_card_parses_with_huggingface_hub(saved):
    from huggingface_hub import ModelCard

    card = ModelCard.load(saved["cslr"] / "README.md")
    assert card.data.library_name == "mslu"
    types = {r.metric_type for r in card.data.eval_results}
    assert "wer" in types and not any(t.startswith("n_") for t in types)


def test_unreachable_corpus_is_unknown(runs, tmp_path):
    out = save_pretrained(runs["islr"][0], tmp_path / "card", corpus=tmp_path / "gone", license="apache-2.0")
    card = (out / "README.md").read_text()
    assert front_matter(card)["license"] == "apache-2.0"
    assert "statistics unknown (not reachable when this card was written" in card
    assert "Pose estimator: unknown" in card
    assert "mslu finetune --task islr" in card  # the run config still gives the command


def test_encoder_card(saved, runs, tmp_path):
    card = (saved["encoder"] / "README.md").read_text()
    meta = front_matter(card)
    assert meta["library_name"] == "mslu" and "sign-language" in meta["tags"] and "model-index" not in meta
    assert "encoder_from_pretrained" in card and "no run configuration" in card
    # an encoder inside a pre-training run: its config.yaml gives the command and the corpus
    pre = tmp_path / "pretrain_run"
    (pre / "encoder").mkdir(parents=True)
    for f in ("config.json", "model.safetensors"):
        (pre / "encoder" / f).write_bytes((runs["encoder"] / f).read_bytes())
    corpus = runs["islr"][1].root
    cfg = {"model": {"preset": "tiny"}, "data": {"corpus": str(corpus)}, "run": {"out": str(pre)}}
    (pre / "config.yaml").write_text(yaml.safe_dump(cfg))
    (pre / "metrics.csv").write_text("step,loss,lr\n10,2.5,1e-4\n20,2.25,5e-5\n")
    out = save_pretrained(pre, tmp_path / "enc_card")
    card = (out / "README.md").read_text()
    assert f"mslu pretrain --config training_config.yaml --out {pre}" in card
    assert "| loss | 2.25 |" in card and "| samples | 20 (paired 20, unpaired 0) |" in card
    assert (out / "training_config.yaml").is_file()
