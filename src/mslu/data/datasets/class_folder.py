"""Shared reader for isolated-sign releases stored as one folder per class (NMFs-CSL, SLR500).

Assumed layout (as these releases ship their videos): ``<root>/<media_dir>/<class>/<signer>_<...>.<ext>``,
where ``<class>`` is the zero-padded class index (``000000`` ... ) and the file name's first ``_``-separated
token names the signer (``P01_...``). The words come from a class-list file in the root, one class a
line: ``<class index><whitespace><word>``, or just ``<word>`` (then the line number is the index). Any file
with a video or pose extension counts as a clip, so ``media_dir`` may also point at a pose tree of the same
shape. Clip ids are ``<class>/<file stem>``; pose files mirror the tree: ``<pose_root>/<class>/<stem>.pose``.
The releases have no dev split: clips of ``test_signers`` are the test split; a dev split for model selection
is carved from the other signers, either whole signers (``dev_signers``: signer-independent, like the test
split) or, by default, a deterministic ``dev_fraction`` (10%) of every class's training clips, chosen by a
hash of the clip id (stable across machines and runs); ``dev_fraction: 0`` keeps no dev split.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import ClassVar

from mslu.data.datasets.base import POSE_SUFFIXES, Annotation, DatasetIngestor

MEDIA_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".webm", *POSE_SUFFIXES)


def signer_number(signer: str) -> int | None:
    """``P07`` -> 7 (the digits of a signer token), None without digits."""
    digits = re.sub(r"\D", "", signer)
    return int(digits) if digits else None


def read_class_list(path: Path) -> dict[int, str]:
    """Class index -> word from a class-list file (``<index> <word>`` or ``<word>`` lines)."""
    out: dict[int, str] = {}
    with path.open(encoding="utf-8") as f:
        lines = [ln.strip() for ln in f if ln.strip()]
    for i, line in enumerate(lines):
        head, _, rest = line.partition("\t") if "\t" in line else line.partition(" ")
        if head.isdigit() and rest.strip():
            out[int(head)] = rest.strip()
        else:
            out[i] = line
    return out


class ClassFolderIngestor(DatasetIngestor):
    """Base of the one-folder-per-class isolated datasets; subclasses set the defaults."""

    sign_language = "csl"
    text_language = "zh"
    tasks = ("islr",)
    isolated = True
    default_fps = 30.0
    default_media_dir: ClassVar[str]
    default_class_lists: ClassVar[tuple[str, ...]] = ("dictionary.txt", "class_list.txt", "classes.txt")
    default_test_signers: ClassVar[tuple[int, ...]]

    def __init__(self, root: str | Path, media_dir: str | None = None, class_list: str | None = None,
                 test_signers: Iterable[int] | None = None, dev_signers: Iterable[int] | None = None,
                 dev_fraction: float = 0.1):
        super().__init__(root)
        self.media_dir = media_dir or self.default_media_dir
        self.class_list = class_list
        self.test_signers = set(map(int, self.default_test_signers if test_signers is None else test_signers))
        self.dev_signers = set(map(int, dev_signers or ()))
        if self.dev_signers & self.test_signers:
            both = sorted(self.dev_signers & self.test_signers)
            raise ValueError(f"{self.name}: signers {both} are in both "
                             f"dev_signers and test_signers")
        if not 0 <= float(dev_fraction) < 1:
            raise ValueError(f"{self.name}: dev_fraction must be in [0, 1), got {dev_fraction}")
        self.dev_fraction = float(dev_fraction)

    def split_of(self, clip_id: str, signer: str) -> str:
        """test (test signers), dev (dev signers, or the hashed fraction without them) or train."""
        number = signer_number(signer)
        if number in self.test_signers:
            return "test"
        if self.dev_signers:
            return "dev" if number in self.dev_signers else "train"
        digest = int(hashlib.sha1(clip_id.encode("utf-8")).hexdigest()[:8], 16)
        return "dev" if digest < self.dev_fraction * 0x1_0000_0000 else "train"

    def classes(self) -> dict[int, str]:
        cands = (self.class_list,) if self.class_list else self.default_class_lists
        return read_class_list(self._file(*cands, what="class list"))

    def annotations(self, split: str | None = None) -> Iterator[Annotation]:
        split = self._check_split(split)
        classes = self.classes()
        media = self.root / self.media_dir
        if not media.is_dir():
            raise FileNotFoundError(f"{self.name}: no media folder {media}")
        for class_dir in sorted(p for p in media.iterdir() if p.is_dir()):
            if not class_dir.name.isdigit():
                continue
            label = int(class_dir.name)
            if label not in classes:
                raise ValueError(f"{self.name}: class folder {class_dir.name} is not in the class list")
            for f in sorted(class_dir.iterdir()):
                if f.suffix.lower() not in MEDIA_SUFFIXES or not f.is_file():
                    continue
                signer = f.stem.split("_", 1)[0]
                sp = self.split_of(f"{class_dir.name}/{f.stem}", signer)
                if split is not None and sp != split:
                    continue
                word = classes[label]
                yield Annotation(
                    id=f"{class_dir.name}/{f.stem}",
                    split=sp,
                    media=f"{self.media_dir}/{class_dir.name}/{f.name}",
                    signer=signer,
                    text=word,
                    gloss=[word],
                    label=label,
                )
