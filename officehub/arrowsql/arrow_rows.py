"""Turning DB-API rows into Arrow batches and cursor values into query parameters."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pyarrow as pa
import sqlalchemy as sa

_CONVERSION_ERRORS = (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, OverflowError)


def _inferred_array(values: Sequence[Any]) -> pa.Array:
    try:
        array = pa.array(values)
    except _CONVERSION_ERRORS:
        # Loosely typed stores (SQLite) may mix ints and text in one column:
        # hand the mapping text, which every transform accepts.
        array = pa.array([None if v is None else str(v) for v in values], pa.string())
    return array.cast(pa.string()) if pa.types.is_null(array.type) else array


def _column_array(values: Sequence[Any], arrow_type: pa.DataType | None) -> pa.Array:
    """Values as ``arrow_type`` when they fit it, else as whatever Arrow infers."""
    if arrow_type is not None:
        try:
            return pa.array(values, arrow_type)
        except _CONVERSION_ERRORS:
            pass  # e.g. MySQL DOUBLE comes back as Decimal: infer, then cast below
    array = _inferred_array(values)
    if arrow_type is not None:
        try:
            return array.cast(arrow_type)
        except _CONVERSION_ERRORS:
            pass  # a loosely typed store holds something else than it declares
    return array


def rows_to_batch(names: Sequence[str], rows: Sequence[Sequence[Any]],
                  types: Mapping[str, pa.DataType | None] | None = None) -> pa.RecordBatch:
    """A record batch from a page of rows, one Arrow array per column, typed as declared where given."""
    types = types or {}
    columns = list(zip(*rows)) if rows else [() for _ in names]
    arrays = [_column_array(values, types.get(name)) for name, values in zip(names, columns)]
    return pa.RecordBatch.from_arrays(arrays, names=list(names))


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
