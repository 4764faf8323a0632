"""``mslu ablate``: the paper's ablation tables (XII-XIX) on the synthetic benchmark.

Every row of the paper's tables is a variant: one set of pre-training config overrides (Tab. XIII's alpha
0%: no pre-training, the tasks start from a random encoder). For every variant and seed the runner
pre-trains the main job's ``small`` setting, fine-tunes the chosen tasks from that encoder, and reports the
test metric's mean and spread next to the paper's direction. Runs land in ``<out>/runs/<variant>/seed<k>``
and are reused, so a killed run continues where it stopped and tables share their common variant (the
paper's default: PR + STC, both streams, fine-grained, GCN, lambda 1, s 4, m 40%, alpha 100%).

Verdict per row, against the paper's best row of the table: "same direction, outside seed spread" when ours
differs from our best-row mean the way the paper's does by more than both rows' seed spreads (max - min),
"within noise" when the gap is inside them, "opposite" when it is outside them the other way.
"""

from __future__ import annotations

import hashlib
import json
import logging
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mslu.configs import apply_override, find_config
from mslu.data.corpus.format import atomic_write_text
from mslu.demo.run import TASK_LANGUAGE, DemoConfig, _synth, pretrain_config
from mslu.tasks import MAIN_METRICS
from mslu.training.finetuner import run_finetune
from mslu.training.pretrainer import run_pretrain
from mslu.training.run_config import finetune_config

log = logging.getLogger(__name__)

PAPER_TASKS = {"islr": "MSASL1000 top-1", "cslr": "Phoenix14 WER", "slt": "Phoenix14-T B-4",
               "retrieval": "CSL-Daily R@1"}


@dataclass(frozen=True)
class Variant:
    label: str
    overrides: tuple[str, ...] = ()
    paper: tuple[float, float, float, float] = ()  # the paper's ISLR, CSLR, GF-SLT, SL-RT figures
    pretrain: bool = True  # False: no pre-training, the tasks fine-tune a random encoder (alpha = 0%)

    @property
    def key(self) -> str:
        if not self.pretrain:
            return "scratch"
        text = json.dumps(sorted(self.overrides))
        return "default" if not self.overrides else hashlib.sha1(text.encode()).hexdigest()[:10]


@dataclass(frozen=True)
class Table:
    name: str
    title: str
    variants: tuple[Variant, ...]
    best: str  # label of the paper's best row

    def variant(self, label: str) -> Variant:
        return next(v for v in self.variants if v.label == label)


DEFAULT_FIGURES = (74.07, 21.2, 22.24, 87.5)
TABLES: dict[str, Table] = {t.name: t for t in (
    Table("XII", "objective weight lambda", (
        Variant("lambda 0.1", ("model.loss.lambda_stc=0.1",), (71.74, 22.9, 20.04, 84.9)),
        Variant("lambda 0.5", ("model.loss.lambda_stc=0.5",), (72.96, 22.1, 21.23, 85.6)),
        Variant("lambda 1.0", (), DEFAULT_FIGURES),
        Variant("lambda 1.5", ("model.loss.lambda_stc=1.5",), (73.03, 21.7, 21.66, 86.4)),
        Variant("lambda 2.0", ("model.loss.lambda_stc=2.0",), (71.12, 22.5, 20.37, 85.3)),
    ), "lambda 1.0"),
    Table("XIII", "pre-training data fraction alpha", (
        Variant("alpha 0%", (), (62.23, 28.9, 13.15, 75.2), pretrain=False),
        Variant("alpha 25%", ("data.alpha=0.25",), (67.21, 25.1, 17.68, 80.1)),
        Variant("alpha 50%", ("data.alpha=0.5",), (70.68, 22.9, 19.94, 82.5)),
        Variant("alpha 75%", ("data.alpha=0.75",), (72.63, 22.3, 20.76, 84.4)),
        Variant("alpha 100%", (), DEFAULT_FIGURES),
    ), "alpha 100%"),
    Table("XIV", "pretext tasks", (
        Variant("PR only", ("model.loss.use_stc=false",), (69.44, 22.5, 19.74, 82.6)),
        Variant("STC only", ("model.loss.use_pr=false",), (67.16, 23.7, 17.57, 81.9)),
        Variant("PR + STC", (), DEFAULT_FIGURES),
    ), "PR + STC"),
    Table("XV", "sign features", (
        Variant("manual only", ("model.encoder.streams=[manual]",), (70.24, 25.8, 18.68, 82.4)),
        Variant("non-manual only", ("model.encoder.streams=[non_manual]",), (32.53, 51.3, 7.64, 31.4)),
        Variant("manual + non-manual", (), DEFAULT_FIGURES),
    ), "manual + non-manual"),
    Table("XVI", "window size s", (
        Variant("s 1", ("model.loss.window=1",), (71.03, 24.1, 19.84, 83.2)),
        Variant("s 2", ("model.loss.window=2",), (73.15, 22.6, 21.43, 85.1)),
        Variant("s 4", (), DEFAULT_FIGURES),
        Variant("s 8", ("model.loss.window=8",), (73.13, 23.7, 20.21, 82.5)),
        Variant("s 16", ("model.loss.window=16",), (72.32, 25.9, 18.17, 80.1)),
    ), "s 4"),
    Table("XVII", "mask ratio m", (
        # m 0%: "without masked pose modeling" (the paper's row repeats Tab. XIV's STC only)
        Variant("m 0%", ("model.loss.use_pr=false",), (67.16, 23.7, 17.57, 81.9)),
        Variant("m 20%", ("model.mask.ratio=0.2",), (71.23, 22.1, 20.74, 84.6)),
        Variant("m 40%", (), DEFAULT_FIGURES),
        Variant("m 60%", ("model.mask.ratio=0.6",), (72.58, 23.1, 21.17, 83.3)),
        Variant("m 80%", ("model.mask.ratio=0.8",), (66.36, 25.2, 17.29, 79.6)),
    ), "m 40%"),
    Table("XVIII", "similarity", (
        Variant("coarse-grained", ("model.loss.similarity=coarse",), (70.28, 24.4, 18.79, 79.8)),
        Variant("fine-grained", (), DEFAULT_FIGURES),
    ), "fine-grained"),
    Table("XIX", "pose embedding", (
        Variant("linear", ("model.encoder.embedding.kind=linear",), (69.62, 25.3, 17.52, 77.4)),
        Variant("GCN", (), DEFAULT_FIGURES),
    ), "GCN"),
)}
TASK_INDEX = {"islr": 0, "cslr": 1, "slt": 2, "retrieval": 3}


@dataclass
class AblationConfig:
    tables: tuple[str, ...] = ("XIV", "XV", "XVIII", "XIX")
    tasks: tuple[str, ...] = ("islr", "retrieval")
    seeds: tuple[int, ...] = (0, 1)
    out: Path = Path("runs/ablate")
    scale: float = 0.5  # of the main job's sizes and epochs
    threads: int | None = None
    progress: bool = False
    frame_step: int = DemoConfig.frame_step  # synthetic corpus (1: 25 fps, runs 1-3 of docs/ablations.md)
    demo: DemoConfig = field(init=False)

    def __post_init__(self) -> None:
        unknown = [t for t in self.tables if t not in TABLES]
        if unknown:
            raise ValueError(f"unknown ablation table(s) {unknown}; use {', '.join(TABLES)}")
        self.demo = DemoConfig(out=Path(self.out), scale=self.scale, tasks=tuple(self.tasks),
                               threads=self.threads, progress=self.progress, frame_step=self.frame_step)


def _write_json(path: Path, data: Any) -> None:
    atomic_write_text(path, json.dumps(data, indent=1, default=str))


def run_variant(cfg: AblationConfig, data: Path, variant: Variant, seed: int) -> dict[str, float]:
    """Pre-train and fine-tune one (variant, seed), reusing what a previous run finished."""
    run = Path(cfg.out) / "runs" / variant.key / f"seed{seed}"
    run.mkdir(parents=True, exist_ok=True)
    pre = run / "pretrain"
    pcfg = pretrain_config(cfg.demo, data, pre)
    for o in (*variant.overrides, f"run.seed={seed}", "run.progress=false"):
        apply_override(pcfg, o)
    done = pre / "done.json"
    if not variant.pretrain:
        _write_json(run / "variant.json", {"label": variant.label, "pretrain": False})
    elif not (done.is_file() and json.loads(done.read_text()).get("config") == json.loads(json.dumps(pcfg))):
        log.info("%s seed %d: pre-training", variant.label, seed)
        _write_json(run / "variant.json", {"label": variant.label, "overrides": list(variant.overrides)})
        metrics = run_pretrain(pcfg, resume=(pre / "checkpoints").is_dir())
        _write_json(done, {"config": pcfg, "metrics": metrics})
    results = {}
    for task in cfg.tasks:
        out = run / task
        if (out / "metrics.json").is_file():
            metrics = json.loads((out / "metrics.json").read_text())
        else:
            log.info("%s seed %d: fine-tuning %s", variant.label, seed, task)
            bench = data / "benchmarks" / f"{task}-{TASK_LANGUAGE[task]}"
            tcfg = finetune_config(find_config(f"{task}/synthetic"), [
                f"data.corpus={bench}", f"optim.epochs={cfg.demo.scaled(cfg.demo.finetune_epochs[task])}",
                f"run.seed={seed}", "run.progress=false"])
            resume = (out / "checkpoints").is_dir()
            if variant.pretrain:
                metrics = run_finetune(tcfg, out, encoder_dir=pre / "encoder", resume=resume)
            else:
                metrics = run_finetune(tcfg, out, scratch=True, resume=resume)
        results[task] = float(metrics["test"][metrics["main_metric"]])
    return results


def run_ablations(cfg: AblationConfig) -> Path:
    """Run every (variant, seed) of the tables and write ``<out>/ablations.md``; returns its path."""
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    data = _synth(cfg.demo, out / "data")
    measured: dict[str, dict[int, dict[str, float]]] = {}
    for name in cfg.tables:
        for variant in TABLES[name].variants:
            for seed in cfg.seeds:
                if seed not in measured.setdefault(variant.key, {}):
                    measured[variant.key][seed] = run_variant(cfg, data, variant, seed)
    _write_json(out / "ablations.json", measured)
    path = out / "ablations.md"
    path.write_text(render(cfg, measured))
    return path


def _spread(values: list[float]) -> float:
    return max(values) - min(values) if len(values) > 1 else 0.0


def verdict(paper_gap: float, ours_gap: float, noise: float | None) -> str:
    """``*_gap``: the row minus the best row, signed so that > 0 is better; ``noise``: the seed spreads
    (None: one seed, no spread to compare with)."""
    same = (ours_gap > 0) == (paper_gap > 0) and ours_gap != 0
    if noise is None:
        return "same direction (one seed)" if same else "opposite or equal (one seed)"
    if abs(ours_gap) <= noise:
        return "within noise"
    return "same direction, outside seed spread" if same else "opposite"


def render(cfg: AblationConfig, measured: dict[str, dict[int, dict[str, float]]]) -> str:
    lines = [f"# Ablations on the synthetic benchmark (scale {cfg.scale}, seeds {list(cfg.seeds)})", "",
             "Paper figures: " + ", ".join(f"{t} = {PAPER_TASKS[t]}" for t in cfg.tasks) + ". Ours: test "
             "split of the synthetic benchmark, mean +- half the seed range (max - min) / 2.", ""]
    for name in cfg.tables:
        table = TABLES[name]
        best = table.variant(table.best)
        lines += [f"## Table {name}: {table.title}", "",
                  "| variant | " + " | ".join(f"{t} paper | {t} ours | verdict" for t in cfg.tasks) + " |",
                  "|---|" + "---|---|---|" * len(cfg.tasks)]
        for v in table.variants:
            cells = []
            for t in cfg.tasks:
                metric, higher = MAIN_METRICS[t]
                sign = 1 if higher else -1
                ours = [measured[v.key][s][t] for s in cfg.seeds]
                ref = [measured[best.key][s][t] for s in cfg.seeds]
                paper = v.paper[TASK_INDEX[t]]
                cell = f"{statistics.mean(ours):.2f} +- {_spread(ours) / 2:.2f}"
                if v is best:
                    cells += [f"{paper:.2f}", cell, "(paper's best)"]
                    continue
                gap_paper = sign * (paper - best.paper[TASK_INDEX[t]])
                gap_ours = sign * (statistics.mean(ours) - statistics.mean(ref))
                noise = max(_spread(ours), _spread(ref)) if len(cfg.seeds) > 1 else None
                cells += [f"{paper:.2f}", cell, verdict(gap_paper, gap_ours, noise)]
            lines.append(f"| {v.label} | " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)
