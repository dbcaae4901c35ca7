"""Delimited text (CSV): dialect from the stream spec, read record by record, written by pyarrow."""

from __future__ import annotations

import csv
import io
from collections import deque
from collections.abc import Iterable, Iterator
from contextlib import suppress
from typing import BinaryIO

import pyarrow as pa
import pyarrow.csv as pacsv

from officehub.connectors.base import RejectedRow
from officehub.connectors.formats.spec import FileStream
from officehub.connectors.formats.text import (
    FormatProblem,
    Parsed,
    Row,
    escaped_byte,
    nul_reason,
    reject,
    replace_escaped,
)


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


class _Unclosed(Exception):
    """The file ended inside a quoted field."""


class _Lines:
    """A file's lines with their numbers, as csv.reader pulls them.

    The lines of the record being parsed are kept, so a record that turns out bad (a quote that
    never closes, a field over the limit) can be rejected by its first line alone and the lines
    after it parsed again as records of their own.
    """

    def __init__(self, text: Iterable[str]) -> None:
        self._source = enumerate(text, start=1)
        self._again: deque[tuple[int, str]] = deque()
        self.taken: list[tuple[int, str]] = []

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        item = self._again.popleft() if self._again else next(self._source, None)
        if item is None:
            # csv.reader only asks for another line mid-record when a quoted field is still open.
            if self.taken:
                raise _Unclosed
            raise StopIteration
        self.taken.append(item)
        return item[1]

    def start(self) -> None:
        """A new record begins."""
        self.taken = []

    def again_after_first(self) -> None:
        """Parse every line of the current record but its first once more."""
        self._again.extendleft(reversed(self.taken[1:]))
        del self.taken[1:]


def _records(text: Iterable[str], file: str, spec: FileStream) -> Iterator[Parsed]:
    lines = _Lines(text)
    # strict: text after a closing quote is an error, not glued on; it is how a stray quote shows.
    reader = csv.reader(lines, delimiter=spec.delimiter, quotechar=spec.quotechar, strict=True)
    # A bad byte in a column name shows as U+FFFD: the column keeps a name, the mapping says it is unknown.
    header = list(spec.columns or []) if not spec.header else [replace_escaped(h) for h in _header(reader, file)]
    while True:
        lines.start()
        try:
            values = next(reader)
        except StopIteration:
            return
        except (_Unclosed, csv.Error) as problem:
            yield _broken(lines, file, problem, spec.encoding)
            continue
        if values:
            yield _record(values, header, file, lines, spec)


def _header(reader: Iterator[list[str]], file: str) -> list[str]:
    try:
        return next(reader, [])
    except (_Unclosed, csv.Error):
        raise FormatProblem(f"{file}: the header row cannot be parsed (a quote that never closes or a field "
                            f"over {csv.field_size_limit()} characters)") from None


def _broken(lines: _Lines, file: str, problem: Exception, encoding: str) -> RejectedRow:
    """The reject for a record csv cannot finish; the lines after its first are read again."""
    (line, text), last = lines.taken[0], lines.taken[-1][0]
    limit = csv.field_size_limit()
    if isinstance(problem, _Unclosed):
        reason = "a quote opened on this line is never closed"
    elif "field limit" in str(problem):
        reason = (f"a quote opened on this line is not closed within {limit} characters" if last > line
                  else f"a field is longer than {limit} characters")
    elif last > line:
        reason = f"a quote opened on this line closes on line {last} with more text after it"
    else:
        reason = "text follows a closing quote (a quote inside a quoted field is written twice)"
    lines.again_after_first()
    # The raw line is cut at the limit: a 10 MB field is not copied into the quarantine.
    kept = text[:limit].rstrip("\r\n")
    if escaped_byte(kept) is not None:
        kept = kept.encode(encoding, "surrogateescape").hex()
    return reject(file, line, reason, {"line": kept, "characters": len(text)})


def _record(values: list[str], header: list[str], file: str, lines: _Lines, spec: FileStream) -> Parsed:
    line = lines.taken[0][0]
    joined = spec.delimiter.join(values)
    bad = escaped_byte(joined)
    if bad is not None:
        raw = {"line": joined.encode(spec.encoding, "surrogateescape").hex()}
        return reject(file, line, f"undecodable byte for {spec.encoding} at character {bad + 1}", raw)
    if len(values) != len(header):
        return _miscounted(values, header, file, lines)
    row = dict(zip(header, values))
    nul = nul_reason(row)
    if nul is not None:
        return reject(file, line, nul, {"line": joined})
    return Row(line, {h: (v if v != "" else None) for h, v in row.items()})


def _miscounted(values: list[str], header: list[str], file: str, lines: _Lines) -> RejectedRow:
    """A row with too few or too many fields, rejected whole even if a quoted line break made it span lines.

    Its later lines are not read again on their own: the tail of a real multi-line field would
    then load as a row of garbage, while here they all wait, unchanged, in one quarantine entry.
    """
    line, last = lines.taken[0][0], lines.taken[-1][0]
    counted = f"{len(values)} field{'s' if len(values) != 1 else ''} where the header has {len(header)}"
    raw = dict(zip((f"field_{i + 1}" for i in range(len(values))), values))
    if last == line:
        return reject(file, line, counted, raw)
    return reject(file, line, f"a record on lines {line}-{last} (a quoted field spans lines) has {counted}", raw)


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
