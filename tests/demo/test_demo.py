"""The main job end to end at a tiny scale: all tasks, both inits, report, results (no margins asserted)."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    from mslu.demo import DemoConfig, run_demo

    out = tmp_path_factory.mktemp("demo")
    cfg = DemoConfig(out=out, scale=0.02, min_eval=8, progress=False)
    return out, run_demo(cfg)


def test_demo_writes_report_and_results(demo_run):
    out, report = demo_run
    assert report == out / "report.md" and report.is_file()
    results = json.loads((out / "results.json").read_text())
    assert set(results["results"]) == {"islr", "cslr", "slt", "retrieval"}
    main = {"islr": "per_instance_top1", "cslr": "wer", "slt": "bleu4", "retrieval": "t2v_R@1"}
    for task, runs in results["results"].items():
        assert set(runs) == {"pretrained", "scratch"}
        assert runs["pretrained"]["pretrained"] is True and runs["scratch"]["pretrained"] is False
        for init in runs:
            value = runs[init]["test"][main[task]]
            assert 0.0 <= value <= 100.0 or task == "cslr" and value >= 0.0
    assert results["seconds"]["total"] > 0


def test_demo_report_sections(demo_run):
    out, report = demo_run
    text = report.read_text()
    headings = (
        "Pre-training helps",
        "Tab. XIII",
        "ISLR",
        "CSLR",
        "GF-SLT",
        "SL-RT",
        "Retrieval examples",
        "Pre-training corpus (cf. Tab. I",
    )
    for heading in headings:
        assert heading in text, heading
    for image in (
        "pretrain_losses.png",
        "finetune_losses.png",
        "islr_example.png",
        "corpus_stats/durations.png",
    ):
        assert (out / image).is_file() and f"({image})" in text
    # one margin row per task
    rows = [ln for ln in text.splitlines() if ln.startswith("| islr |") or ln.startswith("| retrieval |")]
    assert len(rows) == 2


def test_demo_reuses_pretrained_encoder(demo_run, capsys):
    from mslu.demo import DemoConfig, run_demo

    out, _ = demo_run
    before = (out / "pretrain" / "encoder" / "model.safetensors").stat().st_mtime_ns
    run_demo(DemoConfig(out=out, scale=0.02, min_eval=8, progress=False, tasks=("islr",)))
    assert "reusing" in capsys.readouterr().out
    assert (out / "pretrain" / "encoder" / "model.safetensors").stat().st_mtime_ns == before


def test_threads_share_out_the_cores(monkeypatch):
    from mslu.demo import DemoConfig

    monkeypatch.setattr("os.cpu_count", lambda: 8)
    cfg = DemoConfig()
    assert cfg.num_threads() == 8  # pre-training runs alone: every core
    assert cfg.num_threads(2) == 4  # two fine-tuning processes at once
    assert cfg.num_threads(16) == 1
    assert DemoConfig(threads=1).num_threads() == 1


def test_demo_corpus_frame_rate(tmp_path):
    """The main job's corpus is kept at 12.5 fps (half the frames of the 25-fps animation), and a run
    directory holding a corpus of another frame rate is refused before anything is written into it."""
    from mslu.data.corpus import Corpus
    from mslu.data.synth import SynthConfig
    from mslu.data.synth.writer import check_stamp
    from mslu.demo import DemoConfig, run_demo
    from mslu.demo.run import _synth, synth_config

    cfg = DemoConfig(out=tmp_path / "a", scale=0.004, min_eval=2, progress=False)
    assert synth_config(cfg).frame_step == 2
    data = _synth(cfg, tmp_path / "a" / "data")
    assert {Corpus(data)[i].fps for i in range(len(Corpus(data)))} == {12.5}
    old = tmp_path / "b" / "data"
    check_stamp(old, SynthConfig(frame_step=1))
    with pytest.raises(ValueError, match="frame_step 1 \\(this run: 2\\)"):
        run_demo(DemoConfig(out=tmp_path / "b", scale=0.02, progress=False))
    assert sorted(p.name for p in old.iterdir()) == ["synth.json"]
    assert not (tmp_path / "b" / "pretrain").exists()
