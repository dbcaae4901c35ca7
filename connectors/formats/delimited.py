"""Delimited text (CSV): dialect from the stream spec, read record by record, written by pyarrow."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from contextlib import suppress
from typing import BinaryIO

import pyarrow as pa
import pyarrow.csv as pacsv

from connectors.formats.spec import FileStream
from connectors.formats.text import FormatProblem, Parsed, Row, escaped_byte, reject, replace_escaped


def read_csv(handle: BinaryIO, file: str, spec: FileStream) -> Iterator[Parsed]:
    """Rows of a delimited file keyed by the header (or ``columns``), streamed record by record."""
    # surrogateescape keeps an undecodable byte inside its record, so only that record is rejected.
    text = io.TextIOWrapper(handle, encoding=spec.encoding, errors="surrogateescape", newline="")
    try:
        yield from _records(text, file, spec)
    finally:
        # The caller opened the handle and closes it; the wrapper must not (it may be closed already).
        with suppress(ValueError):
            text.detach()


def _records(text: io.TextIOBase, file: str, spec: FileStream) -> Iterator[Parsed]:
    reader = csv.reader(text, delimiter=spec.delimiter, quotechar=spec.quotechar)
    # A bad byte in a column name shows as U+FFFD: the column keeps a name, the mapping says it is unknown.
    header = list(spec.columns or []) if not spec.header else [replace_escaped(h) for h in next(reader, [])]
    last_line = reader.line_num
    for values in reader:
        first_line, last_line = last_line + 1, reader.line_num
        if values:
            yield _record(values, header, file, first_line, spec)


def _record(values: list[str], header: list[str], file: str, line: int, spec: FileStream) -> Parsed:
    joined = spec.delimiter.join(values)
    bad = escaped_byte(joined)
    if bad is not None:
        raw = {"line": joined.encode(spec.encoding, "surrogateescape").hex()}
        return reject(file, line, f"undecodable byte for {spec.encoding} at character {bad + 1}", raw)
    if len(values) > len(header):
        return reject(file, line, f"{len(values)} fields where the header has {len(header)}",
                      dict(zip((f"field_{i + 1}" for i in range(len(values))), values)))
    # A short row is common in vendor exports (trailing empty fields left out): missing means empty.
    padded = values + [""] * (len(header) - len(values))
    return Row(line, {h: (v if v != "" else None) for h, v in zip(header, padded)})


def header_of(first_line: bytes, spec: FileStream) -> list[str]:
    """The column names a delimited stream's files have, from the first line of one of them."""
    if not spec.header:
        return list(spec.columns or [])
    text = first_line.decode(spec.encoding, errors="replace").rstrip("\r\n")
    return next(csv.reader([text], delimiter=spec.delimiter, quotechar=spec.quotechar), [])


def render_csv(batch: pa.RecordBatch, spec: FileStream) -> bytes:
    """A batch as delimited text in the stream's encoding and line ending."""
    if spec.quotechar != '"':
        # pyarrow writes RFC 4180 quotes only; a custom quote is for reading vendor exports.
        raise FormatProblem("csv files are written with the quote character '\"' only")
    sink = io.BytesIO()
    options = pacsv.WriteOptions(include_header=spec.header, delimiter=spec.delimiter, eol=spec.newline,
                                 quoting_style="needed")
    pacsv.write_csv(pa.Table.from_batches([batch]), sink, options)
    return sink.getvalue().decode("utf-8").encode(spec.encoding, errors="strict")
