"""RWTH-PHOENIX-Weather 2014 (German SL; CSLR only).

Release layout: ``<root>/annotations/manual/{train,dev,test}.corpus.csv``, pipe separated, columns
``id|folder|signer|annotation`` (the gloss sequence, kept raw). There is no translation, so the clips are
*unpaired* in pre-training (paper Sec. III-A iii): ``paired=False``, ``text=None``, gloss kept.
Pose files: ``<id>.pose``.
"""

from __future__ import annotations

from collections.abc import Iterator

from mslu.data.datasets._csv import read_table
from mslu.data.datasets.base import OFFICIAL_SPLITS, Annotation, DatasetIngestor


class Phoenix2014(DatasetIngestor):
    name = "phoenix2014"
    sign_language = "gsg"
    text_language = "de"
    tasks = ("cslr",)
    paired = False

    def annotations(self, split: str | None = None) -> Iterator[Annotation]:
        split = self._check_split(split)
        for sp in OFFICIAL_SPLITS if split is None else (split,):
            path = self._file(
                f"annotations/manual/{sp}.corpus.csv", f"{sp}.corpus.csv", what=f"{sp} corpus file"
            )
            for row in read_table(path, "|", ("id", "signer", "annotation")):
                yield Annotation(
                    id=row["id"],
                    split=sp,
                    media=row.get("folder", ""),
                    signer=row["signer"],
                    text=None,
                    gloss=row["annotation"].split(),
                )
