"""WLASL (word-level ASL; ISLR).

Release layout: ``<root>/WLASL_v0.3.json`` (a list of ``{gloss, instances: [{video_id, split, signer_id,
frame_start, frame_end, bbox, fps, ...}]}``; the class index of a gloss is its position in the list) and the
benchmark subsets ``nslt_{100,300,1000,2000}.json`` (``{video_id: {subset, action: [class, start, end]}}``).
The subset files ``asl{100,300,1000,2000}.json`` have the WLASL_v0.3 layout and are used when the full file
is absent (the largest one found), or when chosen with ``annotation_file``.

``frame_start`` is 1-based, ``frame_end`` inclusive with -1 meaning "to the end" of the raw video
``<video_id>.mp4``. Pose files: ``<video_id>.pose``; with ``pretrimmed=True`` (default False) they are taken
to be extracted from clips already cut by WLASL's ``preprocess.py`` and are used whole. Texts are template
sentences of the gloss ("This word is book.").
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path

from mslu.data.datasets.base import Annotation, DatasetIngestor, canonical_split, load_json

log = logging.getLogger(__name__)
SUBSETS = (100, 300, 1000, 2000)


class WLASL(DatasetIngestor):
    name = "wlasl"
    sign_language = "ase"
    text_language = "en"
    tasks = ("islr",)
    isolated = True

    def __init__(self, root: str | Path, annotation_file: str | None = None, pretrimmed: bool = False):
        super().__init__(root)
        self.annotation_file = annotation_file
        self.pretrimmed = bool(pretrimmed)

    def annotation_path(self) -> Path:
        if self.annotation_file:
            return self._file(self.annotation_file, what="annotation file")
        return self._file("WLASL_v0.3.json", *(f"asl{n}.json" for n in reversed(SUBSETS)),
                          what="WLASL_v0.3.json or asl<N>.json")

    def annotations(self, split: str | None = None) -> Iterator[Annotation]:
        split = self._check_split(split)
        path = self.annotation_path()
        entries = load_json(path)
        if not isinstance(entries, list):
            raise ValueError(f"{path}: expected a list of {{gloss, instances}}")
        for label, entry in enumerate(entries):
            if not isinstance(entry, dict) or not isinstance(entry.get("instances", []), list) or (
                not isinstance(entry.get("gloss"), str | int)
            ):
                log.warning("%s: entry %d skipped: not a {gloss, instances} mapping", path, label)
                continue
            gloss = str(entry["gloss"])
            for inst in entry.get("instances", []):
                try:
                    ann = self._annotation(inst, gloss, label, path)
                except (KeyError, TypeError, ValueError) as e:
                    vid = inst.get("video_id") if isinstance(inst, dict) else None
                    log.warning("%s: %s / video %s skipped: %s", path, gloss, vid, " ".join(str(e).split()))
                    continue
                if split is None or ann.split == split:
                    yield ann

    def _annotation(self, inst: dict, gloss: str, label: int, path: Path) -> Annotation:
        sp = canonical_split(inst["split"], f"{path}: video {inst.get('video_id')}: ")
        vid = inst["video_id"]
        if not isinstance(vid, str | int):
            raise ValueError(f"video_id {vid!r} is not a name")
        start, end = int(inst.get("frame_start", 1)), int(inst.get("frame_end", -1))
        box = inst.get("bbox")
        if box is not None and (not isinstance(box, list) or len(box) != 4):
            raise ValueError(f"bbox {box!r} is not [x1, y1, x2, y2]")
        window = {} if self.pretrimmed else {
            "start_frame": max(start - 1, 0) if start > 1 else None,
            "end_frame": end if end > 0 else None,
        }
        return Annotation(
            id=str(vid),
            split=sp,
            media=f"videos/{vid}.mp4",
            signer=str(inst.get("signer_id", "")),
            text=gloss,
            gloss=[gloss],
            label=label,
            box=[float(v) for v in box] if box is not None else None,
            extra={"source_site": inst.get("source", ""), "variation_id": inst.get("variation_id")},
            **window,
        )

    def benchmarks(self) -> dict[str, dict[str, list[str]]]:
        """WLASL100/300/1000/2000 from the ``nslt_<N>.json`` files found in the root."""
        out: dict[str, dict[str, list[str]]] = {}
        for path in sorted(self.root.glob("nslt_*.json")):
            m = re.fullmatch(r"nslt_(\d+)\.json", path.name)
            if not m:
                continue
            splits: dict[str, list[str]] = {"train": [], "dev": [], "test": []}
            for vid, info in load_json(path).items():
                splits[canonical_split(info["subset"], f"{path}: {vid}: ")].append(f"{self.name}/{vid}")
            out[f"wlasl{m.group(1)}"] = splits
        return out or super().benchmarks()
