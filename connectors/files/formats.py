"""Delimited and fixed-width text, line by line, so one bad line never sinks a file."""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv

from connectors.base import RejectedRow
from connectors.files.config import FileStream

#: A parsed line: (line number, values) or a row that could not be decoded.
Parsed = tuple[int, dict[str, str | None]] | RejectedRow


def _undecodable(text: str) -> int | None:
    """Index of the first byte that did not decode (kept as a lone surrogate), or None."""
    for i, ch in enumerate(text):
        if "\udc80" <= ch <= "\udcff":
            return i
    return None


def _reject(file: str, line_no: int, column: int, raw: dict[str, Any]) -> RejectedRow:
    return RejectedRow(f"{file}:{line_no}", f"undecodable byte at character {column + 1}", raw)


def read_csv(path: Path, spec: FileStream) -> Iterator[Parsed]:
    """Rows of a delimited file as dicts keyed by the header, streamed line by line."""
    # surrogateescape keeps undecodable bytes visible per row instead of failing the file.
    with path.open(encoding=spec.encoding, errors="surrogateescape", newline="") as handle:
        yield from _csv_rows(path, handle, spec)


def _csv_rows(path: Path, handle: io.TextIOBase, spec: FileStream) -> Iterator[Parsed]:
    reader = csv.reader(handle, delimiter=spec.delimiter, quotechar=spec.quotechar)
    header = next(reader, None) or []
    for values in reader:
        line_no = reader.line_num
        joined = spec.delimiter.join(values)
        bad = _undecodable(joined)
        if bad is not None:
            yield _reject(path.name, line_no, bad, {"line": joined.encode(spec.encoding, "surrogateescape").hex()})
        elif values:
            padded = values + [""] * (len(header) - len(values))
            yield line_no, {h: (v if v != "" else None) for h, v in zip(header, padded)}


def read_fixed_width(path: Path, spec: FileStream) -> Iterator[Parsed]:
    """Rows of a fixed-width file, cut by the layout and stripped of padding."""
    assert spec.layout is not None
    with path.open("rb") as handle:
        for line_no, raw in enumerate(handle, start=1):
            text = raw.rstrip(b"\r\n").decode(spec.encoding, errors="surrogateescape")
            if not text.strip():
                continue
            bad = _undecodable(text)
            if bad is not None:
                yield _reject(path.name, line_no, bad, {"line": raw.rstrip(b"\r\n").hex()})
                continue
            yield line_no, {
                col.name: (text[col.start:col.start + col.length].strip() or None) for col in spec.layout
            }


def atomic_write(path: Path, payload: bytes) -> None:
    """Write to a temporary name in the same folder, fsync, then rename: never a partial file."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def render_csv(batch: pa.RecordBatch, spec: FileStream) -> bytes:
    """A batch as delimited text in the stream's encoding."""
    sink = io.BytesIO()
    options = pacsv.WriteOptions(delimiter=spec.delimiter, quoting_style="needed")
    pacsv.write_csv(pa.Table.from_batches([batch]), sink, options)
    text = sink.getvalue().decode("utf-8")
    if spec.newline != "\n":
        text = text.replace("\n", spec.newline)
    return text.encode(spec.encoding, errors="strict")


def render_fixed_width(batch: pa.RecordBatch, spec: FileStream) -> bytes:
    """A batch as fixed-width lines; a value longer than its column is an error, not a cut."""
    assert spec.layout is not None
    width = max(c.start + c.length for c in spec.layout)
    lines = []
    for row in batch.to_pylist():
        line = [" "] * width
        for col in spec.layout:
            value = "" if row.get(col.name) is None else str(row[col.name])
            if len(value) > col.length:
                raise ValueError(f"value of column {col.name} is longer than {col.length} characters")
            cell = value.rjust(col.length) if col.align == "right" else value.ljust(col.length)
            line[col.start:col.start + col.length] = cell
        lines.append("".join(line))
    return "".join(line + spec.newline for line in lines).encode(spec.encoding, errors="strict")
