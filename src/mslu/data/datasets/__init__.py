"""Dataset ingestors: official annotation files + pose files -> corpus samples.

``INGESTORS`` maps a dataset name to its ingestor class; :func:`get_ingestor` builds one. ``folder`` is a
user's own dataset (a folder of pose files and a labels table, :mod:`mslu.data.datasets.folder`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mslu.data.datasets.base import Annotation, DatasetIngestor, PoseUnavailable
from mslu.data.datasets.bobsl import BOBSL
from mslu.data.datasets.csl_daily import CSLDaily
from mslu.data.datasets.folder import FolderIngestor, folder_ingestor
from mslu.data.datasets.how2sign import How2Sign
from mslu.data.datasets.msasl import MSASL
from mslu.data.datasets.nmfs_csl import NMFsCSL
from mslu.data.datasets.phoenix2014 import Phoenix2014
from mslu.data.datasets.phoenix2014t import Phoenix2014T
from mslu.data.datasets.ptslp import PhoenixSkels
from mslu.data.datasets.signbridge import SignBridgeASL
from mslu.data.datasets.slr500 import SLR500
from mslu.data.datasets.wlasl import WLASL

INGESTORS: dict[str, type[DatasetIngestor]] = {
    cls.name: cls
    for cls in (WLASL, MSASL, NMFsCSL, SLR500, Phoenix2014, Phoenix2014T, CSLDaily, How2Sign, BOBSL,
                FolderIngestor, PhoenixSkels, SignBridgeASL)
}
_ALIASES = {"ms_asl": "msasl", "nmfs-csl": "nmfs_csl", "nmfscsl": "nmfs_csl", "csl-daily": "csl_daily",
            "csldaily": "csl_daily", "phoenix14": "phoenix2014", "phoenix14t": "phoenix2014t",
            "phoenix-2014": "phoenix2014", "phoenix-2014t": "phoenix2014t", "csl500": "slr500",
            "ptslp": "phoenix14t_skels", "signbridge": "signbridge_asl"}


def get_ingestor(name: str, root: str | Path, /, **options: Any) -> DatasetIngestor:
    """The ingestor of dataset ``name`` (see ``INGESTORS``) over the release folder ``root``."""
    key = _ALIASES.get(name.lower(), name.lower())
    if key not in INGESTORS:
        raise KeyError(f"unknown dataset {name!r}; known: {sorted(INGESTORS)}")
    if key == FolderIngestor.name:
        return folder_ingestor(root, options, f"{name} {root}")
    return INGESTORS[key](root, **options)


__all__ = ["INGESTORS", "Annotation", "DatasetIngestor", "FolderIngestor", "PoseUnavailable", "get_ingestor"]
