"""Helpers both trainers share: CSV logs across resumes, per-step seeds."""

from __future__ import annotations

import csv

from mslu.training.common import CSVLogger, step_seed


def test_csv_logger_drops_rows_after_the_checkpoint(tmp_path):
    path = tmp_path / "metrics.csv"
    log = CSVLogger(path)
    for step in range(1, 6):
        log.write({"step": step, "loss": 1.0 / step})
    again = CSVLogger(path)  # a resumed run opens the same file
    assert again.fields == ["step", "loss"]
    assert again.resume_after("step", 3) == 2
    again.write({"step": 4, "loss": 0.5, "extra": 1})  # the header stays the first run's
    rows = list(csv.DictReader(open(path)))
    assert [r["step"] for r in rows] == ["1", "2", "3", "4"] and rows[-1]["loss"] == "0.5"
    assert again.resume_after("step", 10) == 0
    assert not list(tmp_path.glob("*.tmp"))


def test_step_seed_is_a_pure_function_of_its_key():
    assert step_seed(0, 0, 5, 0) == step_seed(0, 0, 5, 0)
    seeds = {step_seed(s, r, t, i) for s in (0, 1) for r in range(4) for t in range(50) for i in range(2)}
    assert len(seeds) == 2 * 4 * 50 * 2 and all(0 <= s < 2**63 for s in seeds)

