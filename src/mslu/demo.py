"""The main job on the built-in synthetic corpus: build -> pre-train -> fine-tune every task, both from the
pre-trained encoder and from scratch (alpha = 0%) -> ``runs/<name>/report.md``.

Task / language pairing follows the paper's ablation choice of one benchmark per task: ISLR on the
English-text synthetic language (like MSASL), CSLR and GF-SLT on the German one (like Phoenix14(-T)), SL-RT on
the Chinese one (like CSL-Daily).
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

TASK_LANGUAGE = {"islr": "syn-en", "cslr": "syn-de", "slt": "syn-de", "retrieval": "syn-zh"}


@dataclass
class DemoConfig:
    out: Path = Path("runs/demo")
    scale: float = 1.0  # multiplies data sizes and training lengths
    seed: int = 0
    pretrain_samples: int = 6000
    bench_sizes: tuple[int, int, int] = (600, 150, 150)  # train / dev / test per benchmark
    vocab_size: int = 60
    pretrain_epochs: int = 12
    finetune_epochs: dict[str, int] = field(
        default_factory=lambda: {"islr": 12, "cslr": 12, "slt": 12, "retrieval": 10}
    )
    tasks: tuple[str, ...] = ("islr", "cslr", "slt", "retrieval")
    threads: int | None = None

    def scaled(self, n: int | float) -> int:
        return max(1, int(round(n * self.scale)))


class Stopwatch:
    def __init__(self) -> None:
        self.t0 = time.perf_counter()
        self.marks: dict[str, float] = {}

    def mark(self, name: str, since: float) -> None:
        self.marks[name] = round(time.perf_counter() - since, 1)

    @property
    def total(self) -> float:
        return round(time.perf_counter() - self.t0, 1)


def _synth(cfg: DemoConfig, data: Path) -> Path:
    from mslu.cli import main as cli

    b = [str(cfg.scaled(n)) for n in cfg.bench_sizes]
    args = [
        "synth",
        "--out",
        str(data),
        "--num-samples",
        str(cfg.scaled(cfg.pretrain_samples)),
        "--seed",
        str(cfg.seed),
        "--vocab-size",
        str(cfg.vocab_size),
        "--benchmarks",
        "--bench-sizes",
        *b,
    ]
    if cli(args) != 0:
        raise RuntimeError("synthetic corpus generation failed")
    return data


def configs_dir() -> Path:
    """The repository's ``configs/`` (next to ``src/``), or ``./configs``."""
    for base in (Path(__file__).resolve().parents[2], Path.cwd()):
        if (base / "configs" / "islr" / "synthetic.yaml").is_file():
            return base / "configs"
    raise FileNotFoundError("configs/ not found: run the demo from the mslu repository")


def task_config(task: str) -> Path:
    return configs_dir() / task / "synthetic.yaml"


def pretrain_config(cfg: DemoConfig, corpus: Path, out: Path) -> dict[str, Any]:
    from mslu.training.config import load_config

    c = load_config(None)
    c["model"] = {"preset": "small"}
    c["data"].update(corpus=str(corpus), batch_size=64, num_workers=0)
    c["optim"].update(lr=5e-4, epochs=cfg.scaled(cfg.pretrain_epochs), weight_decay=0.1)
    c["run"].update(out=str(out), seed=cfg.seed, precision="bf16", checkpoint_every=10_000, log_every=10)
    return c


def run_demo(cfg: DemoConfig) -> Path:
    import torch

    from mslu.training.finetune import run_finetune
    from mslu.training.pretrain import run_pretrain

    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    sw = Stopwatch()
    t = time.perf_counter()
    data = _synth(cfg, out / "data")
    sw.mark("synth", t)

    t = time.perf_counter()
    pre_dir = out / "pretrain"
    pre_metrics = run_pretrain(pretrain_config(cfg, data, pre_dir))
    encoder_dir = pre_dir / "encoder"
    sw.mark("pretrain", t)

    results: dict[str, dict[str, dict]] = {}
    for task in cfg.tasks:
        lang = TASK_LANGUAGE[task]
        bench = data / "benchmarks" / f"{task}-{lang}"
        results[task] = {}
        for init in ("pretrained", "scratch"):
            t = time.perf_counter()
            run_dir = out / "finetune" / f"{task}_{init}"
            results[task][init] = run_finetune(
                task_config(task),
                run_dir,
                encoder_dir=encoder_dir if init == "pretrained" else None,
                scratch=init == "scratch",
                overrides=[
                    f"data.corpus={bench}",
                    f"optim.epochs={cfg.scaled(cfg.finetune_epochs[task])}",
                    f"run.seed={cfg.seed}",
                ],
            )
            sw.mark(f"{task}/{init}", t)

    summary = {
        "config": _jsonable(asdict(cfg)),
        "pretrain": pre_metrics,
        "results": results,
        "seconds": {**sw.marks, "total": sw.total},
    }
    (out / "results.json").write_text(json.dumps(summary, indent=2, default=str))
    from mslu.report import write_report

    path = write_report(out, summary)
    log.info("report: %s (%.0f s in total)", path, sw.total)
    return path


def _jsonable(d: dict) -> dict:
    return {k: (str(v) if isinstance(v, Path) else v) for k, v in d.items()}
