"""Reading the pipe / tab separated annotation tables of the releases."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

FIELD_LIMIT = 1 << 24  # bytes per field: annotation cells are short; a longer one is a broken file


def read_table(path: Path, delimiter: str, required: tuple[str, ...]) -> Iterator[dict[str, str]]:
    """Rows of a header-first delimited file as dicts; a one-line error naming the file (and line) when a
    required column is missing, the file is not UTF-8 or a field is absurdly long."""
    csv.field_size_limit(FIELD_LIMIT)
    try:
        with path.open(encoding="utf-8", newline="") as f:
            reader = csv.DictReader(f, delimiter=delimiter, quoting=csv.QUOTE_NONE)
            missing = [c for c in required if c not in (reader.fieldnames or [])]
            if missing:
                raise ValueError(f"{path}: missing column(s) {missing}; header is {reader.fieldnames}")
            for row in reader:
                yield {k: (v if v is not None else "") for k, v in row.items() if k is not None}
    except UnicodeDecodeError as e:
        raise ValueError(f"{path}: not UTF-8 text ({e.reason} at byte {e.start})") from None
    except csv.Error as e:
        raise ValueError(f"{path}: unreadable table ({e})") from None
