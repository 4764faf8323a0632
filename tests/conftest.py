"""Shared fixtures. ``shared_dir`` is ../shared beside the project root; tests that use it skip cleanly
when it is absent (a user's fresh clone has no ../shared)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("MSLU_SHARED", ROOT.parent / "shared"))


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.skip(f"{SHARED} is absent")
    return SHARED


@pytest.fixture(scope="session")
def shared_poses(shared_dir: Path) -> Path:
    p = shared_dir / "poses"
    if not p.is_dir():
        pytest.skip(f"{p} is absent")
    return p


@pytest.fixture(scope="session")
def shared_datasets(shared_dir: Path) -> Path:
    p = shared_dir / "datasets"
    if not p.is_dir():
        pytest.skip(f"{p} is absent")
    return p


@pytest.fixture(autouse=True)
def _no_leaked_torch_threads():
    """A test that changes torch's thread count must restore it (later tests would run single-threaded)."""
    import torch

    before = torch.get_num_threads()
    yield
    after = torch.get_num_threads()
    torch.set_num_threads(before)
    assert after == before, f"the test left torch.set_num_threads({after}) (was {before})"

