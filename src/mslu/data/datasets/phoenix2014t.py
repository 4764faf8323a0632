"""RWTH-PHOENIX-Weather 2014 T (German SL weather forecasts; CSLR, SLT and retrieval).

Release layout: ``<root>/annotations/manual/PHOENIX-2014-T.{train,dev,test}.corpus.csv``, pipe separated,
columns ``name|video|start|end|speaker|orth|translation``. ``orth`` is the gloss sequence (kept raw, e.g.
``__ON__`` / ``loc-`` markers of the train split stay), ``translation`` the German sentence. ``start`` and
``end`` are -1 in the release (whole clip). Pose files: ``<name>.pose``.
"""

from __future__ import annotations

from collections.abc import Iterator

from mslu.data.datasets._csv import read_table
from mslu.data.datasets.base import OFFICIAL_SPLITS, Annotation, DatasetIngestor


class Phoenix2014T(DatasetIngestor):
    name = "phoenix2014t"
    sign_language = "gsg"
    text_language = "de"
    tasks = ("cslr", "slt", "slrt")

    def annotations(self, split: str | None = None) -> Iterator[Annotation]:
        split = self._check_split(split)
        for sp in OFFICIAL_SPLITS if split is None else (split,):
            path = self._file(
                f"annotations/manual/PHOENIX-2014-T.{sp}.corpus.csv",
                f"PHOENIX-2014-T.{sp}.corpus.csv",
                what=f"{sp} corpus file",
            )
            for row in read_table(path, "|", ("name", "speaker", "orth", "translation")):
                yield Annotation(
                    id=row["name"],
                    split=sp,
                    media=row.get("video", ""),
                    signer=row["speaker"],
                    text=row["translation"].strip(),
                    gloss=row["orth"].split(),
                )
