"""Build a pre-training corpus (e.g. SL-1.5M, paper Sec. III-A) from a YAML recipe.

Recipe (see ``configs/corpus/sl1.5m.yaml``)::
    name: SL-1.5M
    shard_size: 4096
    include_splits: [train]      # splits that enter the corpus (default: train only)
    benchmarks: all              # benchmark split files to export: all | none | [wlasl100, phoenix2014t, ...]
    sources:
      - name: wlasl              # a key of mslu.data.datasets.INGESTORS
        root: /data/WLASL        # the release folder (official annotation files)
        poses: /data/poses/wlasl # the .pose files
        splits: [train]          # optional, overrides include_splits for this source
        options: {}              # ingestor keyword options
        limit: null              # optional: at most this many clips of this source
        enabled: true
        variant: null            # e.g. interwild: the same clips with other poses enter as new samples
                                 # (ids <dataset>/<clip>@interwild), as the paper adds InterWild hands
        paper: {samples: 5672}   # optional: the paper's figures for this source, reported next to ours
    paper:                       # optional: the paper's Table I / II figures, reported next to ours
      total: {samples: 1563701, paired: 1552357, unpaired: 11344, hours: 1780}
      languages: {ase: {samples: 110000}, ...}

Paths may use ``~`` and ``$VARS``; relative paths are relative to the recipe file.

Held-out data: the paper pre-trains on the training data, so by default only the ``train`` split of every
source enters the corpus, and a clip listed in the dev/test split of any exported benchmark of its source
is left out even when its own dataset calls it train (``exclude_benchmark_eval: true``). A recipe that
really wants dev/test clips (e.g. a downstream corpus) lists them in ``include_splits``.

Outputs in ``out_dir`` (the corpus root of :class:`mslu.data.corpus.CorpusWriter`):

* the corpus shards and ``manifest.json``;
* ``skipped.csv`` (``id,source,reason``): clips without a usable pose or that failed validation;
* ``stats.json``: per-source statistics (clips per split, written, skipped, frames, hours, paired ...);
* ``benchmarks/<benchmark>/{train,dev,test}.txt``: sample ids of the downstream splits, and
  ``benchmarks/index.json``;
* ``paper_comparison.md``: built vs the paper's figures (total, per sign language, per source) when the
  recipe carries them.

Resumable: running the same recipe again continues the corpus; ids already written are not loaded again.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import logging
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from mslu.data.corpus import Corpus, CorpusWriter
from mslu.data.datasets import get_ingestor
from mslu.data.datasets.base import OFFICIAL_SPLITS, DatasetIngestor, canonical_split

log = logging.getLogger(__name__)

_SOURCE_KEYS = {"name", "root", "poses", "splits", "options", "limit", "enabled", "label", "variant", "paper"}
_RECIPE_KEYS = {"name", "shard_size", "include_splits", "benchmarks", "sources", "exclude_benchmark_eval",
                "description", "paper"}
_FIGURES = ("samples", "paired", "unpaired", "hours", "signers")


class RecipeError(ValueError):
    """A recipe that cannot be used; the message names the recipe and the problem."""


@dataclass
class SourceSpec:
    name: str
    root: Path
    poses: Path
    splits: tuple[str, ...]
    options: dict[str, Any] = field(default_factory=dict)
    limit: int | None = None
    label: str = ""  # key in stats / skip report; defaults to name
    variant: str | None = None  # a second pose set of the same clips: new samples "<id>@<variant>"
    paper: dict[str, float] = field(default_factory=dict)  # the paper's figures for this source


@dataclass
class Recipe:
    name: str
    sources: list[SourceSpec]
    shard_size: int = 4096
    benchmarks: str | list[str] = "all"
    exclude_benchmark_eval: bool = True
    paper: dict[str, Any] = field(default_factory=dict)  # {"total": {...}, "languages": {code: {...}}}


def _path(value: Any, base: Path, where: str) -> Path:
    if value in (None, ""):
        raise RecipeError(f"{where}: missing path")
    p = Path(os.path.expandvars(os.path.expanduser(str(value))))
    return p if p.is_absolute() else base / p


def parse_recipe(recipe: str | Path | dict, base: Path | None = None) -> Recipe:
    """Read and check a recipe (a YAML file or an already-loaded dict)."""
    if isinstance(recipe, dict):
        data, where, base = recipe, "recipe", base or Path.cwd()
    else:
        path = Path(recipe)
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise RecipeError(f"{path}: cannot read recipe: {exc}") from exc
        where, base = str(path), base or path.resolve().parent
    if not isinstance(data, dict):
        raise RecipeError(f"{where}: a recipe is a mapping with a 'sources' list")
    unknown = set(data) - _RECIPE_KEYS
    if unknown:
        raise RecipeError(f"{where}: unknown key(s) {sorted(unknown)}")
    default_splits = _splits(data.get("include_splits", ["train"]), f"{where}: include_splits")
    sources: list[SourceSpec] = []
    for i, src in enumerate(data.get("sources") or []):
        w = f"{where}: sources[{i}]"
        if not isinstance(src, dict) or "name" not in src:
            raise RecipeError(f"{w}: expected a mapping with a 'name'")
        unknown = set(src) - _SOURCE_KEYS
        if unknown:
            raise RecipeError(f"{w}: unknown key(s) {sorted(unknown)}")
        if not src.get("enabled", True):
            continue
        variant = src.get("variant")
        if variant is not None and (not isinstance(variant, str) or not variant.isidentifier()):
            raise RecipeError(f"{w}.variant: a name of letters, digits and _ (e.g. interwild), "
                              f"got {variant!r}")
        sources.append(SourceSpec(
            name=str(src["name"]),
            root=_path(src.get("root"), base, f"{w}.root"),
            poses=_path(src.get("poses"), base, f"{w}.poses"),
            splits=_splits(src["splits"], f"{w}.splits") if "splits" in src else default_splits,
            options=dict(src.get("options") or {}),
            limit=None if src.get("limit") is None else int(src["limit"]),
            label=str(src.get("label") or (f"{src['name']}@{variant}" if variant else src["name"])),
            variant=variant,
            paper=_figures(src.get("paper"), f"{w}.paper"),
        ))
    if not sources:
        raise RecipeError(f"{where}: no (enabled) sources")
    labels = Counter(s.label for s in sources)
    if any(n > 1 for n in labels.values()):
        twice = labels.most_common(1)[0][0]
        raise RecipeError(f"{where}: source {twice!r} appears twice; give each a distinct 'label'")
    benchmarks = data.get("benchmarks", "all")
    if benchmarks in (None, False, "none"):
        benchmarks = []
    elif benchmarks is not True and benchmarks != "all":
        if not isinstance(benchmarks, list):
            raise RecipeError(f"{where}: benchmarks must be 'all', 'none' or a list of names")
        benchmarks = [str(b) for b in benchmarks]
    else:
        benchmarks = "all"
    paper = data.get("paper") or {}
    if not isinstance(paper, dict) or set(paper) - {"total", "languages"}:
        raise RecipeError(f"{where}: paper: expected 'total' and / or 'languages'")
    paper = {"total": _figures(paper.get("total"), f"{where}: paper.total"),
             "languages": {str(k): _figures(v, f"{where}: paper.languages.{k}")
                           for k, v in (paper.get("languages") or {}).items()}}
    return Recipe(
        paper=paper,
        name=str(data.get("name", "corpus")),
        sources=sources,
        shard_size=int(data.get("shard_size", 4096)),
        benchmarks=benchmarks,
        exclude_benchmark_eval=bool(data.get("exclude_benchmark_eval", True)),
    )


def _figures(value: Any, where: str) -> dict[str, float]:
    if value is None:
        return {}
    if not isinstance(value, dict) or set(value) - set(_FIGURES):
        raise RecipeError(f"{where}: expected a mapping of {', '.join(_FIGURES)}")
    try:
        return {k: float(v) for k, v in value.items()}
    except (TypeError, ValueError) as exc:
        raise RecipeError(f"{where}: figures must be numbers ({exc})") from exc


def _splits(value: Any, where: str) -> tuple[str, ...]:
    values = [value] if isinstance(value, str) else list(value or [])
    if values == ["all"]:
        return OFFICIAL_SPLITS
    try:
        return tuple(dict.fromkeys(canonical_split(v) for v in values))
    except ValueError as exc:
        raise RecipeError(f"{where}: {exc}") from exc


def _export_benchmarks(out_dir: Path, found: dict[str, tuple[str, dict[str, list[str]]]],
                       written_ids: set[str]) -> dict[str, Any]:
    index: dict[str, Any] = {}
    for bench, (source, splits) in sorted(found.items()):
        d = out_dir / "benchmarks" / bench
        d.mkdir(parents=True, exist_ok=True)
        entry: dict[str, Any] = {"source": source, "splits": {}}
        for sp, ids in splits.items():
            (d / f"{sp}.txt").write_text("".join(f"{i}\n" for i in ids), encoding="utf-8")
            entry["splits"][sp] = {"clips": len(ids), "in_corpus": sum(i in written_ids for i in ids)}
        index[bench] = entry
    if index:
        (out_dir / "benchmarks" / "index.json").write_text(json.dumps(index, indent=1), encoding="utf-8")
    return index


def _corpus_stats(out_dir: Path) -> tuple[dict[str, dict[str, Any]], set[str]]:
    """Per-source statistics of everything in the corpus (so they stay right across resumed runs)."""

    meta = Corpus(out_dir).metadata.to_pydict()
    stats: dict[str, dict[str, Any]] = {}
    signers: dict[str, set[str]] = {}
    for i in range(len(meta["id"])):
        variant = meta["id"][i].rpartition("@")[2] if "@" in meta["id"][i] else ""
        src = f"{meta['source'][i]}@{variant}" if variant else meta["source"][i]
        s = stats.setdefault(src, {"samples": 0, "paired": 0, "unpaired": 0, "frames": 0, "hours": 0.0,
                                   "splits": Counter(), "sign_language": meta["sign_language"][i],
                                   "text_language": meta["text_language"][i]})
        frames = int(meta["num_frames"][i])
        s["samples"] += 1
        s["paired" if meta["paired"][i] else "unpaired"] += 1
        s["frames"] += frames
        s["hours"] += frames / float(meta["fps"][i] or 25.0) / 3600
        s["splits"][meta["split"][i]] += 1
        signers.setdefault(src, set()).add(str(meta["signer"][i]))
    for src, s in stats.items():
        s["splits"] = dict(s["splits"])
        s["hours"] = round(s["hours"], 4)
        s["signers"] = len(signers[src] - {""})
    return stats, set(meta["id"])


def build_corpus(recipe_path: str | Path | dict, out_dir: str | Path) -> dict[str, Any]:
    """Build (or resume) the corpus of a recipe in ``out_dir``; returns what it writes to stats.json."""

    recipe = parse_recipe(recipe_path)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    skipped: list[tuple[str, str, str]] = []
    run: dict[str, dict[str, Any]] = {}
    benchmarks: dict[str, tuple[str, dict[str, list[str]]]] = {}

    ingestors = []
    for spec in recipe.sources:  # check every source before writing anything
        for what, p in (("root", spec.root), ("poses", spec.poses)):
            if not p.is_dir():
                raise RecipeError(f"source {spec.label!r}: {what} folder {p} does not exist")
        ingestors.append(get_ingestor(spec.name, spec.root, **spec.options))

    with CorpusWriter(out_dir, shard_size=recipe.shard_size) as writer:
        for spec, ingestor in zip(recipe.sources, ingestors, strict=True):
            bench = ingestor.benchmarks() if (recipe.benchmarks or recipe.exclude_benchmark_eval) else {}
            wanted = {b: s for b, s in bench.items() if recipe.benchmarks == "all" or b in recipe.benchmarks}
            if spec.variant is None:  # benchmarks are defined on the clips, not on their second pose set
                benchmarks.update({b: (spec.label, s) for b, s in wanted.items()})
            held_out = set()
            if recipe.exclude_benchmark_eval:
                held_out = {i for s in bench.values() for sp, ids in s.items() if sp not in spec.splits
                            for i in ids}
            run[spec.label] = _ingest_source(ingestor, spec, writer, held_out, skipped)
        report = writer.report
    labels = {r["source"]: label for label, r in run.items()}
    for sid, problem in report.skipped:
        src = sid.split("/", 1)[0]
        skipped.append((sid, labels.get(src, src), f"invalid sample: {problem}"))

    with (out_dir / "skipped.csv").open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "source", "reason"])
        w.writerows(skipped)
    corpus_stats, written_ids = _corpus_stats(out_dir)
    index = _export_benchmarks(out_dir, benchmarks, written_ids) if recipe.benchmarks else {}
    reasons = Counter(skip_kind(r) for _, _, r in skipped)
    stats = {
        "recipe": recipe.name,
        "total": {"samples": len(written_ids),
                  "paired": sum(s["paired"] for s in corpus_stats.values()),
                  "unpaired": sum(s["unpaired"] for s in corpus_stats.values()),
                  "hours": round(sum(s["hours"] for s in corpus_stats.values()), 4)},
        "sources": {label: {**r, **corpus_stats.get(_stats_key(r), {})} for label, r in run.items()},
        "skipped": {"total": len(skipped), "by_kind": dict(reasons)},
        "benchmarks": sorted(index),
    }
    (out_dir / "stats.json").write_text(json.dumps(stats, indent=1, ensure_ascii=False), encoding="utf-8")
    comparison = compare_with_paper(stats, recipe)
    if comparison:
        (out_dir / "paper_comparison.md").write_text(comparison, encoding="utf-8")
        stats["paper_comparison"] = comparison
    log.info("corpus %s: %d samples (%d written this run, %d skipped)", out_dir, len(written_ids),
             report.written, len(skipped))
    return stats


def _stats_key(run: dict[str, Any]) -> str:
    return f"{run['source']}@{run['variant']}" if run.get("variant") else run["source"]


def _row(name: str, built: dict[str, float], paper: dict[str, float]) -> str:
    cells = []
    for k in _FIGURES:
        if k in paper:
            b = built.get(k, 0)
            ratio = f" ({b / paper[k]:.0%})" if paper[k] else ""
            cells.append(f"{b:,.0f} / {paper[k]:,.0f}{ratio}")
        else:
            cells.append(f"{built[k]:,.0f}" if k in built else "")
    return f"| {name} | " + " | ".join(cells) + " |"


def compare_with_paper(stats: dict[str, Any], recipe: Recipe) -> str:
    """A markdown table of the built corpus against the paper's figures (built / paper (ratio)), or ''."""
    per_source = {label: spec.paper for label, spec in zip(stats["sources"], recipe.sources) if spec.paper}
    if not (recipe.paper.get("total") or recipe.paper.get("languages") or per_source):
        return ""
    lines = [f"# {recipe.name}: built vs paper (Tab. I / II)", "",
             "| | " + " | ".join(_FIGURES) + " |", "|---|" + "---|" * len(_FIGURES)]
    total = dict(stats["total"])
    total["signers"] = sum(s.get("signers", 0) for s in stats["sources"].values())
    lines.append(_row("total", total, recipe.paper.get("total", {})))
    by_language: dict[str, dict[str, float]] = {}
    for s in stats["sources"].values():
        lang = s.get("sign_language")
        if lang:
            acc = by_language.setdefault(lang, {})
            for k in ("samples", "paired", "unpaired", "hours", "signers"):
                acc[k] = acc.get(k, 0) + s.get(k, 0)
    paper_languages = recipe.paper.get("languages", {})
    for lang in sorted(set(by_language) | set(paper_languages)):
        lines.append(_row(f"language {lang}", by_language.get(lang, {}), paper_languages.get(lang, {})))
    for label, s in stats["sources"].items():
        lines.append(_row(f"source {label}", s, per_source.get(label, {})))
    return "\n".join(lines) + "\n"


def skip_kind(reason: str) -> str:
    """Coarse class of a skip reason: ``missing_pose``, ``invalid_sample`` or ``bad_pose``."""
    if reason.startswith("no pose file"):
        return "missing_pose"
    if reason.startswith("invalid sample"):
        return "invalid_sample"
    return "bad_pose"


def _ingest_source(ingestor: DatasetIngestor, spec: SourceSpec, writer: Any, held_out: set[str],
                   skipped: list[tuple[str, str, str]]) -> dict[str, Any]:
    """Stream one source into ``writer``; returns its run counts."""
    counts: Counter = Counter()
    per_split: Counter = Counter()

    suffix = f"@{spec.variant}" if spec.variant else ""

    def selected():
        n = 0
        for ann in ingestor.annotations():
            per_split[ann.split] += 1
            if ann.split not in spec.splits:
                continue
            sid = ingestor.sample_id(ann)
            if sid in held_out:
                counts["held_out_benchmark_eval"] += 1
                continue
            if spec.limit is not None and n >= spec.limit:
                continue
            n += 1
            counts["selected"] += 1
            if sid + suffix in writer:
                counts["already_in_corpus"] += 1
                continue
            yield ann

    def on_skip(sid: str, reason: str) -> None:
        counts["skipped"] += 1
        skipped.append((sid + suffix, spec.label, reason))

    before = len(writer.report.skipped)
    for sample in ingestor.samples(spec.poses, on_skip=on_skip, annotations=selected()):
        if suffix:  # the second pose set of a clip: its own sample
            estimator = f"{sample.estimator}+{spec.variant}" if sample.estimator else spec.variant
            sample = dataclasses.replace(sample, id=sample.id + suffix, estimator=estimator)
        if writer.add(sample):
            counts["added"] += 1
            if counts["added"] % 10000 == 0:
                log.info("%s: %d samples added", spec.label, counts["added"])
        elif sample.id in writer:
            counts["duplicates"] += 1
    counts["invalid"] = len(writer.report.skipped) - before
    log.info("%s: %s", spec.label, dict(counts))
    return {"source": ingestor.name, "variant": spec.variant, "annotations": dict(per_split),
            "splits_included": list(spec.splits), **dict(counts)}
