"""Corpus statistics in the form of the paper's Table I (signers, duration, paired / unpaired / total),
Table II (per sign language: samples, sentences, sources) and Fig. 3 (distribution of sample durations).

Readings of the paper where it is not explicit:

- *signers* counts distinct non-empty ``(source, signer)`` pairs, since signer ids are only unique within
  a dataset; samples with an empty signer are not counted.
- *duration* is the sum of ``num_frames / fps`` over all samples.
- *#sentences* of a sign language is the number of distinct non-empty texts of its paired samples
  (isolated-sign template sentences therefore count once per distinct gloss).
- *sources* lists the distinct ``source`` dataset names (the paper lists their kind: lab, web, TV).
- Fig. 3 is a histogram of sample lengths in frames (the paper: "most samples have 25 to 100 frames").

Keypoint coverage (not in the paper; for real data whose estimators give only part of the 79 points): per
source, the fraction of (frame, keypoint) entries present (confidence > 0) in each SL79 part (body 11, face
18 = jaw contour + nose tip, mouth 8, left hand 21, right hand 21), with the source's layouts (the
``estimator`` column: the layout each file was read in). It reads the pose data, unlike the rest.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa

from mslu.data.languages import SIGN_LANGUAGE_SHORT, SIGN_LANGUAGES
from mslu.pose.layouts import SL79

COVERAGE_PARTS: tuple[str, ...] = ("body", "face", "mouth", "left_hand", "right_hand")
_PART_INDEX = {p: np.asarray(SL79.groups[p], dtype=np.int64) for p in COVERAGE_PARTS}


@dataclass
class SignLanguageStats:
    sign_language: str
    name: str
    samples: int
    paired: int
    sentences: int
    sources: list[str]
    hours: float


@dataclass
class CorpusStats:
    """Table I, Table II and Fig. 3 figures for one corpus (or corpus view)."""

    signers: int
    hours: float
    paired: int
    unpaired: int
    total: int
    frames: int
    per_sign_language: list[SignLanguageStats] = field(default_factory=list)
    per_split: dict[str, int] = field(default_factory=dict)
    length_mean: float = 0.0
    length_median: float = 0.0
    length_min: int = 0
    length_max: int = 0
    histogram_edges: list[int] = field(default_factory=list)  # frames; bin k is [edges[k], edges[k+1])
    histogram_counts: list[int] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def _unique_nonempty(values: list) -> set:
    return {v for v in values if v is not None and v != ""}


def histogram_edges(max_len: int, bin_width: int = 25) -> np.ndarray:
    """Bin edges 0, w, 2w, ... covering ``max_len`` (the last bin includes ``max_len``)."""
    top = (int(max_len) // bin_width + 1) * bin_width
    return np.arange(0, top + bin_width, bin_width, dtype=np.int64)


def compute_stats_from_table(metadata: pa.Table, lengths: np.ndarray, bin_width: int = 25) -> CorpusStats:
    """Statistics from a metadata table (columns as in ``Corpus.metadata``) and frames per sample."""
    lengths = np.asarray(lengths, dtype=np.int64)
    n = metadata.num_rows
    if len(lengths) != n:
        raise ValueError(f"{len(lengths)} lengths for {n} samples")
    fps = metadata.column("fps").to_numpy(zero_copy_only=False).astype(np.float64)
    seconds = lengths / fps if n else np.zeros(0)
    paired = metadata.column("paired").to_numpy(zero_copy_only=False).astype(bool)
    sources = metadata.column("source").to_pylist()
    signers = metadata.column("signer").to_pylist()
    n_signers = len({(so, si) for so, si in zip(sources, signers) if si})
    langs = metadata.column("sign_language").to_pylist()
    texts = metadata.column("text").to_pylist()

    per_lang: list[SignLanguageStats] = []
    lang_arr = np.array(langs, dtype=object)
    for code in sorted(set(langs)):
        m = lang_arr == code
        idx = np.flatnonzero(m)
        per_lang.append(
            SignLanguageStats(
                sign_language=code,
                name=SIGN_LANGUAGE_SHORT.get(code, SIGN_LANGUAGES.get(code, (code,))[0]),
                samples=int(m.sum()),
                paired=int((m & paired).sum()),
                sentences=len(_unique_nonempty([texts[i] for i in idx if paired[i]])),
                sources=sorted(_unique_nonempty([sources[i] for i in idx])),
                hours=float(seconds[m].sum() / 3600.0),
            )
        )
    splits, split_counts = np.unique(
        np.array(metadata.column("split").to_pylist(), dtype=str), return_counts=True
    )
    per_split = {str(k): int(v) for k, v in zip(splits, split_counts)}
    edges = histogram_edges(lengths.max() if n else 0, bin_width)
    counts, _ = np.histogram(lengths, bins=edges)
    return CorpusStats(
        signers=n_signers,
        hours=float(seconds.sum() / 3600.0),
        paired=int(paired.sum()),
        unpaired=int(n - paired.sum()),
        total=int(n),
        frames=int(lengths.sum()),
        per_sign_language=per_lang,
        per_split=per_split,
        length_mean=float(lengths.mean()) if n else 0.0,
        length_median=float(np.median(lengths)) if n else 0.0,
        length_min=int(lengths.min()) if n else 0,
        length_max=int(lengths.max()) if n else 0,
        histogram_edges=[int(e) for e in edges],
        histogram_counts=[int(c) for c in counts],
    )


def compute_stats(corpus, bin_width: int = 25) -> CorpusStats:
    """Statistics of a :class:`~mslu.data.corpus.Corpus` or view; never reads pose data."""
    return compute_stats_from_table(corpus.metadata, corpus.lengths, bin_width=bin_width)


def _fmt_int(n: int) -> str:
    return f"{n:,}"


def render_stats_markdown(stats: CorpusStats, title: str = "corpus") -> str:
    """Markdown tables like the paper's Table I and Table II, plus the length summary of Fig. 3."""
    lines = [
        f"### Table I: statistics of {title}",
        "",
        "| | |",
        "|---|---|",
        f"| signers | {_fmt_int(stats.signers)} |",
        f"| duration | {stats.hours:,.2f} h |",
        f"| paired samples | {_fmt_int(stats.paired)} |",
        f"| unpaired samples | {_fmt_int(stats.unpaired)} |",
        f"| total samples | {_fmt_int(stats.total)} |",
        "",
        "### Table II: per sign language",
        "",
    ]
    langs = stats.per_sign_language
    lines.append("| | " + " | ".join(s.name for s in langs) + " |")
    lines.append("|---|" + "---|" * len(langs))
    lines.append("| #samples | " + " | ".join(_fmt_int(s.samples) for s in langs) + " |")
    lines.append("| #sentences | " + " | ".join(_fmt_int(s.sentences) for s in langs) + " |")
    lines.append("| hours | " + " | ".join(f"{s.hours:,.2f}" for s in langs) + " |")
    lines.append("| sources | " + " | ".join(", ".join(s.sources) for s in langs) + " |")
    lines += [
        "",
        "### Fig. 3: sample durations (frames)",
        "",
        f"mean {stats.length_mean:.1f}, median {stats.length_median:.1f}, "
        f"min {stats.length_min}, max {stats.length_max}, total frames {_fmt_int(stats.frames)}",
        "",
        "| frames | samples |",
        "|---|---|",
    ]
    e = stats.histogram_edges
    for k, c in enumerate(stats.histogram_counts):
        lines.append(f"| {e[k]}-{e[k + 1] - 1} | {_fmt_int(c)} |")
    if stats.per_split:
        lines += [
            "",
            "Splits: " + ", ".join(f"{k} {_fmt_int(v)}" for k, v in sorted(stats.per_split.items())),
        ]
    return "\n".join(lines) + "\n"


def pose_coverage(pose: np.ndarray) -> dict[str, float]:
    """Fraction of present (confidence > 0) entries per part of a (T, 79, 3) SL79 pose (or (N, T, 79, 3))."""
    present = np.asarray(pose)[..., 2] > 0
    return {p: float(present[..., idx].mean()) if present.size else 0.0 for p, idx in _PART_INDEX.items()}


def coverage_counts(pose: np.ndarray) -> tuple[dict[str, int], int]:
    """(present entries per part, frames) of a (T, 79, 3) pose: summable over samples."""
    present = np.asarray(pose)[..., 2] > 0
    return {p: int(present[:, idx].sum()) for p, idx in _PART_INDEX.items()}, int(present.shape[0])


def compute_coverage(corpus, max_samples: int | None = None) -> dict[str, dict]:
    """Per source: ``samples``, ``frames``, ``layouts`` ({layout: samples}) and the coverage of each part
    (fraction of its (frame, keypoint) entries present). ``max_samples``: at most this many samples per
    source, evenly spaced (the layouts always count all)."""
    meta = corpus.metadata
    sources = meta.column("source").to_pylist()
    layouts = meta.column("estimator").to_pylist()
    by_source: dict[str, list[int]] = {}
    for i, src in enumerate(sources):
        by_source.setdefault(src, []).append(i)
    out: dict[str, dict] = {}
    for src in sorted(by_source):
        idx = by_source[src]
        chosen = idx
        if max_samples and len(idx) > max_samples:
            chosen = [idx[int(k)] for k in np.linspace(0, len(idx) - 1, max_samples).round()]
        totals = dict.fromkeys(COVERAGE_PARTS, 0)
        frames = 0
        for i in chosen:
            counts, t = coverage_counts(corpus.pose(i))
            frames += t
            for p in COVERAGE_PARTS:
                totals[p] += counts[p]
        lay: dict[str, int] = {}
        for i in idx:
            lay[layouts[i] or "?"] = lay.get(layouts[i] or "?", 0) + 1
        out[src] = {
            "samples": len(idx),
            "frames": frames,
            "layouts": dict(sorted(lay.items(), key=lambda kv: -kv[1])),
            **{p: (totals[p] / (frames * len(_PART_INDEX[p])) if frames else 0.0) for p in COVERAGE_PARTS},
        }
    return out


def render_coverage_markdown(coverage: dict[str, dict]) -> str:
    """The coverage of :func:`compute_coverage` as a markdown table (percent of keypoints present)."""
    head = "| source | layouts | samples | " + " | ".join(p.replace("_", " ") for p in COVERAGE_PARTS) + " |"
    lines = ["### Keypoint coverage per part (% of keypoints present)", "", head,
             "|---|---|---|" + "---|" * len(COVERAGE_PARTS)]
    for src, c in coverage.items():
        lays = ", ".join(f"{k} ({v})" if len(c["layouts"]) > 1 else k for k, v in c["layouts"].items())
        lines.append(f"| {src} | {lays} | {_fmt_int(c['samples'])} | "
                     + " | ".join(f"{100 * c[p]:.1f}" for p in COVERAGE_PARTS) + " |")
    return "\n".join(lines) + "\n"


def input_profile(corpus, max_samples: int | None = 2000) -> dict:
    """What a model trained on ``corpus`` (a corpus or view, e.g. a training split) saw: ``samples``,
    ``layouts`` ({layout: samples}) and ``coverage`` ({part: fraction present}) over all its sources
    (evenly spaced ``max_samples`` for the coverage)."""
    n = len(corpus)
    layouts: dict[str, int] = {}
    for lay in corpus.metadata.column("estimator").to_pylist():
        layouts[lay or "?"] = layouts.get(lay or "?", 0) + 1
    chosen = range(n) if not max_samples or n <= max_samples else np.linspace(0, n - 1, max_samples).round()
    totals = dict.fromkeys(COVERAGE_PARTS, 0)
    frames = 0
    for i in chosen:
        counts, t = coverage_counts(corpus.pose(int(i)))
        frames += t
        for p in COVERAGE_PARTS:
            totals[p] += counts[p]
    cov = {p: (totals[p] / (frames * len(_PART_INDEX[p])) if frames else 0.0) for p in COVERAGE_PARTS}
    return {"samples": n, "layouts": dict(sorted(layouts.items(), key=lambda kv: -kv[1])), "coverage": cov}


def coverage_warnings(profile: dict, layout: str, coverage: dict[str, float], low: float = 0.2,
                      ratio: float = 4.0) -> list[str]:
    """Why an input may not suit a model whose training data had ``profile`` (:func:`input_profile`): a
    layout never seen in training; a part the training data had (>= ``low`` of its keypoints present) that
    the input has under half as often; a part the input has (>= ``low``) more than ``ratio`` times as often
    as the training data (e.g. a face mesh where training saw the nose tip only)."""
    out = []
    seen = profile.get("layouts") or {}
    if seen and layout not in seen:
        out.append(f"input layout {layout!r} was never seen in training (trained on: {', '.join(seen)})")
    train = profile.get("coverage") or {}
    for p in COVERAGE_PARTS:
        t, c = float(train.get(p, 0.0)), float(coverage.get(p, 0.0))
        name = p.replace("_", " ")
        if t >= low and c < t / 2:
            out.append(f"input has {100 * c:.0f}% of its {name} keypoints, the training data {100 * t:.0f}%: "
                       f"predictions rely on {name} keypoints the input lacks")
        elif c >= low and c > ratio * t:
            out.append(f"input has {name} keypoints ({100 * c:.0f}% present) that the training data lacked "
                       f"({100 * t:.0f}%): the model never learnt from them")
    return out


def save_duration_histogram(stats: CorpusStats, path: str | Path, title: str = "") -> Path:
    """Write the Fig. 3-style histogram of sample lengths to ``path`` (PNG, matplotlib Agg)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    e = np.asarray(stats.histogram_edges)
    fig, ax = plt.subplots(figsize=(6, 3.5), dpi=120)
    if len(e) > 1:
        ax.bar(
            e[:-1], stats.histogram_counts, width=np.diff(e), align="edge", edgecolor="black", linewidth=0.5
        )
    ax.set_xlabel("sample duration (frames)")
    ax.set_ylabel("number of samples")
    ax.set_title(title or "Distribution over sample durations")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def write_stats(corpus, out_dir: str | Path, title: str = "corpus", bin_width: int = 25,
                coverage: dict[str, dict] | None = None) -> CorpusStats:
    """Compute the statistics and write ``stats.md``, ``stats.json`` and ``durations.png`` to ``out_dir``;
    with ``coverage`` (:func:`compute_coverage`) also its table in ``stats.md`` and ``stats.json``
    (key ``coverage``)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    stats = compute_stats(corpus, bin_width=bin_width)
    text = render_stats_markdown(stats, title)
    data = stats.to_dict()
    if coverage is not None:
        text += "\n" + render_coverage_markdown(coverage)
        data["coverage"] = coverage
    (out / "stats.md").write_text(text, encoding="utf-8")
    (out / "stats.json").write_text(json.dumps(data, indent=1, ensure_ascii=False), encoding="utf-8")
    save_duration_histogram(stats, out / "durations.png")
    return stats


__all__ = [
    "COVERAGE_PARTS",
    "CorpusStats",
    "SignLanguageStats",
    "compute_stats",
    "compute_coverage",
    "compute_stats_from_table",
    "coverage_counts",
    "coverage_warnings",
    "input_profile",
    "pose_coverage",
    "render_coverage_markdown",
    "render_stats_markdown",
    "save_duration_histogram",
    "write_stats",
]
