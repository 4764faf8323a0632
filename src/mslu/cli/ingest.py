"""``mslu ingest NAME --root R --poses P --out D``: one dataset release + its pose files -> a corpus.

``mslu ingest folder FOLDER --out D``: a user's own dataset (a folder of pose files and a labels table; the
rules are in :mod:`mslu.data.datasets.folder`), with the column roles, languages, layout, frame size and
split given by flags or a YAML recipe (``--recipe``: the folder ingestor's options, e.g. ``table``,
``columns: {file: ..., label: ...}``, ``sign_language``, ``test_signers``); flags win over the recipe.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

# folder-only flags: (flag, option key, type, help)
_FOLDER_FLAGS = (
    ("--table", "table", str, "labels table (CSV / TSV / JSON / JSONL) in the folder, or 'none' (default: "
                              "the only .csv / .tsv / .jsonl at its top)"),
    ("--name", "name", str, "corpus source and benchmark name (default: the folder's name)"),
    ("--sign-language", "sign_language", str, "ISO 639-3 code of the sign language (e.g. bzs, ase, gsg)"),
    ("--text-language", "text_language", str, "ISO 639-1 code of the texts (default: the sign language's)"),
    ("--layout", "layout", str, "keypoint layout of .npy / JSON files whose keypoint count is ambiguous"),
    ("--coordinates", "coordinates", str, "pixels, normalized or auto (default: detected per file)"),
    ("--channels", "channels", str, "channels of (T, K, C) arrays: xy, xyc, xyz or xyzc"),
    ("--width", "width", int, "frame width in pixels for files and rows that give none"),
    ("--height", "height", int, "frame height in pixels for files and rows that give none"),
    ("--fps", "fps", float, "frame rate for files and rows that give none (default 25)"),
    ("--template", "template", str, "template sentence of isolated signs, with {gloss}"),
    ("--test-signers", "test_signers", str, "comma-separated test signers (signer-independent split)"),
    ("--dev-signers", "dev_signers", str, "comma-separated dev signers"),
    ("--test-fraction", "test_fraction", float, "share of signers (or repetitions) for test (default 0.2)"),
    ("--dev-fraction", "dev_fraction", float, "fraction of signers (or repetitions) for dev (default 0.1)"),
    ("--files", "files", str, "glob of the pose files when there is no table (default: all)"),
)
_ROLES = ("file", "label", "gloss", "sentence", "signer", "split", "language")


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "ingest", help="build a corpus from one dataset, or from a folder of pose files + a labels table",
        description="Ingest one dataset into a corpus (a one-source recipe of mslu.data.build). "
        "Datasets: wlasl, msasl, nmfs_csl, slr500, phoenix2014, phoenix2014t, csl_daily, how2sign, bobsl, "
        "phoenix14t_skels, signbridge_asl; or `folder` for your own data: "
        "mslu ingest folder FOLDER --sign-language CODE --out DIR.")
    p.add_argument("name", help="dataset name (see mslu.data.datasets.INGESTORS), or folder")
    p.add_argument("folder", nargs="?", help="with `folder`: the dataset's folder (or --root)")
    p.add_argument("--root", help="the dataset's release folder (official annotation files)")
    p.add_argument("--poses", help="folder of the pose files (default for `folder`: the folder itself)")
    p.add_argument("--out", required=True, help="output corpus directory (resumed when it exists)")
    p.add_argument("--splits", nargs="+", default=None,
                   help="splits to include: train dev test, or all (default: train; all for `folder`)")
    p.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                   help="ingestor option, VALUE parsed as YAML (e.g. --option test_signers=[9,10])")
    p.add_argument("--limit", type=int, default=None, help="at most this many clips")
    p.add_argument("--shard-size", type=int, default=4096, help="samples per corpus shard")
    p.add_argument("--no-benchmarks", action="store_true", help="do not write benchmark split files")
    g = p.add_argument_group("folder", "options of `mslu ingest folder` (see mslu.data.datasets.folder)")
    g.add_argument("--recipe", help="YAML file of folder options (flags win over it)")
    for role in _ROLES:
        g.add_argument(f"--{role}-column", dest=f"{role}_column", metavar="COLUMN",
                       help=f"the table's {role} column")
    for flag, key, typ, text in _FOLDER_FLAGS:
        g.add_argument(flag, dest=f"opt_{key}", type=typ, metavar=key.split("_")[-1].upper(), help=text)
    g.add_argument("--unpaired", dest="opt_unpaired", action="store_const", const=True, default=None,
                   help="leave every text out (unpaired samples; labels and splits stay)")
    p.set_defaults(func=_ingest)


def _folder_options(args: argparse.Namespace) -> dict:
    import yaml

    options: dict = {}
    if args.recipe:
        path = Path(args.recipe)
        try:
            loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise ValueError(f"{path}: cannot read recipe: {exc}") from exc
        if not isinstance(loaded, dict):
            raise ValueError(f"{path}: a folder recipe is a mapping of options")
        options.update(loaded)
    columns = dict(options.get("columns") or {})
    for role in _ROLES:
        if getattr(args, f"{role}_column"):
            columns[role] = getattr(args, f"{role}_column")
    if columns:
        options["columns"] = columns
    for key in [k for _, k, _, _ in _FOLDER_FLAGS] + ["unpaired"]:
        value = getattr(args, f"opt_{key}")
        if value is not None:
            options[key] = value
    return options


def _ingest(args: argparse.Namespace) -> int:
    import yaml

    from mslu.data.build import RecipeError, build_corpus
    from mslu.data.corpus import Corpus
    from mslu.data.datasets import get_ingestor
    from mslu.data.stats import compute_coverage, render_coverage_markdown

    folder = args.name.lower() == "folder"
    options = {}
    for item in args.option:
        key, sep, value = item.partition("=")
        if not sep or not key:
            print(f"error: --option expects KEY=VALUE, got {item!r}", file=sys.stderr)
            return 2
        options[key.strip()] = yaml.safe_load(value)
    given = [f for f, k, _, _ in _FOLDER_FLAGS if getattr(args, f"opt_{k}") is not None]
    given += ["--unpaired"] if args.opt_unpaired else []
    given += [f"--{r}-column" for r in _ROLES if getattr(args, f"{r}_column")]
    given += ["--recipe"] if args.recipe else []
    if not folder and (given or args.folder):
        what = ", ".join(given) or repr(args.folder)
        print(f"error: {what}: only for `mslu ingest folder`", file=sys.stderr)
        return 2
    root = args.folder or args.root
    if not root:
        print("error: give the dataset folder (" + ("mslu ingest folder FOLDER" if folder else "--root")
              + ")", file=sys.stderr)
        return 2
    poses = args.poses or (root if folder else None)
    if not poses:
        print("error: --poses is required (the folder of the pose files)", file=sys.stderr)
        return 2
    try:
        if folder:
            options = {**_folder_options(args), **options}
        ingestor = get_ingestor(args.name, root, **options)
        if folder:
            ingestor.benchmarks()  # reads and checks the table now: nothing is written on a bad one
    except (KeyError, TypeError, ValueError, OSError) as exc:
        msg = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"error: {msg}", file=sys.stderr)
        return 2
    splits = args.splits or (["all"] if folder else ["train"])
    splits = "all" if splits == ["all"] else splits
    label = ingestor.name if folder else args.name
    recipe = {
        "name": label, "shard_size": args.shard_size, "include_splits": splits,
        "benchmarks": "none" if args.no_benchmarks else "all",
        "sources": [{"name": args.name, "label": label, "root": str(root), "poses": str(poses),
                     "options": options, "limit": args.limit}],
    }
    try:
        stats = build_corpus(recipe, args.out)
    except (RecipeError, KeyError, TypeError, ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    coverage = compute_coverage(Corpus(args.out))
    (Path(args.out) / "coverage.json").write_text(json.dumps(coverage, indent=1, ensure_ascii=False),
                                                  encoding="utf-8")
    rule = getattr(ingestor, "split_rule", "")
    if rule and not args.no_benchmarks:
        bench = Path(args.out) / "benchmarks" / ingestor.name
        if bench.is_dir():
            (bench / "split_rule.txt").write_text(rule + "\n", encoding="utf-8")
    stats["coverage"] = coverage
    if rule:
        stats["split_rule"] = rule
    print(json.dumps(stats, indent=1, ensure_ascii=False))
    print(render_coverage_markdown(coverage), end="", file=sys.stderr)
    skipped = stats["skipped"]["total"]
    if skipped:
        print(f"{skipped} clip(s) skipped: reasons in {Path(args.out) / 'skipped.csv'}", file=sys.stderr)
    return 0
