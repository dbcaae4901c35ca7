"""Typed columns of a fixed-width layout: text ↔ int, decimal, date, and their Arrow types.

A value that does not parse is reported by column name only: the text itself may
be sensitive, so it never reaches a reason, a log or an exception.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pyarrow as pa

from officehub.connectors.formats.spec import DECIMAL_FORMAT, FixedWidthColumn
from officehub.connectors.formats.text import FormatProblem

_INT = re.compile(r"[+-]?\d+")
_INT64 = 2**63
_DEFAULT_DATE = "%Y-%m-%d"
_DEFAULT_DECIMAL = "0.00"


def _decimal_notation(column: FixedWidthColumn) -> tuple[str, int]:
    """(separator, digits after it) of a decimal column."""
    separator, zeros = DECIMAL_FORMAT.match(column.format or _DEFAULT_DECIMAL).groups()
    return separator or ".", len(zeros or "")


def arrow_type(column: FixedWidthColumn) -> pa.DataType:
    """The Arrow type a column's values take in a batch."""
    if column.type == "int":
        return pa.int64()
    if column.type == "date":
        return pa.date32()
    if column.type == "decimal":
        scale = _decimal_notation(column)[1]
        # The width bounds the digits before the separator, so width + scale always fits (up to Arrow's 38).
        return pa.decimal128(min(38, column.length + scale), scale)
    return pa.string()


def parse(column: FixedWidthColumn, text: str) -> Any:
    """The typed value of a column's (stripped, non-empty) text; FormatProblem if it does not parse."""
    if column.type == "int":
        if not _INT.fullmatch(text) or not -_INT64 <= int(text) < _INT64:
            raise FormatProblem(f"column {column.name}: not a whole number")
        return int(text)
    if column.type == "decimal":
        return _parse_decimal(column, text)
    if column.type == "date":
        pattern = column.format or _DEFAULT_DATE
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            raise FormatProblem(f"column {column.name}: not a date in format {pattern}") from None
    return text


def _parse_decimal(column: FixedWidthColumn, text: str) -> Decimal:
    separator, scale = _decimal_notation(column)
    places = rf"(?:{re.escape(separator)}\d{{1,{scale}}})?" if scale else ""
    if not re.fullmatch(rf"[+-]?\d+{places}", text):
        raise FormatProblem(f"column {column.name}: not a decimal in format {column.format or _DEFAULT_DECIMAL}")
    value = Decimal(text.replace(separator, "."))
    if value.adjusted() + 1 + scale > arrow_type(column).precision:
        raise FormatProblem(f"column {column.name}: more digits than a decimal can hold")
    return value


def render(column: FixedWidthColumn, value: Any) -> str:
    """A value as the column's text (the inverse of ``parse``)."""
    if value is None:
        return ""
    if column.type == "date" and isinstance(value, date):
        return value.strftime(column.format or _DEFAULT_DATE)
    if column.type == "decimal" and isinstance(value, (Decimal, int, float)):
        return _render_decimal(column, Decimal(str(value)))
    return str(value)


def _render_decimal(column: FixedWidthColumn, value: Decimal) -> str:
    separator, scale = _decimal_notation(column)
    exact = value.quantize(Decimal(1).scaleb(-scale))
    if exact != value:
        # Rounding would change the amount the vendor receives.
        raise FormatProblem(f"column {column.name}: a value has more than {scale} decimal places")
    return f"{exact:f}".replace(".", separator)
