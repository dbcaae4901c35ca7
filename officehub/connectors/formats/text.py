"""Lines of text as the format readers see them: rows with their line numbers, or rejects.

A line that does not decode in the stream's encoding is rejected on its own, with
its position and the byte offset, so one bad byte never sinks the rest of the file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from officehub.connectors.base import RejectedRow

#: Undecodable bytes survive ``errors="surrogateescape"`` as lone surrogates in this range.
_ESCAPED = re.compile("[\udc80-\udcff]")


class FormatProblem(ValueError):
    """A value does not fit the stream's format; the message names the column, never the value."""


@dataclass(frozen=True, slots=True)
class Row:
    """A parsed row and the line of its file it starts on."""

    line: int
    values: dict[str, Any]


#: What a format reader yields for each row of a file.
Parsed = Row | RejectedRow


def reject(file: str, line: int, reason: str, raw: dict[str, Any]) -> RejectedRow:
    """A row that cannot be parsed, at ``file:line``; ``reason`` never quotes the row.

    A raw text holding a NUL is kept as the hex of its UTF-8 bytes: PostgreSQL refuses NUL in
    text and JSON, so the quarantine entry itself could not be stored otherwise.
    """
    kept = {k: v.encode("utf-8", "surrogateescape").hex() if isinstance(v, str) and "\x00" in v else v
            for k, v in raw.items()}
    return RejectedRow(f"{file}:{line}", reason, kept)


def nul_reason(values: dict[str, Any]) -> str | None:
    """Why a row must be rejected for a NUL character, naming the first such field; None if it has none.

    No destination database stores NUL in text, so such a row is rejected at ingest, where it can
    still be quarantined with its position, instead of failing every later publish.
    """
    for name, value in values.items():
        if _has_nul(name):
            return "a field name contains a NUL character"
        if _has_nul(value):
            return f"field {name} contains a NUL character"
    return None


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def decode_line(raw: bytes, encoding: str, file: str, line: int) -> str | RejectedRow:
    """One line (without its line break) decoded, or a reject naming where the bad byte is."""
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as exc:
        return reject(file, line, f"undecodable byte for {encoding} at byte {exc.start + 1}", {"line": raw.hex()})


def escaped_byte(text: str) -> int | None:
    """Index of the first undecodable byte kept by ``surrogateescape`` in ``text``, or None."""
    found = _ESCAPED.search(text)
    return found.start() if found else None


def replace_escaped(text: str) -> str:
    """``text`` with every undecodable byte shown as U+FFFD."""
    return _ESCAPED.sub("\ufffd", text)


def strip_newline(raw: bytes) -> bytes:
    """A line without its LF or CRLF."""
    return raw.rstrip(b"\r\n")
