"""The main job on the built-in synthetic corpus: build -> pre-train -> fine-tune every task, both from the
pre-trained encoder and from scratch (alpha = 0%) -> ``runs/<name>/report.md``.

Task / language pairing follows the paper's ablation choice of one benchmark per task: ISLR on the
English-text synthetic language (like MSASL), CSLR and GF-SLT on the German one (like Phoenix14(-T)). SL-RT
runs on the English one, not the Chinese one the paper's choice (CSL-Daily) suggests: the offline MiniLM text
encoder maps most Chinese characters to [UNK] (select mBART-cc25 for Chinese).
"""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch

from mslu.configs import find_config
from mslu.data.corpus import Corpus
from mslu.data.stats import render_stats_markdown, write_stats
from mslu.data.synth import SynthConfig
from mslu.data.synth.writer import write_benchmark, write_pretraining_corpus
from mslu.demo.report import render_islr_example, retrieval_examples, write_report
from mslu.training.finetuner import run_finetune
from mslu.training.pretrainer import run_pretrain
from mslu.training.run_config import load_config

log = logging.getLogger(__name__)

# SL-RT on English: the offline MiniLM text encoder maps most Chinese characters to [UNK] (mBART for zh)
TASK_LANGUAGE = {"islr": "syn-en", "cslr": "syn-de", "slt": "syn-de", "retrieval": "syn-en"}


@dataclass
class DemoConfig:
    """Sizes of the main job at ``scale`` 1.0 (9-10 minutes on a 2-core CPU in fp32, README).

    ``scale`` multiplies the pre-training corpus, the benchmark training sets and all epoch counts; dev and
    test sets scale too but keep at least ``min_eval`` clips (so small-scale runs still measure something).
    Fine-tuning sets are deliberately small (a low-resource regime, like most sign language benchmarks), so
    the pre-trained encoder has something to add.
    """

    out: Path = Path("runs/demo")
    scale: float = 1.0  # multiplies data sizes and training lengths
    seed: int = 0
    pretrain_samples: int = 2500
    pretrain_epochs: int = 4
    # train / dev / test clips per benchmark
    bench_sizes: dict[str, tuple[int, int, int]] = field(
        default_factory=lambda: {
            "islr": (240, 80, 160),
            "cslr": (160, 60, 120),
            "slt": (240, 60, 120),
            "retrieval": (160, 60, 120),
        }
    )
    vocab_size: int = 40  # signs per synthetic language (pre-training corpus and benchmarks)
    frame_step: int = 2  # the corpus kept at 25 / frame_step fps (12.5: half the frames, half the compute)
    finetune_epochs: dict[str, int] = field(
        default_factory=lambda: {"islr": 8, "cslr": 10, "slt": 12, "retrieval": 8}
    )
    tasks: tuple[str, ...] = ("islr", "cslr", "slt", "retrieval")
    threads: int | None = None  # per process; None: the cores shared out among the processes running at once
    jobs: int = 2  # fine-tuning runs at a time (separate processes)
    min_eval: int = 20
    reuse: bool = True  # keep an existing corpus / pre-trained encoder in ``out``
    progress: bool = True

    def scaled(self, n: int | float) -> int:
        return max(1, int(round(n * self.scale)))

    def sizes(self, task: str) -> tuple[int, int, int]:
        tr, dv, te = self.bench_sizes[task]
        return (
            max(self.min_eval, self.scaled(tr)),
            max(self.min_eval, self.scaled(dv)),
            max(self.min_eval, self.scaled(te)),
        )

    def num_threads(self, jobs: int = 1) -> int:
        """torch threads per process when ``jobs`` processes run at once: ``threads`` or the cores shared out
        (pre-training alone gets them all; on a machine busy with other work, ``threads=1`` avoids threads
        waiting for each other)."""
        return self.threads or max(1, (os.cpu_count() or 2) // max(1, jobs))


class Stopwatch:
    def __init__(self) -> None:
        self.t0 = time.perf_counter()
        self.marks: dict[str, float] = {}

    def mark(self, name: str, since: float) -> None:
        self.marks[name] = round(time.perf_counter() - since, 1)

    @property
    def total(self) -> float:
        return round(time.perf_counter() - self.t0, 1)


def synth_config(cfg: DemoConfig) -> SynthConfig:
    return SynthConfig(seed=cfg.seed, num_samples=cfg.scaled(cfg.pretrain_samples), vocab_size=cfg.vocab_size,
                       frame_step=cfg.frame_step)  # fmt: skip


def _synth(cfg: DemoConfig, data: Path) -> Path:
    """Pre-training corpus (all three languages) and the four benchmarks the demo uses."""
    sc = synth_config(cfg)  # a data folder of other generator settings is refused by the writers
    write_pretraining_corpus(data, sc)
    for task in cfg.tasks:
        lang = TASK_LANGUAGE[task]
        sizes = dict(zip(("train", "dev", "test"), cfg.sizes(task), strict=True))
        write_benchmark(data / "benchmarks" / f"{task}-{lang}", task, lang, sizes, cfg.seed, sc)
    return data


def task_config(task: str) -> Path:
    """The shipped ``<task>/synthetic`` config."""
    return find_config(f"{task}/synthetic")


def pretrain_config(cfg: DemoConfig, corpus: Path, out: Path) -> dict[str, Any]:
    """The shipped ``pretrain/synthetic_small`` config with the demo's corpus, epochs, seed and output."""
    c = load_config("pretrain/synthetic_small")
    c["data"].update(corpus=str(corpus))
    c["optim"].update(epochs=cfg.scaled(cfg.pretrain_epochs))
    c["run"].update(out=str(out), seed=cfg.seed, progress=cfg.progress, tensorboard=False)
    return c


def _stage(n: int, total: int, text: str, sw: Stopwatch) -> None:
    msg = f"[{n}/{total}] {text}  (elapsed {sw.total:.0f} s)"
    print(msg, flush=True)


def run_demo(cfg: DemoConfig) -> Path:
    """Run the main job into ``cfg.out``; returns the path of ``report.md``."""

    torch.set_num_threads(cfg.num_threads())
    load_start = _load()
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    sw = Stopwatch()
    total = 4 + 2 * len(cfg.tasks)
    _stage(1, total, f"synthetic corpus -> {out / 'data'}", sw)
    t = time.perf_counter()
    data = _synth(cfg, out / "data")
    sw.mark("synth", t)

    pre_dir = out / "pretrain"
    encoder_dir = pre_dir / "encoder"
    t = time.perf_counter()
    pcfg = pretrain_config(cfg, data, pre_dir)
    done = pre_dir / "done.json"
    if cfg.reuse and done.is_file() and json.loads(done.read_text()).get("config") == pcfg:
        _stage(2, total, f"pre-training: reusing {encoder_dir}", sw)
        pre_metrics = json.loads(done.read_text())["metrics"]
    else:
        _stage(2, total, f"pre-training the small preset ({pcfg['optim']['epochs']} epochs)", sw)
        pre_metrics = run_pretrain(pcfg)
        done.write_text(json.dumps({"config": pcfg, "metrics": pre_metrics}, default=str))
    sw.mark("pretrain", t)

    jobs = []
    for task in cfg.tasks:
        bench = data / "benchmarks" / f"{task}-{TASK_LANGUAGE[task]}"
        for init in ("pretrained", "scratch"):
            overrides = [
                f"data.corpus={bench}",
                f"optim.epochs={cfg.scaled(cfg.finetune_epochs[task])}",
                f"run.seed={cfg.seed}",
            ]
            jobs.append((task, init, str(out / "finetune" / f"{task}_{init}"), str(encoder_dir), overrides))
    results: dict[str, dict[str, dict]] = {task: {} for task in cfg.tasks}
    workers = max(1, min(cfg.jobs, len(jobs)))
    _stage(3, total, f"fine-tuning {len(jobs)} runs, {workers} at a time (per-epoch lines follow)", sw)
    t = time.perf_counter()
    if workers == 1:
        done_iter = (_finetune_job(job, cfg.num_threads(), cfg.progress) for job in jobs)
        pool = None
    else:
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor, as_completed

        pool = ProcessPoolExecutor(workers, mp_context=mp.get_context("spawn"))
        futures = [pool.submit(_finetune_job, job, cfg.num_threads(workers), False, True) for job in jobs]
        done_iter = (f.result() for f in as_completed(futures))
    try:
        for n, (task, init, metrics, seconds) in enumerate(done_iter, start=4):
            results[task][init] = metrics
            sw.marks[f"{task}/{init}"] = round(seconds, 1)
            key = metrics["main_metric"]
            _stage(
                n,
                total,
                f"done {task} ({init}): test {key} = {metrics['test'].get(key, float('nan')):.2f}",
                sw,
            )
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    sw.mark("finetune (all)", t)
    results = {task: {i: results[task][i] for i in ("pretrained", "scratch") if i in results[task]}
               for task in cfg.tasks}  # fmt: skip

    _stage(total, total, "report", sw)
    summary = {
        "config": _jsonable(asdict(cfg)),
        "threads": cfg.num_threads(),
        "jobs": workers,
        "cpu_count": os.cpu_count(),
        "pretrain": pre_metrics,
        "results": results,
        "seconds": {**sw.marks},
    }
    extras = _extras(cfg, out, data)
    summary["seconds"]["total"] = sw.total
    summary["load_average"] = {"start": load_start, "end": _load()}
    (out / "results.json").write_text(json.dumps(summary, indent=2, default=str))
    path = write_report(out, summary, extras)
    log.info("report: %s (%.0f s in total)", path, sw.total)
    print(f"done in {sw.total:.0f} s", flush=True)
    return path


def _finetune_job(
    job: tuple, threads: int, progress: bool, worker: bool = False
) -> tuple[str, str, dict, float]:
    """One fine-tuning run (in this process or a worker): ``(task, init, metrics, seconds)``."""

    task, init, run_dir, encoder_dir, overrides = job
    torch.set_num_threads(threads)
    if worker:  # a spawned worker (reused across runs): per-epoch lines with the run's name
        logging.basicConfig(level=logging.INFO)
        for handler in logging.getLogger().handlers:
            handler.setFormatter(logging.Formatter(f"  [{task}/{init}] %(message)s"))
        logging.getLogger("mslu.training.finetuner").setLevel(logging.INFO)
    t = time.perf_counter()
    metrics = run_finetune(
        task_config(task),
        run_dir,
        encoder_dir=encoder_dir if init == "pretrained" else None,
        scratch=init == "scratch",
        overrides=[*overrides, f"run.progress={str(progress).lower()}"],
    )
    return task, init, metrics, time.perf_counter() - t


def _extras(cfg: DemoConfig, out: Path, data: Path) -> list[str]:
    """Retrieval examples and a rendered ISLR test clip (sections of the report); failures are logged."""
    extras = [_corpus_stats(out, data)]
    for name, fn in (("retrieval", retrieval_examples), ("islr", render_islr_example)):
        if name not in cfg.tasks:
            continue
        try:
            extras.append(fn(out, data))
        except Exception as e:  # the report must not fail on an illustration
            log.warning("report: %s example skipped: %s", name, e)
    return [e for e in extras if e]


def _corpus_stats(out: Path, data: Path) -> str:
    """Tab. I / Tab. II / Fig. 3 of the synthetic pre-training corpus (also in ``<out>/corpus_stats/``)."""

    stats = write_stats(Corpus(data), out / "corpus_stats", title="the synthetic pre-training corpus")
    body = render_stats_markdown(stats, "the synthetic pre-training corpus")
    return "\n".join(
        [
            "## Pre-training corpus (cf. Tab. I, Tab. II, Fig. 3)",
            "",
            body,
            "",
            "![durations](corpus_stats/durations.png)",
        ]
    )


def _load() -> float | None:
    """1-minute load average (other jobs slow the run down), None where unavailable."""
    try:
        return round(os.getloadavg()[0], 2)
    except (AttributeError, OSError):
        return None


def _jsonable(d: dict) -> dict:
    return {k: (str(v) if isinstance(v, Path) else v) for k, v in d.items()}
