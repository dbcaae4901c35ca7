"""Fixed-width text: columns cut by a layout, stripped of padding, typed where the layout says so."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, BinaryIO

import pyarrow as pa

from officehub.connectors.formats import values
from officehub.connectors.formats.spec import FileStream, FixedWidthColumn
from officehub.connectors.formats.text import FormatProblem, Parsed, Row, decode_line, nul_reason, reject, strip_newline


def read_fixed_width(handle: BinaryIO, file: str, spec: FileStream) -> Iterator[Parsed]:
    """Rows of a fixed-width file, one a line; a line that does not decode or parse is rejected alone."""
    assert spec.layout is not None
    for line_no, raw in enumerate(handle, start=1):
        text = decode_line(strip_newline(raw), spec.encoding, file, line_no)
        if isinstance(text, str) and not text.strip():
            continue
        yield text if not isinstance(text, str) else _row(text, spec.layout, file, line_no)


def _row(text: str, layout: list[FixedWidthColumn], file: str, line_no: int) -> Parsed:
    width = max(col.end for col in layout)
    if text[width:].strip():
        # Cutting the rest off would store a shortened row: the layout is likely off by some columns.
        return reject(file, line_no, f"the line has {len(text)} characters; the layout ends at {width}",
                      {"line": text})
    cells = {col.name: text[col.start:col.end].strip() or None for col in layout}
    nul = nul_reason(cells)
    if nul is not None:
        return reject(file, line_no, nul, {"line": text})
    try:
        return Row(line_no, {col.name: _typed(col, cells[col.name]) for col in layout})
    except FormatProblem as problem:
        return reject(file, line_no, str(problem), cells)


def _typed(column: FixedWidthColumn, text: str | None) -> Any:
    return None if text is None else values.parse(column, text)


def schema(spec: FileStream) -> pa.Schema:
    """The Arrow schema of a fixed-width stream, from its layout."""
    assert spec.layout is not None
    return pa.schema([pa.field(col.name, values.arrow_type(col)) for col in spec.layout])


def render_fixed_width(batch: pa.RecordBatch, spec: FileStream) -> bytes:
    """A batch as fixed-width lines; a value longer than its column is an error, never a cut."""
    assert spec.layout is not None
    width = max(col.end for col in spec.layout)
    lines = [_line(row, spec.layout, width) for row in batch.to_pylist()]
    return "".join(line + spec.newline for line in lines).encode(spec.encoding, errors="strict")


def _line(row: dict[str, Any], layout: list[FixedWidthColumn], width: int) -> str:
    line = [" "] * width
    for col in layout:
        text = values.render(col, row.get(col.name))
        if len(text) > col.length:
            raise FormatProblem(f"a value of column {col.name} is longer than {col.length} characters")
        line[col.start:col.end] = text.rjust(col.length) if col.align == "right" else text.ljust(col.length)
    return "".join(line)
