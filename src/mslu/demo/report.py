"""``report.md`` of the main job: tables laid out like the paper's Tables IV-XI and XIII, and plots."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from mslu.data.corpus import Corpus
from mslu.pose.layouts import SL79
from mslu.pose.render import render_frames, save_frames
from mslu.pose.sequence import PoseSequence

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


def chance_level(task: str, out: Path) -> str:
    """What guessing (ISLR, SL-RT) or an empty output (CSLR: WER 100; GF-SLT: BLEU-4 0) scores."""

    if task == "cslr":
        return "100.00 (no output)"
    if task == "slt":
        return "0.00"
    d = Path(out) / "finetune" / f"{task}_pretrained"
    try:
        if task == "islr":
            n = len(json.loads((d / "model" / "classes.json").read_text())["classes"])
            return f"{100.0 / n:.2f} (1/{n} classes)"
        n = len(_read_jsonl(d / "predictions.jsonl"))
        return f"{100.0 / n:.2f} (1/{n} clips)" if n else "-"
    except (OSError, KeyError, ValueError):
        return "-"


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
    lines += [
        "| task | metric | chance / trivial | scratch | pre-trained | margin |",
        "|---|---|---|---|---|---|",
    ]
    for task, runs in results.items():
        key, _ = MAIN_METRIC[task]
        s = split_metrics(runs.get("scratch", {}), "test").get(key)
        p = split_metrics(runs.get("pretrained", {}), "test").get(key)
        ref = chance_level(task, out)
        lines.append(f"| {task} | {key} | {ref} | {_fmt(s)} | {_fmt(p)} | {_fmt(margin(task, runs))} |")
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
        lines += ["## Time (s)", ""]
        load = summary.get("load_average") or {}
        if summary.get("threads"):
            lines += [
                f"{summary['threads']} torch thread(s) on {summary.get('cpu_count')} cores, "
                f"{summary.get('jobs', 1)} fine-tuning run(s) at a time; 1-minute load "
                f"average {load.get('start')} at the start, {load.get('end')} at the end (other jobs slow "
                "the run down).",
                "",
            ]
        lines += ["| step | seconds |", "|---|---|"]
        lines += [f"| {k} | {v} |" for k, v in secs.items()]
    path = out / "report.md"
    path.write_text("\n".join(lines) + "\n")
    return path


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def retrieval_examples(out: Path, data: Path | None = None, num_queries: int = 3, k: int = 3) -> str:
    """Markdown: for the first ``num_queries`` distinct test sentences, the sentences of the top-``k`` clips
    retrieved by each model (pre-trained / scratch), marked correct (same sentence) or not."""
    runs = {init: _read_jsonl(Path(out) / "finetune" / f"retrieval_{init}" / "predictions.jsonl")
            for init in ("pretrained", "scratch")}  # fmt: skip
    runs = {k_: v for k_, v in runs.items() if v}
    if not runs:
        return ""
    first = next(iter(runs.values()))
    sentence = {p["id"]: p["text"] for p in first}
    seen, queries = set(), []
    for p in first:
        if p["text"] not in seen:
            seen.add(p["text"])
            queries.append(p["id"])
        if len(queries) == num_queries:
            break
    lines = ["## Retrieval examples (SL-RT, test split, text -> video)", ""]
    lines += [f"Top-{k} clips per text query, shown by their sentences; ✓ = the clip signs the query.", ""]
    for qid in queries:
        lines += [f"**Query:** {sentence[qid]}", "", "| rank | " + " | ".join(runs) + " |",
                  "|---|" + "---|" * len(runs)]  # fmt: skip
        tops = {init: next(p for p in ps if p["id"] == qid)["t2v_top5"][:k] for init, ps in runs.items()}
        for r in range(k):
            cells = []
            for init in runs:
                vid = tops[init][r] if r < len(tops[init]) else None
                if vid is None:
                    cells.append("-")
                    continue
                mark = "✓" if sentence.get(vid) == sentence[qid] else "✗"
                cells.append(f"{mark} {sentence.get(vid, vid)}")
            lines.append(f"| {r + 1} | " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


def render_islr_example(out: Path, data: Path, index: int = 0) -> str:
    """Render test clip ``index`` of the ISLR benchmark (PNG grid + GIF, :mod:`mslu.pose.render`) with the
    top-1 predictions of the pre-trained and scratch models; returns the markdown section."""



    out = Path(out)
    preds = {init: _read_jsonl(out / "finetune" / f"islr_{init}" / "predictions.jsonl")
             for init in ("pretrained", "scratch")}  # fmt: skip
    preds = {k: v for k, v in preds.items() if v}
    if not preds:
        return ""
    first = next(iter(preds.values()))
    sid = first[min(index, len(first) - 1)]["id"]
    names: dict[int, str] = {}
    for init in preds:
        f = out / "finetune" / f"islr_{init}" / "model" / "classes.json"
        if f.is_file():
            names.update({int(c): t for c, t in json.loads(f.read_text())["class_text"].items()})

    def label(c: int) -> str:
        return f"{c} ({names[c]})" if c in names else str(c)

    bench = next(Path(data, "benchmarks").glob("islr-*"))
    corpus = Corpus(bench)
    i = corpus.ids.index(sid)
    meta = corpus.metadata.slice(i, 1).to_pylist()[0]
    w, h = int(meta.get("width") or 1), int(meta.get("height") or 1)
    pose = np.array(corpus.pose(i), dtype=np.float32)
    pose[..., 0] *= w
    pose[..., 1] *= h
    seq = PoseSequence(pose, SL79, fps=float(meta.get("fps") or 25.0), width=w, height=h)
    truth = int(meta["label"])
    guess = {init: int(next(p for p in ps if p["id"] == sid)["top5"][0]) for init, ps in preds.items()}
    caption = "  ".join(f"{init}: {label(g)}" for init, g in guess.items())
    short = {"pretrained": "pre", "scratch": "scr"}
    frame_caption = f"true {names.get(truth, truth)}" + "".join(
        f" | {short.get(init, init)} {names.get(g, g)}" for init, g in guess.items()
    )
    frames = render_frames(seq, size=320, caption=frame_caption)
    png = save_frames(frames, out / "islr_example.png", grid=12)
    gif = save_frames(frames, out / "islr_example.gif", fps=seq.fps)
    lines = ["## A rendered test clip (ISLR) and its predictions", ""]
    lines += [f"Clip `{sid}`, true sign: **{label(truth)}**; top-1 predictions: {caption}", ""]
    lines += ["| model | top-1 | correct |", "|---|---|---|"]
    lines += [f"| {init} | {label(g)} | {'✓' if g == truth else '✗'} |" for init, g in guess.items()]
    lines += ["", f"![{png.stem}]({png.name})", "", f"Animated: [{gif.name}]({gif.name})", ""]
    return "\n".join(lines)
