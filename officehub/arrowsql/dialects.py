"""Where databases differ: upserts, connect options, NULL ordering and row comparisons.

Callers never branch on the dialect; they ask here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite


def upsert_statement(dialect: str, table: sa.Table, key: Sequence[str],
                     update: Sequence[str] | None = None) -> sa.Executable | None:
    """An INSERT that updates the row when ``key`` already exists, or None if the dialect has none that
    matches on ``key`` alone.

    ``update`` names the columns to overwrite on conflict (default: every non-key column).
    """
    value_cols = [c for c in (update if update is not None else table.columns.keys()) if c not in key]
    if dialect in ("postgresql", "sqlite"):
        module = postgresql if dialect == "postgresql" else sqlite
        stmt = module.insert(table)
        if not value_cols:
            return stmt.on_conflict_do_nothing(index_elements=list(key))
        return stmt.on_conflict_do_update(
            index_elements=list(key), set_={c: stmt.excluded[c] for c in value_cols},
        )
    # MySQL's and MariaDB's ON DUPLICATE KEY UPDATE fires on ANY unique index: a new record
    # sharing an e-mail with another row would overwrite that row. They get None, so the
    # writer matches on the key alone (update the rows found, insert the others).
    return None


def refuses_nul_in_text(dialect: str) -> bool:
    """Whether ``dialect``'s text types cannot store U+0000 (PostgreSQL's cannot)."""
    return dialect == "postgresql"


def connect_args(dialect: str, timeout_s: int) -> dict[str, Any]:
    """Driver arguments that bound how long a connection attempt may hang."""
    if dialect == "sqlite":
        return {"timeout": timeout_s}
    if dialect in ("postgresql", "mysql", "mariadb"):
        return {"connect_timeout": timeout_s}
    return {}


#: Databases that sort NULL before every value in ascending order (MySQL and MariaDB reject NULLS FIRST).
_NULLS_SORT_FIRST = frozenset({"mysql", "mariadb", "sqlite", "mssql"})


def ascending_nulls_first(column: sa.ColumnElement, dialect: str) -> sa.ColumnElement:
    """``column`` in ascending order with NULLs first, spelled the way ``dialect`` accepts."""
    return column if dialect in _NULLS_SORT_FIRST else column.nulls_first()


#: Databases whose planners turn a row-value comparison ``(a, b) > (x, y)`` into an index range scan.
#: MariaDB and MySQL scan the whole table for it instead; SQL Server has no row values at all.
_ROW_VALUE_RANGES = frozenset({"postgresql"})


def row_greater(columns: Sequence[sa.ColumnElement], values: Sequence[sa.ColumnElement],
                dialect: str) -> sa.ColumnElement[bool]:
    """``(columns) > (values)``, written so that ``dialect`` reads it from an index on ``columns``."""
    if dialect in _ROW_VALUE_RANGES:
        return sa.tuple_(*columns) > sa.tuple_(*values)
    return _expanded_greater(columns, values)


def _expanded_greater(columns: Sequence[sa.ColumnElement],
                      values: Sequence[sa.ColumnElement]) -> sa.ColumnElement[bool]:
    # a >= x AND (a > x OR (b, …) > (y, …)): the leading a >= x is the range the index serves.
    first, value = columns[0], values[0]
    if len(columns) == 1:
        return first > value
    return sa.and_(first >= value, sa.or_(first > value, _expanded_greater(columns[1:], values[1:])))
