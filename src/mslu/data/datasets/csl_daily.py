"""CSL-Daily (Chinese SL daily-life sentences; CSLR, SLT and retrieval).

Release layout: ``<root>/sentence_label/csl2020ct_v2.pkl`` and ``<root>/sentence_label/split_1.txt``
(``name|split``, header first). The pickle is a dict whose ``info`` is a list of dicts with ``name``,
``length`` (frames), ``label_gloss`` (gloss list), ``label_char`` (character list), ``label_word`` (word
list) and ``signer``; it is loaded through :func:`safe_load_pickle` (plain data only). The text is
``"".join(label_char)``. A JSON-lines copy with the same content (``annotations.jsonl``: ``name``,
``signer``, ``length``, ``gloss`` list, ``text``) is read when the pickle is absent. Pose files:
``<name>.pose``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from mslu.data.datasets.base import Annotation, DatasetIngestor, canonical_split
from mslu.data.datasets.safe_pickle import safe_load_pickle


def _records_from_pickle(path: Path) -> Iterator[dict[str, Any]]:
    data = safe_load_pickle(path)
    info = data.get("info") if isinstance(data, dict) else None
    if not isinstance(info, list):
        raise ValueError(f"{path}: expected a dict with an 'info' list, got {type(data).__name__}")
    for i, rec in enumerate(info):
        if not isinstance(rec, dict) or "name" not in rec:
            raise ValueError(f"{path}: info[{i}] is not a dict with a 'name'")
        chars = rec.get("label_char") or []
        words = rec.get("label_word") or []
        text = "".join(map(str, chars)) if chars else "".join(map(str, words))
        yield {"name": str(rec["name"]), "signer": rec.get("signer", ""), "length": rec.get("length"),
               "gloss": [str(g) for g in rec.get("label_gloss") or []], "text": text,
               "words": [str(w) for w in words]}


def _records_from_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as f:
        for i, line in enumerate(f, start=1):
            if line.strip():
                try:
                    yield json.loads(line)
                except json.JSONDecodeError as exc:
                    raise ValueError(f"{path}:{i}: bad JSON: {exc}") from exc


class CSLDaily(DatasetIngestor):
    name = "csl_daily"
    sign_language = "csl"
    text_language = "zh"
    tasks = ("cslr", "slt", "slrt")
    default_fps = 30.0

    def __init__(self, root: str | Path, split_file: str = "sentence_label/split_1.txt",
                 annotation_file: str | None = None):
        super().__init__(root)
        self.split_file = split_file
        self.annotation_file = annotation_file

    def splits(self) -> dict[str, str]:
        """Clip name -> split from the split file."""
        path = self._file(self.split_file, what="split file")
        out: dict[str, str] = {}
        with path.open(encoding="utf-8") as f:
            for i, line in enumerate(f, start=1):
                line = line.strip()
                if not line or (i == 1 and line.lower().startswith("name|")):
                    continue
                name, sep, sp = line.partition("|")
                if not sep:
                    raise ValueError(f"{path}:{i}: expected 'name|split', got {line!r}")
                out[name.strip()] = canonical_split(sp, f"{path}:{i}: ")
        return out

    def records(self) -> Iterator[dict[str, Any]]:
        """The per-clip annotation records, from the official pickle or the JSON-lines copy."""
        cands = [self.annotation_file] if self.annotation_file else [
            "sentence_label/csl2020ct_v2.pkl", "sentence_label/annotations.jsonl"]
        path = self._file(*cands, what="annotation file")
        return _records_from_pickle(path) if path.suffix == ".pkl" else _records_from_jsonl(path)

    def annotations(self, split: str | None = None) -> Iterator[Annotation]:
        split = self._check_split(split)
        splits = self.splits()
        for rec in self.records():
            name = str(rec["name"])
            sp = splits.get(name)
            if sp is None or (split is not None and sp != split):
                continue
            extra = {"num_frames": rec["length"]} if rec.get("length") is not None else {}
            yield Annotation(
                id=name,
                split=sp,
                media=f"sentence/frames_512x512/{name}",
                signer=str(rec.get("signer", "")),
                text=str(rec.get("text", "")).strip(),
                gloss=[str(g) for g in rec.get("gloss") or []],
                extra=extra,
            )
