"""PHOENIX-2014T skeletons in the data layout of Progressive Transformers (Saunders et al., ``Data/tmp/``).

Release layout: per split ``<split>.files`` (clip names, e.g. ``train/11August_2010_Wednesday_tagesschau-1``),
``<split>.gloss`` (gloss sequence), ``<split>.text`` (German sentence) and ``<split>.skels`` (the clip's
skeleton frames), line-aligned; splits ``train``, ``dev``, ``test``. The skeletons are the 50-joint layout
``phoenix_skels_50`` (:mod:`mslu.pose.layouts`), read by :func:`mslu.pose.io.read_skels_lines`; they live
in the same folder (``poses`` is the release folder too). Clip ids are the names without the split prefix;
no signer ids. 25 fps (PHOENIX).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from mslu.data.datasets.base import OFFICIAL_SPLITS, Annotation, DatasetIngestor, PoseUnavailable
from mslu.data.schema import Sample
from mslu.pose.io import PoseReadError, read_skels_lines, skels_sequence
from mslu.pose.mapping import to_sl79
from mslu.pose.normalize import frame_units


class PhoenixSkels(DatasetIngestor):
    name = "phoenix14t_skels"
    sign_language = "gsg"
    text_language = "de"
    tasks = ("cslr", "slt", "slrt")
    default_fps = 25.0

    def __init__(self, root: str | Path):
        super().__init__(root)
        self._skels: dict[str, list[np.ndarray] | PoseReadError] = {}

    def _lines(self, split: str, kind: str) -> list[str]:
        path = self._file(f"{split}.{kind}", what=f"{split}.{kind}")
        return [ln.rstrip("\n") for ln in path.read_text(encoding="utf-8").splitlines()]

    def annotations(self, split: str | None = None) -> Iterator[Annotation]:
        split = self._check_split(split)
        for sp in OFFICIAL_SPLITS:
            if split is not None and sp != split:
                continue
            files, gloss, text = (self._lines(sp, k) for k in ("files", "gloss", "text"))
            if not len(files) == len(gloss) == len(text):
                raise ValueError(f"{self.root}: {sp}.files / .gloss / .text have {len(files)} / "
                                 f"{len(gloss)} / {len(text)} lines")
            for i, (f, g, t) in enumerate(zip(files, gloss, text, strict=True)):
                clip = f.strip().split("/", 1)[-1]
                yield Annotation(id=clip, split=sp, media=f.strip(), text=t.strip() or None,
                                 gloss=g.split() or None, extra={"line": i})

    def make_sample(self, pose_root: Path, ann: Annotation) -> Sample:
        path = Path(pose_root) / f"{ann.split}.skels"
        if ann.split not in self._skels:
            try:
                self._skels[ann.split] = read_skels_lines(path)
            except PoseReadError as e:
                self._skels[ann.split] = e
        clips = self._skels[ann.split]
        if isinstance(clips, PoseReadError):
            raise PoseUnavailable(f"cannot read pose file {path.name}: {clips}")
        line = int(ann.extra["line"])
        if line >= len(clips):
            raise PoseUnavailable(f"no pose file line {line} in {path.name} (it holds {len(clips)} clips)")
        seq = skels_sequence(clips[line], f"{path}#{line}", self.default_fps)
        pose = frame_units(to_sl79(seq), "normalized")
        extra: dict[str, Any] = {"clip_id": ann.id, "pose_file": f"{path.name}#{line}",
                                 "layout": seq.layout.name, "coordinates": "normalized"}
        return Sample(id=self.sample_id(ann), pose=pose, source=self.name, sign_language=self.sign_language,
                      text=ann.text, text_language=self.text_language, gloss=ann.gloss, split=ann.split,
                      fps=self.default_fps, estimator=seq.layout.name, paired=bool(ann.text), extra=extra)
