"""What a fuzz target accepts as a correct outcome, and what it reports as a finding.

The hub's own errors (OfficehubError and its kinds) and rejected rows are correct answers
to bad bytes. Any other exception, a hang, or a message that quotes a value is a finding.
The seeds carry :data:`MARKER` in their values (and the fuzzer's dictionary offers it), so a
message that repeats a value shows it by the marker.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

#: Text that stands in every seed value that must never reach a message (a medical note, a password).
MARKER = "SNTL"


class ValueInMessage(AssertionError):
    """A finding: an error, a reject reason or a log line quotes a value of the input."""


def check_text(kind: str, text: str, names: Callable[[], Iterable[str]] = tuple) -> None:
    """Raise ValueInMessage if ``text`` carries the marker outside the names it may quote.

    ``names`` gives the column (or routing) names of the input, which a message may name; it is
    called only when the marker shows, so the common case costs one substring search.
    """
    if MARKER not in text:
        return
    for name in names():
        if MARKER in name:
            text = text.replace(name, "")
    if MARKER in text:
        raise ValueInMessage(f"a value of the input reached {kind}")


class _Kept(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@contextmanager
def logged() -> Iterator[list[str]]:
    """The log lines written by officehub inside the block (checked like messages)."""
    handler, logger = _Kept(), logging.getLogger("officehub")
    previous = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield handler.lines
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)
