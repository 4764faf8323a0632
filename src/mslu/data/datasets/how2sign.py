"""How2Sign (ASL instructional videos, English sentences; SLT).

Release layout: ``<root>/how2sign_realigned_{train,val,test}.csv``, tab separated, columns
``VIDEO_ID VIDEO_NAME SENTENCE_ID SENTENCE_NAME START_REALIGNED END_REALIGNED SENTENCE``. The realigned
start/end times (seconds) are relative to the raw video ``VIDEO_NAME``. Pose files: either a trimmed clip
``<SENTENCE_NAME>.pose`` (used as is) or the raw video ``<VIDEO_NAME>.pose``, cut to the realigned times.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator

from mslu.data.datasets._csv import read_table
from mslu.data.datasets.base import OFFICIAL_SPLITS, Annotation, DatasetIngestor

_FILE_SPLIT = {"train": "train", "dev": "val", "test": "test"}
log = logging.getLogger(__name__)
_COLUMNS = ("VIDEO_NAME", "SENTENCE_NAME", "START_REALIGNED", "END_REALIGNED", "SENTENCE")


class How2Sign(DatasetIngestor):
    name = "how2sign"
    sign_language = "ase"
    text_language = "en"
    tasks = ("slt",)
    default_fps = 24.0

    def annotations(self, split: str | None = None) -> Iterator[Annotation]:
        split = self._check_split(split)
        for sp in OFFICIAL_SPLITS if split is None else (split,):
            name = f"how2sign_realigned_{_FILE_SPLIT[sp]}.csv"
            path = self.root / name
            if not path.is_file():
                if split is None:
                    continue  # releases are often downloaded split by split
                raise FileNotFoundError(f"{self.name}: no {name} under {self.root}")
            for i, row in enumerate(read_table(path, "\t", _COLUMNS), start=2):
                try:
                    start, end = float(row["START_REALIGNED"]), float(row["END_REALIGNED"])
                except ValueError:
                    start = end = math.nan
                if not (math.isfinite(start) and math.isfinite(end) and 0 <= start < end):
                    log.warning("%s:%d: %s skipped: bad start / end time %r / %r", path, i,
                                row["SENTENCE_NAME"], row["START_REALIGNED"], row["END_REALIGNED"])
                    continue
                yield Annotation(
                    id=row["SENTENCE_NAME"],
                    split=sp,
                    media_id=row["VIDEO_NAME"],
                    media=f"{row['VIDEO_NAME']}.mp4",
                    text=row["SENTENCE"].strip(),
                    start_time=start,
                    end_time=end,
                    extra={"video_id": row.get("VIDEO_ID", ""), "sentence_id": row.get("SENTENCE_ID", "")},
                )
