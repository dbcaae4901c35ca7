"""An Arrow batch as PostgreSQL ``COPY … FROM STDIN`` input, built in Arrow.

Feeding COPY row by row (``write_row``) spends its time in Python per value. Batches
of plain scalar columns go as CSV written by Arrow's C++ CSV writer (about 3x faster
than composing text with compute kernels); others (binary, durations) as COPY text:
Arrow casts each column to text, escapes only the text columns that need it, and
joins columns into lines in C++, so Python touches a batch a handful of times.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

NULL = "\\N"
#: COPY text format: a backslash, newline, carriage return or tab inside a value is escaped.
_ESCAPES = (("\\", "\\\\"), ("\n", "\\n"), ("\r", "\\r"), ("\t", "\\t"))
_NEEDS_ESCAPE = r"[\\\n\r\t]"
_TAB, _NEWLINE, _EMPTY = (pa.scalar(s, pa.large_string()) for s in ("\t", "\n", ""))
_Z, _NO_SEPARATOR = (pa.scalar(s, pa.string()) for s in ("Z", ""))


def supports(schema: pa.Schema) -> bool:
    """Whether every column has a text form PostgreSQL parses back to the same value."""
    return all(_plain(field.type) for field in schema)


def _plain(arrow_type: pa.DataType) -> bool:
    if pa.types.is_dictionary(arrow_type):
        return _plain(arrow_type.value_type)
    return not (pa.types.is_nested(arrow_type) or pa.types.is_duration(arrow_type)
                or pa.types.is_interval(arrow_type) or isinstance(arrow_type, pa.BaseExtensionType))


def csv_fits(schema: pa.Schema) -> bool:
    """Whether Arrow's CSV writer writes every column in a form PostgreSQL reads back exactly."""
    return all(_csv_plain(field.type) for field in schema)


def _csv_plain(kind: pa.DataType) -> bool:
    return (pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_integer(kind)
            or pa.types.is_floating(kind) or pa.types.is_boolean(kind) or pa.types.is_date(kind)
            or pa.types.is_timestamp(kind) or pa.types.is_decimal(kind))


#: CSV as COPY reads it by default: no header, NULL unquoted and empty, "" an empty string.
_CSV = pacsv.WriteOptions(include_header=False, quoting_style="needed")


def csv_chunks(batch: pa.RecordBatch, rows_per_chunk: int = 50_000) -> Iterator[memoryview]:
    """The batch as CSV for ``COPY … (FORMAT csv)``, in chunks of whole rows (see :func:`csv_fits`)."""
    batch = _utc_as_text(batch)
    for start in range(0, batch.num_rows, rows_per_chunk):
        sink = pa.BufferOutputStream()
        pacsv.write_csv(batch.slice(start, rows_per_chunk), sink, _CSV)
        yield memoryview(sink.getvalue())


def _utc_as_text(batch: pa.RecordBatch) -> pa.RecordBatch:
    """``batch`` with its UTC timestamp columns as the very text Arrow's CSV writer gives them.

    The writer formats a zoned timestamp through the time-zone database value by value
    (about 2.5 µs each: two such columns took 90% of a golden batch's CSV time); for UTC
    it writes the wall time and ``Z``, which a cast to text and one join make in C++ at a
    fraction of the cost. Other zones (written with their offset) are left to the writer.
    """
    utc = [i for i, f in enumerate(batch.schema) if pa.types.is_timestamp(f.type) and f.type.tz == "UTC"]
    if not utc:
        return batch
    columns = batch.columns
    for i in utc:
        text = columns[i].cast(pa.timestamp(columns[i].type.unit)).cast(pa.string())
        columns[i] = pc.binary_join_element_wise(text, _Z, _NO_SEPARATOR)  # a null stays null
    return pa.RecordBatch.from_arrays(columns, names=batch.schema.names)


def copy_chunks(batch: pa.RecordBatch, rows_per_chunk: int = 50_000) -> Iterator[memoryview]:
    """The batch as COPY text, in chunks of whole lines, each a view on an Arrow buffer (no copy)."""
    for start in range(0, batch.num_rows, rows_per_chunk):
        yield _lines_buffer(_lines(batch.slice(start, rows_per_chunk)))


def _lines(batch: pa.RecordBatch) -> pa.Array:
    columns = [_text_column(column) for column in batch.columns]
    joined = pc.binary_join_element_wise(*columns, _TAB) if len(columns) > 1 else columns[0]
    return pc.binary_join_element_wise(joined, _NEWLINE, _EMPTY)  # each line ends in a newline


def _lines_buffer(lines: pa.Array) -> memoryview:
    # A string array with no nulls stores its values back to back: the lines between
    # the first and last offsets are exactly the COPY stream.
    offsets = lines.buffers()[1]
    start, end = (struct.unpack_from("<q", offsets, 8 * i)[0] for i in (lines.offset, lines.offset + len(lines)))
    return memoryview(lines.buffers()[2])[start:end]


def _text_column(column: pa.Array) -> pa.Array:
    if pa.types.is_binary(column.type) or pa.types.is_large_binary(column.type) \
            or pa.types.is_fixed_size_binary(column.type):
        text = _bytea_hex(column)
    else:
        text = pc.cast(column, pa.large_string())
        if _is_text(column.type) and pc.any(pc.match_substring_regex(text, _NEEDS_ESCAPE)).as_py():
            for raw, escaped in _ESCAPES:
                text = pc.replace_substring(text, raw, escaped)
    return pc.fill_null(text, NULL)


def _is_text(arrow_type: pa.DataType) -> bool:
    if pa.types.is_dictionary(arrow_type):
        return _is_text(arrow_type.value_type)
    return pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type) \
        or pa.types.is_string_view(arrow_type)


def _bytea_hex(column: pa.Array) -> pa.Array:
    # bytea's hex input is \x…; the backslash itself is escaped in COPY text. Binary
    # columns are rare in back-office data, so per value in Python is good enough.
    return pa.array([None if v is None else "\\\\x" + v.hex() for v in column.to_pylist()], pa.large_string())
