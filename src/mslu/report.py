"""``report.md`` of the main job: tables laid out like the paper's Tables IV-XI and XIII, and plots."""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any

# task -> (paper table, main metric, higher is better)
MAIN_METRIC = {
    "islr": ("per_instance_top1", True),
    "cslr": ("wer", False),
    "slt": ("bleu4", True),
    "retrieval": ("t2v_R@1", True),
}
TITLES = {
    "islr": "ISLR (cf. Tab. IV/V): per-instance and per-class accuracy, %",
    "cslr": "CSLR (cf. Tab. VIII): WER, %, lower is better",
    "slt": "GF-SLT (cf. Tab. IX/XI): BLEU-n and ROUGE-L",
    "retrieval": "SL-RT (cf. Tab. X): recall at K, %, and median rank",
}
COLUMNS = {
    "islr": [
        ("per_instance_top1", "P-I Top-1"),
        ("per_instance_top5", "P-I Top-5"),
        ("per_class_top1", "P-C Top-1"),
        ("per_class_top5", "P-C Top-5"),
    ],
    "cslr": [("del", "del"), ("ins", "ins"), ("wer", "WER")],
    "slt": [("bleu1", "B-1"), ("bleu2", "B-2"), ("bleu4", "B-4"), ("rouge_l", "ROUGE")],
    "retrieval": [
        ("t2v_R@1", "T2V R@1"),
        ("t2v_R@5", "R@5"),
        ("t2v_R@10", "R@10"),
        ("t2v_MedR", "MedR"),
        ("v2t_R@1", "V2T R@1"),
        ("v2t_R@5", "R@5"),
        ("v2t_R@10", "R@10"),
        ("v2t_MedR", "MedR"),
    ],
}


def _fmt(v: Any) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    return f"{v:.2f}" if isinstance(v, float) else str(v)


def split_metrics(result: dict, split: str) -> dict:
    """Metrics of one split from a fine-tuning result (``{"dev": {...}, "test": {...}}``)."""
    return result.get(split) or result.get(f"{split}_metrics") or {}


def task_table(task: str, runs: dict[str, dict]) -> str:
    cols = COLUMNS[task]
    head = "| Method | " + " | ".join(f"{s} {name}" for s in ("Dev", "Test") for _, name in cols) + " |"
    lines = [head, "|" + "---|" * (1 + 2 * len(cols))]
    for init, label in (("scratch", "Scratch (alpha = 0%)"), ("pretrained", "Pre-trained (ours)")):
        if init not in runs:
            continue
        vals = [_fmt(split_metrics(runs[init], s).get(k)) for s in ("dev", "test") for k, _ in cols]
        lines.append(f"| {label} | " + " | ".join(vals) + " |")
    return "\n".join(lines)


def margin(task: str, runs: dict[str, dict], split: str = "test") -> float | None:
    key, higher = MAIN_METRIC[task]
    try:
        p = split_metrics(runs["pretrained"], split)[key]
        s = split_metrics(runs["scratch"], split)[key]
    except KeyError:
        return None
    return (p - s) if higher else (s - p)


def alpha_table(results: dict[str, dict]) -> str:
    tasks = [t for t in MAIN_METRIC if t in results]
    head = (
        "| alpha | "
        + " | ".join(f"{t.upper()} {MAIN_METRIC[t][0]} {'↑' if MAIN_METRIC[t][1] else '↓'}" for t in tasks)
        + " |"
    )
    lines = [head, "|" + "---|" * (1 + len(tasks))]
    for init, alpha in (("scratch", "0%"), ("pretrained", "100%")):
        vals = [_fmt(split_metrics(results[t].get(init, {}), "test").get(MAIN_METRIC[t][0])) for t in tasks]
        lines.append(f"| {alpha} | " + " | ".join(vals) + " |")
    return "\n".join(lines)


def _read_csv(path: Path) -> list[dict[str, str]]:
    if not path.is_file():
        return []
    with path.open() as f:
        return list(csv.DictReader(f))


def plot_losses(out: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    made = []
    rows = _read_csv(out / "pretrain" / "metrics.csv")
    if rows:
        fig, axes = plt.subplots(1, 2, figsize=(9, 3.2))
        step = [float(r.get("step", i)) for i, r in enumerate(rows)]
        for ax, key in zip(axes, ("loss_pr", "loss_stc")):
            ys = [float(r[key]) for r in rows if r.get(key) not in (None, "")]
            ax.plot(step[: len(ys)], ys)
            ax.set_title(f"pre-training {key}")
            ax.set_xlabel("step")
        fig.tight_layout()
        p = out / "pretrain_losses.png"
        fig.savefig(p, dpi=100)
        plt.close(fig)
        made.append(p)
    ft = sorted((out / "finetune").glob("*/history.csv")) if (out / "finetune").is_dir() else []
    if ft:
        fig, ax = plt.subplots(figsize=(6, 3.5))
        for path in ft:
            rows = _read_csv(path)
            ys = [float(r["train_loss"]) for r in rows if r.get("train_loss") not in (None, "")]
            ax.plot(
                range(1, len(ys) + 1),
                ys,
                label=path.parent.name,
                ls="-" if "pretrained" in path.parent.name else "--",
            )
        ax.set_xlabel("epoch")
        ax.set_ylabel("training loss")
        ax.set_yscale("log")
        ax.legend(fontsize=7)
        fig.tight_layout()
        p = out / "finetune_losses.png"
        fig.savefig(p, dpi=100)
        plt.close(fig)
        made.append(p)
    return made


def write_report(out: Path, summary: dict[str, Any], extras: list[str] | None = None) -> Path:
    out = Path(out)
    results = summary["results"]
    lines = ["# mslu main job: synthetic corpus", ""]
    lines += [
        "Build -> pre-train (masked pose modelling + fine-grained sign-text contrastive) -> "
        "fine-tune every "
        "task from the pre-trained encoder and from scratch. Test-split figures unless stated.",
        "",
    ]
    lines += [
        "## Pre-training helps: margin = pre-trained minus scratch, in the better direction",
        "",
    ]
    lines += ["| task | metric | scratch | pre-trained | margin |", "|---|---|---|---|---|"]
    for task, runs in results.items():
        key, _ = MAIN_METRIC[task]
        s = split_metrics(runs.get("scratch", {}), "test").get(key)
        p = split_metrics(runs.get("pretrained", {}), "test").get(key)
        lines.append(f"| {task} | {key} | {_fmt(s)} | {_fmt(p)} | {_fmt(margin(task, runs))} |")
    lines += ["", "## Impact of pre-training data (cf. Tab. XIII)", "", alpha_table(results), ""]
    for task, runs in results.items():
        lines += [f"## {TITLES[task]}", "", task_table(task, runs), ""]
    pre = summary.get("pretrain") or {}
    if pre:
        lines += ["## Pre-training (last logged values)", ""]
        lines += [
            "| " + " | ".join(pre) + " |",
            "|" + "---|" * len(pre),
            "| " + " | ".join(_fmt(v) for v in pre.values()) + " |",
            "",
        ]
    plots = plot_losses(out)
    for p in plots:
        lines += [f"![{p.stem}]({p.name})", ""]
    for extra in extras or []:
        lines += [extra, ""]
    secs = summary.get("seconds", {})
    if secs:
        lines += ["## Time (s)", "", "| step | seconds |", "|---|---|"]
        lines += [f"| {k} | {v} |" for k, v in secs.items()]
    path = out / "report.md"
    path.write_text("\n".join(lines) + "\n")
    return path
