"""``mslu serve``: what it starts, the warning off loopback, and one-line errors (the server itself is
replaced by a stub; the browser test runs a real one)."""

from __future__ import annotations

import socket

import pytest

import mslu.serve
from mslu.cli import main


@pytest.fixture
def started(monkeypatch):
    """Calls of ``mslu.serve.serve`` (app, host, port) instead of running uvicorn."""
    calls = []
    monkeypatch.setattr(mslu.serve, "serve", lambda app, host, port: calls.append((app, host, port)))
    return calls


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_loads_the_runs_and_the_index(serve_runs, serve_index, started, capsys):
    port = _free_port()
    argv = ["serve", "--run", str(serve_runs["islr"]), "--run", str(serve_runs["retrieval"]),
            "--index", str(serve_index), "--port", str(port), "--device", "cpu",
            "--max-upload-mb", "5"]  # fmt: skip
    assert main(argv) == 0
    (app, host, p), = started
    assert (host, p) == ("127.0.0.1", port)
    engine = app.state.engine
    assert [r.task_name for r in engine.runs] == ["islr", "retrieval"]
    assert engine.limits.max_upload_mb == 5 and engine.searcher.model is engine.runs[1].model  # shared
    cap = capsys.readouterr()
    assert f"open http://127.0.0.1:{port}/" in cap.out and "(islr)" in cap.out and "6 clips" in cap.out
    assert "warning" not in cap.err


def test_binding_elsewhere_warns(serve_runs, started, capsys):
    assert main(["serve", "--run", str(serve_runs["islr"]), "--host", "0.0.0.0", "--port", str(_free_port()),
                 "--device", "cpu"]) == 0  # fmt: skip
    err = capsys.readouterr().err
    assert "warning: listening on 0.0.0.0" in err and "no authentication" in err
    app = started[0][0]
    from fastapi.testclient import TestClient

    with TestClient(app, base_url="http://192.0.2.7:7860") as c:  # any Host once bound off loopback
        assert c.get("/healthz").status_code == 200


def test_errors_are_one_line(serve_runs, tmp_path, started, capsys):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        run = ["serve", "--run", str(serve_runs["islr"])]
        cases = [
            (["serve"], "give at least one --run"),
            (["serve", "--run", str(tmp_path / "none")], f"{tmp_path / 'none'}: no fine-tuned model"),
            ([*run, "--port", str(port)], f"127.0.0.1:{port}: cannot listen"),
            ([*run, "--max-frames", "0"], "--max-frames must be >= 1"),
            ([*run, "--index", str(tmp_path)], "not a sign index"),
        ]
        for argv, expect in cases:
            assert main([*argv, "--device", "cpu"]) == 2, argv
            err = capsys.readouterr().err.strip()
            assert err.startswith("error: ") and expect in err and "\n" not in err, (argv, err)
    assert started == []
