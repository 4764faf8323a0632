"""``mslu serve``: a local web demo of fine-tuned runs (docs/serve.md).

A person drops a video or a pose file on the page and sees the rendered SL79 skeleton, the top-5 signs
(ISLR), the glosses (CSLR), the translation (GF-SLT), the nearest sentences (SL-RT) and, with a sign index,
its nearest clips. :func:`build_app` makes the app (testable without a server), :func:`serve` runs it.
"""

from mslu.serve.app import LOOPBACK_NAMES, build_app, host_name, is_loopback, upload_name
from mslu.serve.engine import ACCEPTED, Engine, Limits, LoadedRun, UploadError, load_run
from mslu.serve.server import check_port, serve

__all__ = [
    "ACCEPTED",
    "LOOPBACK_NAMES",
    "Engine",
    "Limits",
    "LoadedRun",
    "UploadError",
    "build_app",
    "check_port",
    "host_name",
    "is_loopback",
    "load_run",
    "serve",
    "upload_name",
]
