"""The fuzz suite: seeded generators of malformed inputs; each case ends in a correct result or a clear error
(an expected error class, one line, naming the file or key), never another exception."""

from __future__ import annotations

SEED = 20261203


def one_line_naming(error: BaseException, *names: str) -> None:
    """``error``'s message is one line and names one of ``names`` (the file or key)."""
    text = str(error)
    assert text and "\n" not in text.strip(), f"multi-line message: {text!r}"
    assert any(n in text for n in names), f"{text!r} names none of {names}"
