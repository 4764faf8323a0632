"""``mslu ablate``: variants are one config value each, verdicts follow the seed spread, runs resume."""

from __future__ import annotations

import pytest

import mslu.demo.ablations as ab
from mslu.training.run_config import load_config


def test_every_variant_is_a_valid_config_value():
    for table in ab.TABLES.values():
        labels = [v.label for v in table.variants]
        assert table.best in labels and len(set(labels)) == len(labels)
        # the paper's default, shared by tables
        assert sum(not v.overrides and v.pretrain for v in table.variants) == 1
        for v in table.variants:
            load_config("pretrain/synthetic_small", list(v.overrides))
            assert len(v.paper) == 4


def test_every_row_of_the_paper_is_a_variant():
    rows = {"XII": 5, "XIII": 5, "XIV": 3, "XV": 3, "XVI": 5, "XVII": 5, "XVIII": 2, "XIX": 2}
    assert {name: len(t.variants) for name, t in ab.TABLES.items()} == rows
    # Tab. XVII's m 0% ("without masked pose modeling") is Tab. XIV's STC only: one run serves both
    assert ab.TABLES["XVII"].variant("m 0%").key == ab.TABLES["XIV"].variant("STC only").key


def test_alpha_zero_fine_tunes_a_random_encoder_without_pre_training(tmp_path, monkeypatch):
    calls = []

    def no_pretraining(*a, **k):
        raise AssertionError("alpha 0% must not pre-train")

    def finetune(cfg, out, encoder_dir=None, scratch=None, resume=False):
        calls.append((encoder_dir, scratch))
        return {"main_metric": "per_instance_top1", "test": {"per_instance_top1": 7.0}}

    monkeypatch.setattr(ab, "run_pretrain", no_pretraining)
    monkeypatch.setattr(ab, "run_finetune", finetune)
    cfg = ab.AblationConfig(tables=("XIII",), tasks=("islr",), seeds=(0,), out=tmp_path, scale=0.05)
    zero = ab.TABLES["XIII"].variant("alpha 0%")
    assert ab.run_variant(cfg, tmp_path / "data", zero, 0) == {"islr": 7.0}
    assert calls == [(None, True)]


def test_ablations_use_the_main_jobs_corpus_frame_rate():
    assert ab.AblationConfig().demo.frame_step == ab.DemoConfig().frame_step == 2
    assert ab.AblationConfig(frame_step=1).demo.frame_step == 1  # runs 1-3 of docs/ablations.md


def test_verdicts():
    assert ab.verdict(paper_gap=-4.0, ours_gap=-3.0, noise=1.0) == "same direction, outside seed spread"
    assert ab.verdict(paper_gap=-4.0, ours_gap=-0.5, noise=1.0) == "within noise"
    assert ab.verdict(paper_gap=-4.0, ours_gap=2.0, noise=1.0) == "opposite"
    assert ab.verdict(paper_gap=-4.0, ours_gap=-2.0, noise=None) == "same direction (one seed)"


def test_render_lays_out_the_paper_table():
    cfg = ab.AblationConfig(tables=("XIX",), tasks=("islr", "cslr"), seeds=(0, 1))
    linear, gcn = ab.TABLES["XIX"].variants
    measured = {linear.key: {0: {"islr": 50.0, "cslr": 80.0}, 1: {"islr": 52.0, "cslr": 82.0}},
                gcn.key: {0: {"islr": 60.0, "cslr": 70.0}, 1: {"islr": 61.0, "cslr": 90.0}}}
    text = ab.render(cfg, measured)
    assert "| linear | 69.62 | 51.00 +- 1.00 | same direction, outside seed spread | 25.30 | 81.00 +- 1.00 " \
           "| within noise |" in text
    assert "| GCN | 74.07 | 60.50 +- 0.50 | (paper's best) |" in text


@pytest.mark.slow
def test_tiny_ablation_runs_and_resumes(tmp_path, monkeypatch):
    cfg = ab.AblationConfig(tables=("XIX",), tasks=("islr",), seeds=(0, 1), out=tmp_path, scale=0.05,
                            threads=1)
    path = ab.run_ablations(cfg)
    text = path.read_text()
    assert "## Table XIX" in text and "| linear | 69.62 |" in text and "| GCN | 74.07 |" in text

    def no_training(*a, **k):
        raise AssertionError("finished runs must be reused")

    monkeypatch.setattr(ab, "run_pretrain", no_training)
    monkeypatch.setattr(ab, "run_finetune", no_training)
    assert ab.run_ablations(cfg).read_text() == text
