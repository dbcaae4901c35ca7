"""Keyset order shared by every reader: the cursor column, then the key as tie-breaker.

Reading "after the last (cursor, key) seen" instead of by offset means rows that
share one cursor value across a batch boundary are neither missed nor read twice,
and a page query costs the same at the end of a table as at its start.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa

from officehub.arrowsql.arrow_rows import from_json_value, to_json_value
from officehub.arrowsql.dialects import ascending_nulls_first, row_greater


@dataclass(frozen=True)
class Keyset:
    """How one stream is ordered and resumed: ``columns`` are the cursor field (if any) then the key."""

    table: sa.Table
    columns: tuple[sa.Column, ...]
    key: tuple[str, ...]
    dialect: str
    nullable_cursor: bool = False

    @classmethod
    def for_read(cls, table: sa.Table, key: tuple[str, ...], cursor_field: str | None, dialect: str) -> Keyset:
        """The keyset over ``table`` ordered by ``cursor_field`` (if any) then ``key``; the key must not be empty."""
        names = ((cursor_field,) if cursor_field else ()) + key
        columns = tuple(table.c[name] for name in names)
        nullable = bool(cursor_field) and bool(key) and bool(columns[0].nullable)
        return cls(table, columns, key, dialect, nullable)

    def select(self, after: Sequence[Any] | None, limit: int | None = None) -> sa.Select:
        """Every column of the table, in keyset order, after the row whose order values are ``after``."""
        first = self.columns[0]
        order = [ascending_nulls_first(first, self.dialect) if self.nullable_cursor else first, *self.columns[1:]]
        stmt = sa.select(self.table).order_by(*order)
        if after is not None:
            stmt = stmt.where(self._after(after))
        return stmt if limit is None else stmt.limit(limit)

    def _after(self, values: Sequence[Any]) -> sa.ColumnElement[bool]:
        bound = [sa.literal(value, column.type) for value, column in zip(values, self.columns)]
        if not self.nullable_cursor or values[0] is not None:
            # NULL cursors sort first, and a comparison with NULL is never true: they stay behind.
            return row_greater(self.columns, bound, self.dialect)
        cursor, rest = self.columns[0], self.columns[1:]
        # Still among the NULL cursors: the rest of them by key, then every non-NULL one.
        return sa.or_(sa.and_(cursor.is_(None), row_greater(rest, bound[1:], self.dialect)), cursor.is_not(None))

    def values_from_cursor(self, cursor: Mapping[str, Any] | None) -> list[Any] | None:
        """The order values a stored cursor resumes after, in the columns' Python types."""
        if not cursor or not cursor.get("after"):
            return None
        return [from_json_value(value, column) for value, column in zip(cursor["after"], self.columns)]

    def last_values(self, batch: pa.RecordBatch) -> list[Any]:
        """The order values of the batch's last row."""
        return [batch.column(column.name)[batch.num_rows - 1].as_py() for column in self.columns]

    def cursor_after(self, batch: pa.RecordBatch) -> dict[str, Any]:
        """The cursor to store once ``batch`` is safely written."""
        return {"after": [to_json_value(value) for value in self.last_values(batch)]}

    def positions(self, batch: pa.RecordBatch) -> list[str]:
        """Each row's source position, named by its key (``row 42``, ``row A/7``)."""
        try:
            # Built in Arrow: a Python f-string per row costs more than reading the row did.
            texts = [pc.fill_null(pc.cast(batch.column(name), pa.string()), "None") for name in self.key]
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):  # e.g. a binary key that is not UTF-8
            keys = zip(*(batch.column(name).to_pylist() for name in self.key))
            return [f"row {'/'.join(str(value) for value in values)}" for values in keys]
        joined = pc.binary_join_element_wise(*texts, "/") if len(texts) > 1 else texts[0]
        return pc.binary_join_element_wise("row ", joined, "").to_pylist()
