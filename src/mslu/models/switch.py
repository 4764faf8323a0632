"""A process-wide on/off switch for an optional fast path, with a context manager that turns it off."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


class Switch:
    """``on`` is True until code runs inside :meth:`off` (nesting restores the previous state)."""

    def __init__(self) -> None:
        self.on = True

    @contextmanager
    def off(self) -> Iterator[None]:
        old, self.on = self.on, False
        try:
            yield
        finally:
            self.on = old
