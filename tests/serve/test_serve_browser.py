"""The demo page in a real headless Chromium (the system's, driven by Playwright; no browser download):
a real server on a free loopback port, a real ``.pose`` uploaded through the page's file input, the top-5,
the translation and the nearest clips shown, a corrupt file shown as a message. Skips where no Chromium
binary or no Playwright is installed, or ../shared is absent."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time

import pytest

from mslu.serve import build_app

pytestmark = pytest.mark.shared

TIMEOUT_MS = 30_000


def chromium_binary() -> str | None:
    """``$MSLU_CHROMIUM``, else the first of the usual names on PATH (Debian: ``chromium``)."""
    env = os.environ.get("MSLU_CHROMIUM")
    if env:
        return env if os.access(env, os.X_OK) else None
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture(scope="module")
def browser():
    binary = chromium_binary()
    if binary is None:
        pytest.skip("no Chromium binary (apt-get install chromium; or set MSLU_CHROMIUM)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=binary, headless=True, args=["--no-sandbox"])
        try:
            yield b
        finally:
            b.close()


@pytest.fixture(scope="module")
def server(engine, tmp_path_factory):
    """The app under uvicorn in a background thread on a free 127.0.0.1 port; yields its URL."""
    import uvicorn

    uploads = tmp_path_factory.mktemp("browser_uploads")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = uvicorn.Config(build_app(engine=engine, tmp_dir=uploads), host="127.0.0.1", port=port,
                            log_level="warning", access_log=False)  # fmt: skip
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the demo server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}/", uploads
    finally:
        srv.should_exit = True
        thread.join(10)


def test_page_shows_the_predictions_of_a_real_pose_file(browser, server, shared_poses, tmp_path):
    url, uploads = server
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    try:
        page.goto(url)
        page.wait_for_function("document.getElementById('loaded').textContent.startsWith('Loaded:')",
                               timeout=TIMEOUT_MS)  # fmt: skip
        assert "(islr)" in page.inner_text("#loaded") and "6 clips" in page.inner_text("#loaded")
        page.set_input_files("#file", str(shared_poses / "mmpose-wholebody" / "SOUP.pose"))
        top5 = page.locator(".run[data-task=islr] ol.top5 li")
        top5.nth(4).wait_for(timeout=TIMEOUT_MS)
        assert top5.count() == 5
        first = top5.nth(0).inner_text()
        assert "%" in first
        translation = page.locator(".run[data-task=slt] .translation")
        assert translation.inner_text().strip() not in ("", "(empty)")
        assert page.locator(".run[data-task=retrieval] ol.nearest li").count() == 5
        assert page.locator("#hits tr").count() == 5
        page.wait_for_function("document.getElementById('skeleton').naturalWidth > 0", timeout=TIMEOUT_MS)
        assert "SOUP.pose" in page.inner_text("#file-info") and "41 frames" in page.inner_text("#file-info")
        assert page.locator("#error").is_hidden()
        shot = tmp_path / "serve.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 10_000
        if os.environ.get("MSLU_SERVE_SCREENSHOT"):  # refresh docs/serve_screenshot.png by hand
            shutil.copy(shot, os.environ["MSLU_SERVE_SCREENSHOT"])

        # a corrupt file: a message on the page, the last results stay
        page.set_input_files("#file", files=[{"name": "broken.pose", "mimeType": "application/octet-stream",
                                              "buffer": b"\x00 not a pose file" * 40}])  # fmt: skip
        error = page.locator("#error")
        error.wait_for(state="visible", timeout=TIMEOUT_MS)
        text = error.inner_text()
        assert text.startswith("broken.pose: not a readable pose-format file") and "Traceback" not in text
        assert list(uploads.iterdir()) == []
    finally:
        page.close()
