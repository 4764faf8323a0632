"""The fuzz suite: seeded generators of malformed inputs; each case must end in a correct result or a clear
error (an expected error class, one line, naming the file or key), never another exception."""

from __future__ import annotations

import random

import pytest

SEED = 20261203


@pytest.fixture
def rng() -> random.Random:
    return random.Random(SEED)


def one_line_naming(error: BaseException, *names: str) -> None:
    text = str(error)
    assert text and "\n" not in text.strip(), f"multi-line message: {text!r}"
    assert any(n in text for n in names), f"{text!r} names none of {names}"
