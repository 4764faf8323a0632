"""CSLR, GF-SLT and SL-RT end to end on the real PHOENIX skeletons and ASL webcam sentences, and ISLR on the
ASL segments: too small to score, so the checks are that every stage runs and writes sane outputs."""

from __future__ import annotations

import json

import numpy as np
import pytest

from mslu.data.corpus import Corpus

HEADS = {
    "cslr": {"tcn_hidden": 16, "lstm_hidden": 16, "beam_width": 3},
    "slt": {"d_model": 16, "heads": 2, "ffn_dim": 32, "decode_max_len": 8, "beam_size": 2,
            "tokenizer_kind": "word"},
    "retrieval": {"embed_dim": 16},
    "islr": {},
}
DATA = {"cslr": {"dataset": "none"}, "slt": {}, "retrieval": {}, "islr": {}}
LANG = {"phoenix14t_skels": "de", "signbridge_asl": "en"}


def _config(task: str, corpus, benchmark: str) -> dict:
    data = {"corpus": str(corpus), "benchmark": benchmark, "batch_size": 4, **DATA[task]}
    if task == "slt":
        data["language"] = LANG[benchmark]
    return {"task": task, "model": {"preset": "tiny", "head": dict(HEADS[task])}, "data": data,
            "optim": {"epochs": 1, "max_steps": 2}, "run": {"progress": False, "seed": 0, "device": "cpu"}}


def test_real_sentence_corpus(sentences_corpus):
    c = Corpus(sentences_corpus)
    meta = c.metadata.to_pydict()
    per = {src: meta["source"].count(src) for src in set(meta["source"])}
    assert per == {"phoenix14t_skels": 15, "signbridge_asl": 11, "signbridge_asl_signs": 35}
    phoenix = next(s for s in c if s.source == "phoenix14t_skels")
    assert phoenix.text_language == "de" and phoenix.gloss and phoenix.estimator == "phoenix_skels_50"
    asl = next(s for s in c if s.id == "signbridge_asl/chair-black-tall")
    assert asl.gloss == ["CHAIR", "BLACK", "TALL"] and asl.text == "The black chair is tall."
    sign = next(s for s in c if s.id == "signbridge_asl_signs/chair-black-tall/segment_002")
    assert sign.gloss == ["BLACK"] and sign.text == "This word is black." and sign.label is not None
    skipped = (sentences_corpus / "skipped.csv").read_text(encoding="utf-8")
    assert "6 segments for 3 signs" in skipped and "doctor_need_water" in skipped


@pytest.mark.parametrize("task,benchmark", [
    ("cslr", "phoenix14t_skels"), ("slt", "phoenix14t_skels"), ("retrieval", "phoenix14t_skels"),
    ("cslr", "signbridge_asl"), ("slt", "signbridge_asl"), ("retrieval", "signbridge_asl"),
    ("islr", "signbridge_asl_signs"),
])
def test_task_runs_end_to_end(sentences_corpus, tmp_path, task, benchmark, one_thread):
    from mslu.tasks.run_dir import evaluate_run
    from mslu.training.finetuner import run_finetune

    out = tmp_path / f"{task}-{benchmark}"
    metrics = run_finetune(_config(task, sentences_corpus, benchmark), out, scratch=True)
    assert metrics["task"] == task and metrics["main_metric"] in metrics["test"]
    assert all(np.isfinite(v) for v in metrics["test"].values() if isinstance(v, float))
    preds = [json.loads(x) for x in (out / "predictions.jsonl").read_text().splitlines()]
    n_test = len((sentences_corpus / "benchmarks" / benchmark / "test.txt").read_text().splitlines())
    assert 0 < len(preds) <= n_test
    again = evaluate_run(out, "test", device="cpu")
    assert again["metrics"][metrics["main_metric"]] == pytest.approx(metrics["test"][metrics["main_metric"]])
