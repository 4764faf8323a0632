"""A restricted unpickler for annotation pickles (CSL-Daily's ``csl2020ct_v2.pkl``).

Only plain containers (dict, list, tuple, set), strings, bytes, numbers, booleans and None can be built:
those need no global lookups, so :meth:`RestrictedUnpickler.find_class` refuses every global. A pickle that
names any class or function (``os.system``, ``numpy.ndarray``, ...) fails with a clear error instead of
running code.
"""

from __future__ import annotations

import io
import pickle
from pathlib import Path
from typing import Any


class RestrictedUnpickler(pickle.Unpickler):
    """Unpickler that admits no globals at all; ``source`` names the file in error messages."""

    def __init__(self, file: io.BufferedIOBase, source: str = "<pickle>"):
        super().__init__(file)
        self.source = source

    def find_class(self, module: str, name: str) -> Any:
        raise pickle.UnpicklingError(
            f"{self.source}: refused global {module}.{name} (only plain containers, strings and numbers "
            "are allowed in annotation pickles)"
        )


def safe_load_pickle(path: str | Path) -> Any:
    """Load a pickle of plain data from ``path`` through :class:`RestrictedUnpickler`."""
    path = Path(path)
    with path.open("rb") as f:
        try:
            return RestrictedUnpickler(f, source=str(path)).load()
        except pickle.UnpicklingError:
            raise
        except Exception as exc:  # truncated / corrupt file
            raise pickle.UnpicklingError(f"{path}: cannot unpickle: {exc}") from exc
