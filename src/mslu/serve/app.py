"""The web app of ``mslu serve``: FastAPI, one static page and one JSON endpoint (docs/serve.md).

``POST /api/analyse?filename=NAME[&width=W&height=H]`` takes the file as the raw request body (what the
page's script sends; ``curl --data-binary @clip.pose``), streams it into a fresh temporary directory,
refusing it past ``limits.max_upload_mb``, analyses it with the :class:`~mslu.serve.engine.Engine` and
deletes the directory. Every answer is JSON: ``{"ok": true, ...}`` or ``{"ok": false, "error": "..."}`` with
a 4xx status for a bad file and 500 (the traceback in the server's log only) for a bug.
"""

from __future__ import annotations

import ipaddress
import shutil
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from mslu.serve.engine import ACCEPTED, Engine, Limits, UploadError
from mslu.serve.page import APP_CSS, APP_JS, INDEX_HTML

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cache-control", b"no-store"),
    (b"content-security-policy",
     b"default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"),
]  # fmt: skip


def is_loopback(host: str) -> bool:
    """Whether binding ``host`` keeps the server on this machine."""
    h = host.strip("[]")
    if h == "localhost":
        return True
    try:
        return ipaddress.ip_address(h).is_loopback
    except ValueError:
        return False


def host_name(header: str) -> str:
    """The host of a ``Host`` header, without its port (``[::1]:7860`` -> ``[::1]``)."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[: header.find("]") + 1] if "]" in header else header
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


class Guard:
    """ASGI middleware: answers 400 to a request whose ``Host`` is not one of ``allowed_hosts`` (a page on
    another site cannot reach the demo through DNS rebinding) and adds the security headers."""

    def __init__(self, app: Any, allowed_hosts: Iterable[str] | None):
        self.app = app
        self.allowed = None if allowed_hosts is None else {h.lower() for h in allowed_hosts}

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        if self.allowed is not None:
            host = dict(scope.get("headers") or []).get(b"host", b"").decode("latin-1")
            if host_name(host) not in self.allowed:
                response = JSONResponse({"ok": False, "error": f"unexpected Host header {host!r}"}, 400)
                return await response(scope, receive, send)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers") or []) + SECURITY_HEADERS
            await send(message)

        return await self.app(scope, receive, send_with_headers)


def _error(message: str, status: int) -> JSONResponse:
    return JSONResponse({"ok": False, "error": " ".join(str(message).split())}, status_code=status)


def upload_name(filename: str) -> str:
    """The base name of an uploaded file (a client may send a path), for messages; never used as a path."""
    name = PureWindowsPath(PurePosixPath(filename or "").name).name.strip()
    name = "".join(ch for ch in name if ch.isprintable())[:200]
    return name or "upload"


def build_app(
    runs: Sequence[str | Path] = (),
    index: str | Path | None = None,
    *,
    device: str = "auto",
    limits: Limits | None = None,
    engine: Engine | None = None,
    allowed_hosts: Iterable[str] | None = LOOPBACK_NAMES,
    tmp_dir: str | Path | None = None,
) -> FastAPI:
    """The demo app for the fine-tuned ``runs`` (and the sign ``index``), or for an already loaded
    ``engine``. ``allowed_hosts``: accepted ``Host`` headers (None: any); ``tmp_dir``: where the
    per-upload temporary directories go (default: the system's)."""
    if tmp_dir is not None:
        Path(tmp_dir).mkdir(parents=True, exist_ok=True)
    engine = engine or Engine.load(runs, index, device=device, limits=limits)
    lim = engine.limits
    app = FastAPI(title="mslu demo", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.engine = engine

    @app.exception_handler(RequestValidationError)
    async def _bad_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(f"{'.'.join(str(x) for x in e.get('loc', ())[1:])}: {e.get('msg')}"
                             for e in exc.errors())  # fmt: skip
        return _error(f"bad request ({problems})", 422)

    @app.exception_handler(Exception)
    async def _bug(request: Request, exc: Exception) -> JSONResponse:  # the server logs the traceback
        return _error("internal error while analysing the file (details in the server's log)", 500)

    @app.api_route("/", methods=["GET", "HEAD"], response_class=HTMLResponse)
    async def index_page() -> HTMLResponse:
        return HTMLResponse(INDEX_HTML)

    @app.get("/static/app.js")
    async def script() -> Response:
        return Response(APP_JS, media_type="text/javascript; charset=utf-8")

    @app.get("/static/app.css")
    async def style() -> Response:
        return Response(APP_CSS, media_type="text/css; charset=utf-8")

    @app.get("/api/info")
    async def api_info() -> dict[str, Any]:
        return engine.info()

    @app.get("/healthz")
    async def health() -> dict[str, Any]:
        return {"ok": True}

    @app.post("/api/analyse")
    async def analyse(
        request: Request,
        filename: str = Query("", max_length=1000),
        width: int | None = Query(None, ge=1, le=100_000),
        height: int | None = Query(None, ge=1, le=100_000),
    ) -> JSONResponse:
        name = upload_name(filename)
        suffix = Path(name).suffix.lower()
        if suffix not in ACCEPTED:
            return _error(f"{name}: unsupported file type {suffix or '(none)'!r}; accepted: "
                          f"{' '.join(ACCEPTED)}", 415)  # fmt: skip
        too_big = f"{name}: larger than this server's upload limit ({lim.max_upload_mb:g} MB)"
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > lim.max_upload_bytes:
            return _error(too_big, 413)
        work = Path(tempfile.mkdtemp(prefix="mslu-serve-", dir=tmp_dir))
        try:
            path = work / f"upload{suffix}"
            size = 0
            with open(path, "wb") as f:
                async for chunk in request.stream():
                    size += len(chunk)
                    if size > lim.max_upload_bytes:
                        return _error(too_big, 413)
                    f.write(chunk)
            if size == 0:
                return _error(f"{name}: the file is empty", 400)
            result = await run_in_threadpool(engine.analyse, path, name, work, width, height)
            return JSONResponse(result)
        except UploadError as e:
            return _error(str(e), e.status)
        finally:
            shutil.rmtree(work, ignore_errors=True)

    app.add_middleware(Guard, allowed_hosts=allowed_hosts)
    return app
