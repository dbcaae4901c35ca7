"""Turning DB-API rows into Arrow batches and cursor values into query parameters."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pyarrow as pa
import sqlalchemy as sa


def _column_array(values: Sequence[Any]) -> pa.Array:
    try:
        array = pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        # Loosely typed stores (SQLite) may mix ints and text in one column:
        # hand the mapping text, which every transform accepts.
        array = pa.array([None if v is None else str(v) for v in values], pa.string())
    return array.cast(pa.string()) if pa.types.is_null(array.type) else array


def rows_to_batch(names: Sequence[str], rows: Sequence[Sequence[Any]]) -> pa.RecordBatch:
    """A record batch from a page of rows, one Arrow array per column."""
    columns = list(zip(*rows)) if rows else [() for _ in names]
    return pa.RecordBatch.from_arrays([_column_array(c) for c in columns], names=list(names))


def to_json_value(value: Any) -> Any:
    """A cursor value as JSON can hold it."""
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def from_json_value(value: Any, column: sa.Column) -> Any:
    """A stored cursor value back in the column's Python type, for a bound parameter."""
    if value is None or not isinstance(value, str):
        return value
    try:
        python_type = column.type.python_type
    except NotImplementedError:
        return value
    if python_type is datetime:
        return datetime.fromisoformat(value)
    if python_type is date:
        return date.fromisoformat(value)
    if python_type is Decimal:
        return Decimal(value)
    return value
