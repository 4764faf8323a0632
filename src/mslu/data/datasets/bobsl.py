"""BOBSL (BBC-Oxford British Sign Language; untrimmed TV episodes with English subtitles).

Release layout: ``<root>/subset2episode.json`` (``{"train": [episode, ...], "val": [...], "public_test":
[...]}``) and WebVTT subtitles ``<root>/subtitles/<alignment>/<episode>.vtt``; by default the
manually-aligned subtitles are used where an episode has them, else the audio-aligned ones. Without
``subset2episode.json`` every episode with subtitles is taken as train. Each subtitle cue becomes a clip
``<episode>_<cue index:05d>`` cut by its start/end times from the episode's pose file ``<episode>.pose``
(paper Sec. III-A iv). Cues shorter than ``min_duration`` or longer than ``max_duration`` seconds, or with
empty text, are left out.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from mslu.data.datasets.base import Annotation, DatasetIngestor, canonical_split

_TIME = re.compile(r"(?:(\d+):)?(\d{1,2}):(\d{2})[.,](\d{1,3})")
DEFAULT_SUBTITLES = ("subtitles/manually-aligned", "subtitles/audio-aligned")
_TAG = re.compile(r"<[^>]*>")


@dataclass
class Cue:
    start: float
    end: float
    text: str


def _seconds(stamp: str, where: str) -> float:
    m = _TIME.fullmatch(stamp.strip())
    if not m:
        raise ValueError(f"{where}: bad WebVTT timestamp {stamp!r}")
    h, mnt, s, frac = m.groups()
    return int(h or 0) * 3600 + int(mnt) * 60 + int(s) + int(frac.ljust(3, "0")) / 1000


def read_vtt(path: Path) -> list[Cue]:
    """The cues of a WebVTT file (tags stripped, lines joined by a space)."""
    cues: list[Cue] = []
    blocks = re.split(r"\n\s*\n", path.read_text(encoding="utf-8-sig").replace("\r\n", "\n"))
    for block in blocks:
        lines = [ln for ln in block.strip().split("\n") if ln.strip()]
        if not lines or lines[0].split(" ", 1)[0] in ("WEBVTT", "NOTE", "STYLE", "REGION"):
            continue
        timing = next((i for i, ln in enumerate(lines) if "-->" in ln), None)
        if timing is None:
            continue
        left, _, right = lines[timing].partition("-->")
        where = f"{path}: cue {len(cues)}"
        start, end = _seconds(left, where), _seconds(right.split()[0] if right.split() else "", where)
        text = " ".join(_TAG.sub("", ln).strip() for ln in lines[timing + 1:]).strip()
        cues.append(Cue(start, end, " ".join(text.split())))
    return cues


class BOBSL(DatasetIngestor):
    name = "bobsl"
    sign_language = "bfi"
    text_language = "en"
    tasks = ("slt",)
    default_fps = 25.0

    def __init__(self, root: str | Path, subtitles: str | list[str] | tuple[str, ...] = DEFAULT_SUBTITLES,
                 min_duration: float = 0.2, max_duration: float = 20.0):
        super().__init__(root)
        self.subtitle_dirs = [subtitles] if isinstance(subtitles, str) else list(subtitles)
        self.min_duration, self.max_duration = float(min_duration), float(max_duration)

    def subtitle_file(self, episode: str) -> Path | None:
        for d in self.subtitle_dirs:
            p = self.root / d / f"{episode}.vtt"
            if p.is_file():
                return p
        return None

    def episodes(self) -> dict[str, str]:
        """Episode -> split."""
        path = self.root / "subset2episode.json"
        if path.is_file():
            out: dict[str, str] = {}
            for key, eps in json.loads(path.read_text(encoding="utf-8")).items():
                try:
                    sp = canonical_split(key)
                except ValueError:
                    continue  # e.g. extra subsets not used here
                out.update({str(e): sp for e in eps})
            return out
        found = {p.stem for d in self.subtitle_dirs for p in (self.root / d).glob("*.vtt")}
        if not found:
            raise FileNotFoundError(f"bobsl: no subset2episode.json and no .vtt subtitles under {self.root}")
        return dict.fromkeys(sorted(found), "train")

    def annotations(self, split: str | None = None) -> Iterator[Annotation]:
        split = self._check_split(split)
        for episode, sp in sorted(self.episodes().items()):
            if split is not None and sp != split:
                continue
            path = self.subtitle_file(episode)
            if path is None:
                continue  # episode without subtitles
            for i, cue in enumerate(read_vtt(path)):
                if not cue.text or not (self.min_duration <= cue.end - cue.start <= self.max_duration):
                    continue
                yield Annotation(
                    id=f"{episode}_{i:05d}",
                    split=sp,
                    media_id=episode,
                    media=f"videos/{episode}.mp4",
                    text=cue.text,
                    start_time=cue.start,
                    end_time=cue.end,
                    extra={"subtitles": path.parent.name},
                )
