"""Running the demo app with uvicorn."""

from __future__ import annotations

import logging
import socket
from typing import Any

from mslu.serve.app import LOOPBACK_NAMES, is_loopback

log = logging.getLogger(__name__)


def check_port(host: str, port: int) -> None:
    """Raise OSError (one line) when ``host:port`` cannot be listened on (in use, or not an address here)."""
    if not 0 <= int(port) <= 65535:
        raise ValueError(f"--port must be in 0..65535, got {port}")
    family = socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((host.strip("[]"), int(port)))
    except OSError as e:
        raise OSError(f"{host}:{port}: cannot listen there ({e.strerror or e})") from None


def allowed_hosts_for(host: str) -> tuple[str, ...] | None:
    """The Host headers accepted when bound to ``host``: the loopback names on loopback, any elsewhere."""
    return LOOPBACK_NAMES if is_loopback(host) else None


def serve(app: Any, host: str = "127.0.0.1", port: int = 7860, log_level: str = "info") -> None:
    """Serve ``app`` until Ctrl-C (uvicorn, one process)."""
    import uvicorn

    uvicorn.run(app, host=host.strip("[]"), port=int(port), log_level=log_level, server_header=False,
                access_log=False)  # fmt: skip
