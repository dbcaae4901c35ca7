"""Selecting rows by a list of keys, the way each database handles best."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

#: Keys per IN list elsewhere: well under every database's bound-parameter limit.
CHUNK = 5_000


def chunks(values: Sequence[Any]) -> list[list[Any]]:
    """The distinct ``values`` in IN-list-sized groups, first occurrence first."""
    unique = list(dict.fromkeys(values))
    return [unique[i:i + CHUNK] for i in range(0, len(unique), CHUNK)]


def batches(conn: sa.Connection, values: Sequence[Any]) -> list[list[Any]]:
    """The distinct ``values`` in groups to look up together: one group on PostgreSQL (see :func:`among`)."""
    if conn.dialect.name == "postgresql":
        unique = list(dict.fromkeys(values))
        return [unique] if unique else []
    return chunks(values)


def dicts(result: sa.CursorResult) -> Iterator[dict[str, Any]]:
    """Each row of ``result`` as a plain dict (about twice as fast as ``dict(row._mapping)``)."""
    keys = list(result.keys())
    return (dict(zip(keys, row)) for row in result)


def among(conn: sa.Connection, column: sa.ColumnElement, values: list[Any]) -> sa.ColumnElement[bool]:
    """``column IN values``; on PostgreSQL ``column = ANY(array)``: one parameter instead of
    thousands, which the driver and the server parse in constant time (an IN list of 5,000
    keys cost more to parse than to run)."""
    if conn.dialect.name == "postgresql":
        return column == sa.any_(sa.bindparam(None, values, type_=postgresql.ARRAY(column.type)))
    return column.in_(values)
