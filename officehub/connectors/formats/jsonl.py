"""JSON Lines: one JSON object a line; nested values travel as JSON text."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, BinaryIO

import pyarrow as pa

from officehub.connectors.formats.spec import FileStream
from officehub.connectors.formats.text import Parsed, Row, decode_line, nul_reason, reject, strip_newline
from officehub.connectors.jsonable import json_default


def read_jsonl(handle: BinaryIO, file: str, spec: FileStream) -> Iterator[Parsed]:
    """Objects of a JSON Lines file; a line that does not decode or is not an object is rejected alone."""
    for line_no, raw in enumerate(handle, start=1):
        text = decode_line(strip_newline(raw), spec.encoding, file, line_no)
        if not isinstance(text, str):
            yield text
        elif text.strip():
            yield _object(text, file, line_no)


def _object(text: str, file: str, line_no: int) -> Parsed:
    try:
        return _parsed(text, file, line_no)
    except RecursionError:
        # Decoding and the checks below go one call deeper per level: a line nested past
        # Python's recursion limit is rejected on its own instead of ending the read.
        return reject(file, line_no, "the JSON is nested too deeply to read", {"line": text})


def _parsed(text: str, file: str, line_no: int) -> Parsed:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        # The decoder's own message is position-only, but its position is all we need.
        return reject(file, line_no, f"not valid JSON at character {exc.pos + 1}", {"line": text})
    if not isinstance(value, dict):
        return reject(file, line_no, f"a JSON {type(value).__name__} where an object was expected", {"line": text})
    nul = nul_reason(value)
    if nul is not None:
        return reject(file, line_no, nul, {"line": text})
    return Row(line_no, {k: _flat(v) for k, v in value.items()})


def _flat(value: Any) -> Any:
    """Scalars stay as they are; objects and lists become their JSON text (one column each)."""
    return json.dumps(value, ensure_ascii=False) if isinstance(value, (dict, list)) else value


def header_of(first_line: bytes, spec: FileStream) -> list[str]:
    """The keys of the first object of a JSON Lines stream (later lines may add more)."""
    try:
        value = json.loads(first_line.decode(spec.encoding, errors="replace"))
    except json.JSONDecodeError:
        return []
    return list(value) if isinstance(value, dict) else []


def render_jsonl(batch: pa.RecordBatch, spec: FileStream) -> bytes:
    """A batch as JSON Lines in the stream's encoding; decimals as strings so no digit is lost."""
    lines = (json.dumps(row, ensure_ascii=False, default=json_default, separators=(",", ":"))
             for row in batch.to_pylist())
    return "".join(line + spec.newline for line in lines).encode(spec.encoding, errors="strict")
