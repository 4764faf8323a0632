"""Reading the pipe / tab separated annotation tables of the releases."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path


def read_table(path: Path, delimiter: str, required: tuple[str, ...]) -> Iterator[dict[str, str]]:
    """Rows of a header-first delimited file as dicts; a clear error when a required column is missing."""
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f, delimiter=delimiter, quoting=csv.QUOTE_NONE)
        missing = [c for c in required if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{path}: missing column(s) {missing}; header is {reader.fieldnames}")
        for row in reader:
            yield {k: (v if v is not None else "") for k, v in row.items() if k is not None}
