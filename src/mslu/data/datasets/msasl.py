"""MS-ASL (word-level ASL from YouTube; ISLR).

Release layout: ``<root>/MSASL_{train,val,test}.json`` (the official ASL1000 files) or the per-subset files
``MS_ASL_SI_ASL{100,200,500,1000}_{train,val,test}.json``; each is a list of ``{url, start, end, box, label,
clean_text, text, org_text, signer_id, ...}`` (official files also carry ``start_time``/``end_time`` in
seconds and ``fps``). For each split the official file is used, else the largest subset file present (the
subsets are nested, clip for clip). A clip's id is ``<youtube id>_<start>_<end>``: the same clip has the same
id in every subset file.

``start``/``end`` are frames of the YouTube video; when ``start_time``/``end_time`` are present the clip is
cut by seconds instead. ``box`` is ``[y0, x0, y1, x1]`` normalised to the frame (kept in ``extra``). Pose
files: a trimmed clip ``<clip id>.pose``, or the whole video ``<youtube id>.pose`` cut to the clip. Texts are
template sentences of ``clean_text``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from mslu.data.datasets.base import OFFICIAL_SPLITS, Annotation, DatasetIngestor, load_json

SUBSETS = (100, 200, 500, 1000)
_FILE_SPLIT = {"train": "train", "dev": "val", "test": "test"}
_YT_ID = re.compile(r"(?:v=|youtu\.be/|/embed/)([\w-]{6,})")


def youtube_id(url: str) -> str:
    """The video id of a YouTube URL (the URL's last path part when it has no recognisable id)."""
    m = _YT_ID.search(url)
    return m.group(1) if m else re.sub(r"\W+", "_", url.rstrip("/").rsplit("/", 1)[-1])


class MSASL(DatasetIngestor):
    name = "msasl"
    sign_language = "ase"
    text_language = "en"
    tasks = ("islr",)
    isolated = True

    def __init__(self, root: str | Path, subset: int | None = None):
        super().__init__(root)
        if subset is not None and int(subset) not in SUBSETS:
            raise ValueError(f"msasl: subset must be one of {SUBSETS}, got {subset}")
        self.subset = None if subset is None else int(subset)

    def split_file(self, split: str) -> Path | None:
        """The annotation file used for ``split`` (None when the release has none)."""
        fs = _FILE_SPLIT[split]
        names = [f"MS_ASL_SI_ASL{self.subset}_{fs}.json"] if self.subset else [
            f"MSASL_{fs}.json", *(f"MS_ASL_SI_ASL{n}_{fs}.json" for n in reversed(SUBSETS))]
        for n in names:
            if (self.root / n).is_file():
                return self.root / n
        return None

    @staticmethod
    def read_file(path: Path, split: str) -> Iterator[Annotation]:
        """The annotations of one MS-ASL JSON file."""
        entries = load_json(path)
        if not isinstance(entries, list):
            raise ValueError(f"{path}: expected a list of clips")
        for i, e in enumerate(entries):
            try:
                vid = youtube_id(e["url"])
                start, end = int(e["start"]), int(e["end"])
                word = e.get("clean_text") or e["text"]
                label = int(e["label"])
            except (KeyError, TypeError, ValueError) as exc:
                raise ValueError(f"{path}: clip {i}: bad or missing field: {exc}") from exc
            by_time = e.get("start_time") is not None and e.get("end_time") is not None
            yield Annotation(
                id=f"{vid}_{start}_{end}",
                split=split,
                media_id=vid,
                media=e["url"],
                signer=str(e.get("signer_id", "")),
                text=str(word),
                gloss=[str(word)],
                label=label,
                start_frame=None if by_time else start,
                end_frame=None if by_time else end,
                start_time=float(e["start_time"]) if by_time else None,
                end_time=float(e["end_time"]) if by_time else None,
                box=e.get("box"),
                extra={"org_text": e.get("org_text", "")},
            )

    def annotations(self, split: str | None = None) -> Iterator[Annotation]:
        split = self._check_split(split)
        for sp in OFFICIAL_SPLITS if split is None else (split,):
            path = self.split_file(sp)
            if path is None:
                if split is None:
                    continue
                raise FileNotFoundError(f"msasl: no annotation file for split {sp!r} under {self.root}")
            yield from self.read_file(path, sp)

    def benchmarks(self) -> dict[str, dict[str, list[str]]]:
        """MSASL100/200/500/1000 from the subset files found (official ``MSASL_*`` files: msasl1000)."""
        out: dict[str, dict[str, list[str]]] = {}
        for n in SUBSETS:
            for sp in OFFICIAL_SPLITS:
                fs = _FILE_SPLIT[sp]
                path = self.root / f"MS_ASL_SI_ASL{n}_{fs}.json"
                if n == 1000 and not path.is_file():
                    path = self.root / f"MSASL_{fs}.json"
                if path.is_file():
                    ids = [self.sample_id(a) for a in self.read_file(path, sp)]
                    out.setdefault(f"msasl{n}", {})[sp] = ids
        return out
