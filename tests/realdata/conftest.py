"""Fixtures on the real datasets of ../shared/realdata (skipped cleanly when absent): the Libras-25 corpus
built in one ``mslu ingest folder`` command, and a corpus of the PHOENIX skeletons and ASL webcam
sentences (whole sentences and their segments as isolated signs)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

LIBRAS_SPLIT = ["--test-signers", "Rosenice,Tiago", "--dev-signers", "Luana"]  # configs/islr/libras25.yaml


@pytest.fixture(scope="session")
def realdata(shared_dir: Path) -> Path:
    p = shared_dir / "realdata"
    if not p.is_dir():
        pytest.skip(f"{p} is absent")
    return p


def _need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"{path} is absent")
    return path


@pytest.fixture(scope="session")
def libras_dir(realdata: Path) -> Path:
    return _need(realdata / "libras25")


@pytest.fixture(scope="session")
def libras_ingest(libras_dir: Path, tmp_path_factory) -> tuple[Path, dict]:
    """(corpus, printed stats) of ``mslu ingest folder <libras25> --sign-language bzs <split> --out D``."""
    import contextlib
    import io

    from mslu.cli import main

    out = tmp_path_factory.mktemp("libras") / "libras25"
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        assert main(["ingest", "folder", str(libras_dir), "--sign-language", "bzs", *LIBRAS_SPLIT,
                     "--out", str(out)]) == 0
    return out, json.loads(buf.getvalue())


@pytest.fixture(scope="session")
def sentences_corpus(realdata: Path, tmp_path_factory) -> Path:
    """PHOENIX skeletons (train/dev/test) + ASL sentences + ASL segments, all splits."""
    from mslu.data.build import build_corpus

    skels, asl = _need(realdata / "phoenix14t-skels15"), _need(realdata / "signbridge-asl")
    out = tmp_path_factory.mktemp("sentences") / "c"
    build_corpus({"name": "real-sentences", "include_splits": "all", "sources": [
        {"name": "phoenix14t_skels", "root": str(skels), "poses": str(skels)},
        {"name": "signbridge_asl", "root": str(asl), "poses": str(asl)},
        {"name": "signbridge_asl", "label": "asl_signs", "root": str(asl), "poses": str(asl),
         "options": {"unit": "sign"}},
    ]}, out)
    return out


@pytest.fixture
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
