"""Webcam ASL sentences in the layout of SignBridge's demo samples (one folder per recording).

Release layout: ``<root>/<id>/capture.pose`` (pose-format, MediaPipe Holistic), ``<id>/metadata.json``
(``reference_sentence``: the English sentence) and ``<id>/segments/segment_NNN.pose`` (the sentence cut into
its signs). The per-segment glosses of ``metadata.json`` are another model's predictions, not ground truth,
and are not used: the signs are the words of the folder name (``chair-black-tall`` -> CHAIR BLACK TALL), less
the recording tags ``k``, ``kk`` and ``vid`` (``chair-black-tall-k`` is another recording of the sentence).

``unit="sentence"`` (default): one paired sample per recording (gloss sequence + sentence; CSLR, GF-SLT,
SL-RT). ``unit="sign"``: one isolated sample per segment, labelled with the folder name's word at its
position (a recording whose segment count differs from its word count is reported and skipped); classes
are the sorted distinct words, texts template sentences. A folder without ``capture.pose`` is reported.

No official split. Sentences: the recordings of one sentence (same words) stay together; sentences in
SHA-256 order of their words go 60% / 20% / 20% to train / dev / test. Signs: per word, in SHA-256 order of
the segment ids, one occurrence to test when there are two or more, one to dev when there are three or
more, the rest to train (every test / dev word is a training class).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from mslu.data.datasets.base import Annotation, DatasetIngestor, PoseUnavailable

RECORDING_TAGS = ("k", "kk", "vid")


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def folder_words(name: str) -> list[str]:
    """The signs named by a recording folder: ``what-time-finish-basketball-k`` -> WHAT TIME FINISH
    BASKETBALL."""
    words = [w for w in name.replace("_", "-").split("-") if w]
    while words and words[-1].lower() in RECORDING_TAGS:
        words.pop()
    return [w.upper() for w in words]


class SignBridgeASL(DatasetIngestor):
    name = "signbridge_asl"
    sign_language = "ase"
    text_language = "en"
    tasks = ("cslr", "slt", "slrt", "islr")
    default_fps = 30.0

    def __init__(self, root: str | Path, unit: str = "sentence"):
        super().__init__(root)
        if unit not in ("sentence", "sign"):
            raise ValueError(f"{self.name}: unit must be 'sentence' or 'sign', got {unit!r}")
        self.unit = unit
        self.isolated = unit == "sign"
        if self.isolated:
            self.name = "signbridge_asl_signs"
            self.tasks = ("islr",)
        self._anns: list[Annotation] | None = None

    def _recordings(self) -> list[Path]:
        if not self.root.is_dir():
            raise FileNotFoundError(f"{self.name}: no folder {self.root}")
        recs = sorted(p for p in self.root.iterdir() if p.is_dir() and (p / "metadata.json").is_file())
        if not recs:
            raise FileNotFoundError(f"{self.name}: no <id>/metadata.json under {self.root}")
        return recs

    def _sentence(self, rec: Path) -> str | None:
        try:
            meta = json.loads((rec / "metadata.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise ValueError(f"{rec / 'metadata.json'}: unreadable ({e})") from e
        text = str(meta.get("reference_sentence") or "").strip()
        return text or None

    def _all(self) -> list[Annotation]:
        if self._anns is not None:
            return self._anns
        anns: list[Annotation] = []
        if self.unit == "sentence":
            groups = sorted({" ".join(folder_words(r.name)) for r in self._recordings()}, key=_sha)
            n = len(groups)
            n_test, n_dev = max(1, round(0.2 * n)), max(1, round(0.2 * n))
            split_of = {g: "test" if i < n_test else "dev" if i < n_test + n_dev else "train"
                        for i, g in enumerate(groups)}
            for rec in self._recordings():
                words = folder_words(rec.name)
                anns.append(Annotation(id=rec.name, split=split_of[" ".join(words)],
                                       media=f"{rec.name}/capture.pose", text=self._sentence(rec),
                                       gloss=words, extra={"pose": "capture.pose"}))
        else:
            words_all: set[str] = set()
            for rec in self._recordings():
                words = folder_words(rec.name)
                seg_dir = rec / "segments"
                segs = sorted(seg_dir.glob("segment_*.pose")) if seg_dir.is_dir() else []
                problem = None
                if not (rec / "capture.pose").is_file() and not segs:
                    problem = f"no pose file in {rec.name} (no capture.pose, no segments)"
                elif len(segs) != len(words):
                    problem = f"{rec.name}: {len(segs)} segments for {len(words)} signs in the folder name"
                if problem:
                    anns.append(Annotation(id=f"{rec.name}/segments", split="train",
                                           extra={"problem": problem}))
                    continue
                for seg, word in zip(segs, words, strict=True):
                    words_all.add(word)
                    anns.append(Annotation(id=f"{rec.name}/{seg.stem}", split="train", text=word,
                                           gloss=[word], media=f"{rec.name}/segments/{seg.name}",
                                           extra={"pose": f"segments/{seg.name}", "recording": rec.name}))
            labels = {w: i for i, w in enumerate(sorted(words_all))}
            by_word: dict[str, list[Annotation]] = {}
            for a in anns:
                if "problem" not in a.extra:
                    a.label = labels[a.gloss[0]]
                    by_word.setdefault(a.gloss[0], []).append(a)
            for members in by_word.values():
                members.sort(key=lambda a: _sha(a.id))
                if len(members) >= 2:
                    members[0].split = "test"
                if len(members) >= 3:
                    members[1].split = "dev"
        self._anns = anns
        return anns

    def annotations(self, split: str | None = None) -> Iterator[Annotation]:
        split = self._check_split(split)
        for a in self._all():
            if split is None or a.split == split:
                yield a

    def benchmarks(self) -> dict[str, dict[str, list[str]]]:
        out: dict[str, list[str]] = {"train": [], "dev": [], "test": []}
        for a in self._all():
            if "problem" not in a.extra:
                out[a.split].append(self.sample_id(a))
        return {self.name: out}

    def find_pose(self, pose_root: Path, ann: Annotation) -> tuple[Path, bool]:
        if "problem" in ann.extra:
            raise PoseUnavailable(ann.extra["problem"])
        rec = ann.extra.get("recording", ann.id)
        path = Path(pose_root) / rec / ann.extra["pose"]
        if not path.is_file():
            raise PoseUnavailable(f"no pose file {rec}/{ann.extra['pose']} under {pose_root}")
        return path, False

    def make_sample(self, pose_root: Path, ann: Annotation):
        sample = super().make_sample(pose_root, ann)
        extra: dict[str, Any] = {k: v for k, v in sample.extra.items() if k not in ("pose",)}
        extra["layout"] = sample.estimator
        sample.extra = extra
        return sample
