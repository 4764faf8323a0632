"""A user's own dataset: a folder of pose files and a labels table -> corpus samples (``mslu ingest folder``).

The table (CSV, TSV, JSON or JSONL; CSV delimiters ``, ; | tab`` are sniffed) has one row per clip. Which
column plays which role is given by ``columns`` (``{role: column name}``) or guessed from the header
(case-insensitive; first match wins):

=================  =====================================================================================
role               guessed from
=================  =====================================================================================
file               file, file_name, filename, path, pose, pose_file, clip, clip_id, video, name, id
label              label, sign, sinal, class, class_name, word (an isolated sign's class)
gloss              gloss, glosses, orth, annotation (a gloss sequence, space-separated or a JSON list)
sentence           sentence, text, translation, reference_sentence, transcript
signer             signer, signer_id, speaker, interprete, interpreter, participant, subject, person
split              split, subset, set, partition (train / dev / test, or val, validation, ...)
language           sign_language, language, lang (ISO 639-3 per row; else ``sign_language``)
text_language      text_language (per row; else ``text_language``)
width / height     width, frame_width / height, frame_height (pixels)
fps                fps, frame_rate
num_frames         num_frames, frames, length (with ``duration``: fps = num_frames / duration)
duration           duration, duration_sec, duration_s, seconds
=================  =====================================================================================

Files: the ``file`` value is a path relative to ``poses`` (default: the folder); a trailing ``.gz``, a pose
suffix (``.pose .json .npy .npz .skels``) may be left out, and a bare name is also looked for in the
sub-folders (unique match). A path that is absolute, contains ``..``, or resolves outside the folder (a
symlink) is reported and skipped, as are missing, unreadable or empty files (the reason names the file).
``file.skels#N`` names clip N of a ``.skels`` file; a folder names OpenPose per-frame JSON files.

Texts: the ``sentence`` column (paired samples); else, for isolated signs (a ``label`` column), a template
sentence in the text language (:mod:`mslu.data.templates`, or ``template`` with ``{gloss}``); else none
(unpaired). Isolated labels get class indices in the sorted order of the distinct labels (integer labels
are kept as they are and get no template sentence); the order is by Unicode code points.

Splits: the ``split`` column when there is one. Otherwise deterministic and signer-independent: the signers
named by ``test_signers`` / ``dev_signers``, or ``test_fraction`` / ``dev_fraction`` of the signers (at least
one each) in the order of the SHA-256 of their names; without signers (or with fewer than three), by
repetition: within each label (each gloss sequence, or all clips), the clips in SHA-256 order of their ids
give ``test_fraction`` / ``dev_fraction`` to test / dev, keeping at least one for training. The splits are
written as the benchmark ``<name>`` (``<corpus>/benchmarks/<name>/{train,dev,test}.txt``).

``unpaired: true`` leaves every text out (unpaired samples, e.g. to pre-train without the labels' template
sentences); labels, glosses and splits stay.

Without a table (``table: none``, or no ``.csv`` / ``.tsv`` / ``.jsonl`` at the top of the folder), every
pose file matching ``files`` (a glob, default all pose files, recursive) is one unpaired clip.
"""

from __future__ import annotations

import csv
import fnmatch
import hashlib
import io
import json
import math
import os
import re
import unicodedata
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Any

from mslu.data.datasets.base import (
    Annotation,
    DatasetIngestor,
    PoseUnavailable,
    canonical_split,
    load_pose_frames,
)
from mslu.data.languages import SIGN_LANGUAGES, check_sign_language, check_text_language
from mslu.data.schema import Sample
from mslu.data.templates import TEMPLATES, template_sentence
from mslu.pose.io import POSE_FILE_SUFFIXES
from mslu.pose.layouts import LAYOUTS
from mslu.pose.normalize import COORDINATES

TABLE_SUFFIXES = (".csv", ".tsv", ".json", ".jsonl")
ROLES = ("file", "label", "gloss", "sentence", "signer", "split", "language", "text_language", "width",
         "height", "fps", "num_frames", "duration")
GUESSES: dict[str, tuple[str, ...]] = {
    "file": ("file", "file_name", "filename", "path", "pose", "pose_file", "clip", "clip_id", "video", "name",
             "id"),
    "label": ("label", "sign", "sinal", "class", "class_name", "word"),
    "gloss": ("gloss", "glosses", "orth", "annotation"),
    "sentence": ("sentence", "text", "translation", "reference_sentence", "transcript"),
    "signer": ("signer", "signer_id", "speaker", "interprete", "interpreter", "participant", "subject",
               "person"),
    "split": ("split", "subset", "set", "partition"),
    "language": ("sign_language", "language", "lang"),
    "text_language": ("text_language",),
    "width": ("width", "frame_width"),
    "height": ("height", "frame_height"),
    "fps": ("fps", "frame_rate"),
    "num_frames": ("num_frames", "frames", "length"),
    "duration": ("duration", "duration_sec", "duration_s", "seconds"),
}
OPTIONS = ("name", "table", "poses", "columns", "sign_language", "text_language", "layout", "coordinates",
           "channels", "width", "height", "fps", "template", "test_signers", "dev_signers", "test_fraction",
           "dev_fraction", "files", "unpaired")
_POSE_EXTS = tuple(POSE_FILE_SUFFIXES) + tuple(s + ".gz" for s in POSE_FILE_SUFFIXES)
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def _key(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", str(name).strip().lower())


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", str(text))


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def strip_pose_suffix(name: str) -> str:
    """``a/b.json.gz`` -> ``a/b``; ``x.skels#3`` -> ``x#3``; other names unchanged."""
    m = re.match(r"^(.*?)(\.(?:pose|json|npy|npz|skels))?(\.gz)?(#\d+)?$", name, re.IGNORECASE)
    return (m.group(1) + (m.group(4) or "")) if m else name


def read_labels_table(path: Path) -> tuple[list[str], list[dict[str, Any]], list[int]]:
    """(columns, rows, line numbers) of a CSV / TSV / JSON / JSONL table; ValueError naming the file."""
    suffix = path.suffix.lower()
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as e:
        raise ValueError(f"{path}: cannot read the labels table ({e})") from e
    if suffix in (".csv", ".tsv", ".txt"):
        first = text.split("\n", 1)[0]
        if suffix == ".tsv":
            delim = "\t"
        else:
            counts = {d: first.count(d) for d in (",", ";", "\t", "|")}
            delim = max(counts, key=counts.get) if max(counts.values()) else ","
        reader = csv.DictReader(io.StringIO(text), delimiter=delim)
        columns = [c.strip() for c in (reader.fieldnames or []) if c is not None]
        if not columns:
            raise ValueError(f"{path}: the table has no header row")
        rows, lines = [], []
        for row in reader:
            rows.append({(k or "").strip(): (v if v is not None else "") for k, v in row.items() if k})
            lines.append(reader.line_num)
        return columns, rows, lines
    if suffix == ".jsonl":
        rows, lines = [], []
        for n, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except ValueError as e:
                raise ValueError(f"{path}: line {n} is not JSON ({e})") from e
            if not isinstance(obj, dict):
                raise ValueError(f"{path}: line {n} is not a JSON object")
            rows.append(obj)
            lines.append(n)
    elif suffix == ".json":
        try:
            doc = json.loads(text)
        except ValueError as e:
            raise ValueError(f"{path}: not JSON ({e})") from e
        if isinstance(doc, dict):
            listed = next((doc[k] for k in ("clips", "samples", "items", "data", "rows") if
                           isinstance(doc.get(k), list)), None)
            if listed is None:  # {file: {...}} mapping
                listed = [dict(v, file=k) if isinstance(v, dict) else {"file": k, "label": v}
                          for k, v in doc.items()]
            doc = listed
        if not isinstance(doc, list) or not all(isinstance(r, dict) for r in doc):
            raise ValueError(f"{path}: expected a list of objects (one per clip)")
        rows, lines = doc, list(range(1, len(doc) + 1))
    else:
        raise ValueError(f"{path}: unsupported table type {suffix!r} (.csv, .tsv, .json, .jsonl)")
    columns = list(dict.fromkeys(k for r in rows for k in r))
    return columns, rows, lines


def guess_columns(columns: list[str], given: dict[str, str] | None = None, where: str = "") -> dict[str, str]:
    """Role -> column name: ``given`` (checked against the header) completed by :data:`GUESSES`."""
    given = dict(given or {})
    unknown = set(given) - set(ROLES)
    if unknown:
        raise ValueError(f"{where}: unknown column role(s) {sorted(unknown)}; roles: {', '.join(ROLES)}")
    for role, col in given.items():
        if col not in columns:
            raise ValueError(f"{where}: {role} column {col!r} is not in the table (columns: "
                             f"{', '.join(columns)})")
    by_key = {_key(c): c for c in reversed(columns)}
    used = set(given.values())
    out = dict(given)
    for role in ROLES:
        if role in out:
            continue
        for cand in GUESSES[role]:
            col = by_key.get(cand)
            if col is not None and col not in used:
                out[role] = col
                used.add(col)
                break
    return out


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) or (isinstance(v, str) and v.strip().isdigit())


def _number(v: Any) -> float | None:
    if v is None or (isinstance(v, str) and not v.strip()):
        return None
    try:
        x = float(v)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) and x > 0 else None


def _names(value: Any, where: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    if isinstance(value, list | tuple):
        return [str(v).strip() for v in value]
    raise ValueError(f"{where}: expected a list of signer names, got {value!r}")


class FolderIngestor(DatasetIngestor):
    """``mslu ingest folder``: the rules are in the module docstring; options are :data:`OPTIONS`."""

    name = "folder"
    sign_language = ""
    text_language = ""
    tasks = ("islr", "cslr", "slt", "slrt")

    def __init__(self, root: str | Path, name: str | None = None, table: str | bool | None = None,
                 poses: str | None = None, columns: dict[str, str] | None = None,
                 sign_language: str | None = None, text_language: str | None = None,
                 layout: str | None = None, coordinates: str = "auto", channels: str | None = None,
                 width: int | None = None, height: int | None = None, fps: float | None = None,
                 template: str | None = None, test_signers: Any = None, dev_signers: Any = None,
                 test_fraction: float = 0.2, dev_fraction: float = 0.1, files: str | None = None,
                 unpaired: bool = False):
        super().__init__(root)
        self.name = str(name or _nfc(self.root.resolve().name) or "folder")
        where = f"{self.name}"
        if not _NAME.match(self.name):
            raise ValueError(f"{where}: name {self.name!r} must be letters, digits, '_', '-' or '.'")
        if not self.root.is_dir():
            raise FileNotFoundError(f"{where}: folder {self.root} does not exist")
        self.poses_root = self.root / poses if poses else self.root
        if not self.poses_root.is_dir():
            raise FileNotFoundError(f"{where}: poses folder {self.poses_root} does not exist")
        if sign_language is None:
            raise ValueError(f"{where}: give the sign language (ISO 639-3, e.g. --sign-language bzs)")
        self.sign_language = check_sign_language(sign_language, f"{where}: sign_language")
        if text_language is None:
            text_language = SIGN_LANGUAGES[self.sign_language][1]
        self.text_language = (check_text_language(text_language, f"{where}: text_language")
                              if text_language else None)
        if layout is not None and layout not in LAYOUTS:
            raise ValueError(f"{where}: layout: unknown keypoint layout {layout!r}; known: "
                             f"{', '.join(sorted(LAYOUTS))}")
        if coordinates not in COORDINATES:
            raise ValueError(f"{where}: coordinates must be one of {', '.join(COORDINATES)}, "
                             f"got {coordinates!r}")
        for key, v in (("width", width), ("height", height), ("fps", fps)):
            if v is not None and not (isinstance(v, int | float) and v > 0):
                raise ValueError(f"{where}: {key} must be a positive number, got {v!r}")
        if template is not None and "{gloss}" not in str(template):
            raise ValueError(f"{where}: template {template!r} has no {{gloss}} placeholder")
        for key, v in (("test_fraction", test_fraction), ("dev_fraction", dev_fraction)):
            if not (isinstance(v, int | float) and 0 <= v < 1):
                raise ValueError(f"{where}: {key} must be a fraction in [0, 1), got {v!r}")
        if test_fraction + dev_fraction >= 1:
            raise ValueError(f"{where}: test_fraction + dev_fraction must leave clips for training")
        self.layout, self.coordinates, self.channels = layout, coordinates, channels
        self.width, self.height, self.fps = width, height, fps
        self.template = template
        self.test_signers = [_nfc(s) for s in _names(test_signers, f"{where}: test_signers")]
        self.dev_signers = [_nfc(s) for s in _names(dev_signers, f"{where}: dev_signers")]
        overlap = set(self.test_signers) & set(self.dev_signers)
        if overlap:
            raise ValueError(f"{where}: signer(s) {sorted(overlap)} are both test and dev signers")
        self.test_fraction, self.dev_fraction = float(test_fraction), float(dev_fraction)
        self.files_glob = files
        self.unpaired = bool(unpaired)
        if columns is not None and not (isinstance(columns, dict) and all(
                isinstance(k, str) and isinstance(v, str) for k, v in columns.items())):
            raise ValueError(f"{where}: columns must map roles ({', '.join(ROLES)}) to column names")
        self._given_columns = dict(columns or {})
        self.table_path = self._find_table(table)
        if self._given_columns and self.table_path is None:
            raise ValueError(f"{where}: columns given but there is no labels table")
        self._anns: list[Annotation] | None = None
        self._rows: dict[str, dict[str, Any]] = {}
        self._index: dict[str, list[Path]] | None = None
        self.split_rule = ""
        self.columns: dict[str, str] = {}

    # -- table ------------------------------------------------------------------------------------
    def _find_table(self, table: str | bool | None) -> Path | None:
        if table is False or (isinstance(table, str) and table.strip().lower() in ("none", "")):
            return None
        if table:
            p = Path(str(table))
            p = p if p.is_absolute() else self.root / p
            if not p.is_file():
                raise FileNotFoundError(f"{self.name}: labels table {p} does not exist")
            return p
        found = sorted(p for p in self.root.iterdir() if p.is_file() and p.suffix.lower() in
                       (".csv", ".tsv", ".jsonl"))
        if len(found) > 1:
            names = ", ".join(p.name for p in found)
            raise ValueError(f"{self.name}: several tables in {self.root} ({names}); choose one with --table")
        return found[0] if found else None

    def _all_annotations(self) -> list[Annotation]:
        if self._anns is None:
            self._anns = self._table_annotations() if self.table_path else self._file_annotations()
        return self._anns

    def _file_annotations(self) -> list[Annotation]:
        pattern = self.files_glob or "*"
        out = []
        for p in sorted(self._walk()):
            rel = p.relative_to(self.poses_root).as_posix()
            if not fnmatch.fnmatch(rel, pattern) and not fnmatch.fnmatch(p.name, pattern):
                continue
            clip = strip_pose_suffix(_nfc(rel))
            self._rows[clip] = {"path": p}
            out.append(Annotation(id=clip, split="train", media=rel))
        if not out:
            raise ValueError(f"{self.name}: no pose files under {self.poses_root} (pattern {pattern!r})")
        self.split_rule = "no labels table: every file is an unpaired training clip"
        return out

    def _table_annotations(self) -> list[Annotation]:
        path = self.table_path
        columns, rows, lines = read_labels_table(path)
        cols = guess_columns(columns, self._given_columns, str(path))
        self.columns = cols
        if "file" not in cols:
            raise ValueError(f"{path}: no file column among {columns}; name it (--file-column or "
                             "columns.file)")
        if (self.test_signers or self.dev_signers) and "signer" not in cols:
            raise ValueError(f"{path}: test/dev signers given but the table has no signer column")
        labels = [str(r.get(cols["label"], "")).strip() for r in rows] if "label" in cols else []
        int_labels = bool(labels) and all(_is_int(v) for v in labels if v)
        names = sorted({_nfc(v) for v in labels if v})
        index = {v: i for i, v in enumerate(names)}
        if "label" in cols and not int_labels and "sentence" not in cols and self.text_language:
            if self.template is None and self.text_language not in TEMPLATES:
                raise ValueError(f"{self.name}: no template sentence for text language "
                                 f"{self.text_language!r}; give one with {{gloss}} (--template)")
        anns: list[Annotation] = []
        seen: set[str] = set()
        for r, line in zip(rows, lines, strict=True):
            where = f"{path.name}: line {line}"
            value = _nfc(str(r.get(cols["file"], "") or "").strip())
            clip = strip_pose_suffix(value.replace("\\", "/")) if value else f"line-{line}"
            problems: list[str] = []
            if not value:
                problems.append(f"{where}: empty file name")
            elif clip in seen:
                problems.append(f"{where}: clip {value!r} is listed twice (the first row is kept)")
                clip = f"{clip}@line-{line}"
            seen.add(clip)
            info: dict[str, Any] = {"where": where, "value": value, "line": line}
            label_text = _nfc(str(r.get(cols["label"], "")).strip()) if "label" in cols else ""
            label = None
            if label_text:
                label = int(label_text) if int_labels else index[label_text]
            elif "label" in cols:
                problems.append(f"{where}: empty label")
            gloss = r.get(cols["gloss"]) if "gloss" in cols else None
            if isinstance(gloss, list):
                gloss = [str(g) for g in gloss]
            elif gloss is not None:
                gloss = str(gloss).split() or None
            if label_text and not gloss:
                gloss = [label_text]
            sentence = str(r.get(cols["sentence"], "") or "").strip() if "sentence" in cols else ""
            split = "train"
            if "split" in cols:
                try:
                    split = canonical_split(str(r.get(cols["split"], "")), f"{where}: ")
                except ValueError as e:
                    problems.append(str(e))
            info["sign_language"] = self.sign_language
            if "language" in cols and str(r.get(cols["language"], "")).strip():
                try:
                    info["sign_language"] = check_sign_language(str(r[cols["language"]]), where)
                except ValueError as e:
                    problems.append(str(e))
            info["text_language"] = self.text_language
            if "text_language" in cols and str(r.get(cols["text_language"], "")).strip():
                try:
                    info["text_language"] = check_text_language(str(r[cols["text_language"]]), where)
                except ValueError as e:
                    problems.append(str(e))
            for key in ("width", "height", "fps"):
                info[key] = _number(r.get(cols[key])) if key in cols else None
            if info["fps"] is None and "num_frames" in cols and "duration" in cols:
                n, d = _number(r.get(cols["num_frames"])), _number(r.get(cols["duration"]))
                info["fps"] = round(n / d, 3) if n and d else None
            info["sentence"] = sentence
            info["label_text"] = label_text if not int_labels else ""
            info["problems"] = problems
            self._rows[clip] = info
            anns.append(Annotation(id=clip, split=split, media=value,
                                   signer=_nfc(str(r.get(cols["signer"], "")).strip()) if "signer" in cols
                                   else "", text=sentence or label_text or None, gloss=gloss, label=label))
        if not anns:
            raise ValueError(f"{path}: the table has no rows")
        if "split" in cols:
            self.split_rule = f"splits from the table's {cols['split']!r} column"
        else:
            self._assign_splits(anns, path)
        return anns

    def _assign_splits(self, anns: list[Annotation], path: Path) -> None:
        signers = sorted({a.signer for a in anns if a.signer})
        if self.test_signers or self.dev_signers:
            missing = [s for s in self.test_signers + self.dev_signers if s not in signers]
            if missing:
                raise ValueError(f"{path}: signer(s) {missing} not in the table (signers: "
                                 f"{', '.join(signers)})")
            test, dev = set(self.test_signers), set(self.dev_signers)
            if not set(signers) - test - dev:
                raise ValueError(f"{path}: no training signer left after the test and dev signers")
            rule = f"signer-independent: test signers {sorted(test)}, dev signers {sorted(dev)}"
        elif len(signers) >= 3 and all(a.signer for a in anns):
            order = sorted(signers, key=_sha)
            n_test = max(1, round(len(signers) * self.test_fraction)) if self.test_fraction else 0
            n_dev = max(1, round(len(signers) * self.dev_fraction)) if self.dev_fraction else 0
            n_dev = min(n_dev, len(signers) - n_test - 1)
            test, dev = set(order[:n_test]), set(order[n_test:n_test + n_dev])
            rule = (f"signer-independent by fractions ({self.test_fraction:g} test, {self.dev_fraction:g} "
                    f"dev of {len(signers)} signers, SHA-256 order): test {sorted(test)}, dev {sorted(dev)}")
        else:
            groups: dict[str, list[Annotation]] = {}
            for a in anns:
                key = str(a.label) if a.label is not None else " ".join(a.gloss or [])
                groups.setdefault(key, []).append(a)
            for members in groups.values():
                members.sort(key=lambda a: _sha(a.id))
                n = len(members)
                n_test = min(round(n * self.test_fraction), max(n - 1, 0))
                n_dev = min(round(n * self.dev_fraction), max(n - 1 - n_test, 0))
                for i, a in enumerate(members):
                    a.split = "test" if i < n_test else "dev" if i < n_test + n_dev else "train"
            self.split_rule = (f"by repetition ({self.test_fraction:g} test, {self.dev_fraction:g} dev of "
                               "each label's clips, SHA-256 order): signers unknown or fewer than three")
            return
        for a in anns:
            a.split = "test" if a.signer in test else "dev" if a.signer in dev else "train"
        self.split_rule = rule

    # -- DatasetIngestor API ----------------------------------------------------------------------
    def annotations(self, split: str | None = None) -> Iterator[Annotation]:
        split = self._check_split(split)
        for a in self._all_annotations():
            if split is None or a.split == split:
                yield a

    def benchmarks(self) -> dict[str, dict[str, list[str]]]:
        out: dict[str, list[str]] = {"train": [], "dev": [], "test": []}
        for a in self._all_annotations():
            if not self._rows.get(a.id, {}).get("problems"):
                out[a.split].append(self.sample_id(a))
        return {self.name: out}

    def _walk(self) -> Iterator[Path]:
        for dirpath, dirnames, filenames in os.walk(self.poses_root):
            d = Path(dirpath)
            dirnames.sort()
            for f in filenames:
                if f.lower().endswith(_POSE_EXTS):
                    yield d / f

    def _by_name(self) -> dict[str, list[Path]]:
        if self._index is None:
            self._index = {}
            for p in self._walk():
                for key in {_nfc(p.name), strip_pose_suffix(_nfc(p.name))}:
                    self._index.setdefault(key, []).append(p)
        return self._index

    def resolve_file(self, value: str, where: str) -> Path:
        """The pose file (or OpenPose folder) a table value names, inside the poses folder; raises
        :class:`PoseUnavailable` (reason names the value) otherwise."""
        raw = value.replace("\\", "/")
        line = ""
        m = re.match(r"^(.*\.skels(?:\.gz)?)(#\d+)$", raw, re.IGNORECASE)
        if m:
            raw, line = m.group(1), m.group(2)
        rel = PurePosixPath(raw)
        if rel.is_absolute() or re.match(r"^[A-Za-z]:", raw) or ".." in rel.parts:
            raise PoseUnavailable(f"{where}: path {value!r} leaves the folder (absolute or '..'); skipped")
        base = self.poses_root
        cands = [base / rel] + [base / f"{rel}{s}" for s in (".gz", *_POSE_EXTS)]
        found = next((c for c in cands if c.is_file() or (c.is_dir() and c != base)), None)
        if found is None and len(rel.parts) == 1:
            index = self._by_name()
            hits = index.get(_nfc(rel.name), []) or index.get(strip_pose_suffix(rel.name), [])
            if len(hits) > 1:
                listed = ", ".join(str(h.relative_to(base)) for h in hits[:3])
                raise PoseUnavailable(f"{where}: {value!r} matches several files ({listed}); give its path")
            found = hits[0] if hits else None
        if found is None:
            raise PoseUnavailable(f"no pose file {value!r} under {base}")
        try:
            inside = found.resolve().is_relative_to(base.resolve())
        except OSError:
            inside = False
        if not inside:
            raise PoseUnavailable(f"{where}: {value!r} resolves outside the folder (symlink); skipped")
        return Path(str(found) + line) if line else found

    def make_sample(self, pose_root: Path, ann: Annotation) -> Sample:
        info = self._rows.get(ann.id, {})
        if info.get("problems"):
            raise PoseUnavailable("; ".join(info["problems"]))
        where = info.get("where", ann.id)
        path = info.get("path") or self.resolve_file(info.get("value", ann.id), where)
        loaded = load_pose_frames(
            path, layout=self.layout, fps=info.get("fps") or None, default_fps=self.fps,
            width=info.get("width"), height=info.get("height"), coordinates=self.coordinates,
            default_width=self.width, default_height=self.height, channels=self.channels)
        text_language = info.get("text_language", self.text_language)
        text = None if self.unpaired else info.get("sentence") or None
        if text is None and info.get("label_text") and text_language and not self.unpaired:
            try:
                text = template_sentence(info["label_text"], text_language, self.template)
            except ValueError as e:
                raise PoseUnavailable(f"{where}: {e}") from e
        try:
            rel = path.relative_to(self.poses_root).as_posix()
        except ValueError:
            rel = path.name
        extra: dict[str, Any] = {"clip_id": ann.id, "pose_file": rel, "layout": loaded.estimator,
                                 "coordinates": loaded.coordinates}
        if info.get("label_text"):
            extra["label_name"] = info["label_text"]
        return Sample(
            id=self.sample_id(ann),
            pose=loaded.pose,
            source=self.name,
            sign_language=info.get("sign_language", self.sign_language),
            text=text,
            text_language=text_language if text else None,
            gloss=list(ann.gloss) if ann.gloss else None,
            label=ann.label,
            split=ann.split,
            signer=str(ann.signer),
            fps=loaded.fps or 25.0,
            width=loaded.width,
            height=loaded.height,
            estimator=loaded.estimator,
            paired=bool(text),
            extra=extra,
        )


def folder_ingestor(root: str | Path, options: dict[str, Any] | None = None,
                    where: str = "") -> FolderIngestor:
    """A :class:`FolderIngestor` from an options mapping (a recipe's ``options`` or a YAML recipe file of
    ``mslu ingest folder``), unknown keys refused with the key named."""
    opts = dict(options or {})
    unknown = sorted(set(opts) - set(OPTIONS))
    if unknown:
        raise ValueError(f"{where or 'folder options'}: unknown key(s) {unknown}; "
                         f"known: {', '.join(OPTIONS)}")
    return FolderIngestor(root, **opts)
