"""The general writer: SQLAlchemy executemany in chunks, matching rows on the configured key only.

PostgreSQL and SQLite upsert with ``ON CONFLICT (key) DO UPDATE``. MariaDB/MySQL (whose
``ON DUPLICATE KEY UPDATE`` would match any unique index) and databases with no upsert
have the batch's keys looked up and locked, then the rows found updated and the others
inserted, each statement checked to touch exactly the rows it was meant to. A row that
collides with another on some other unique index makes the statement fail, which the
caller (``write_guard``) narrows down to that record. Chunks bound the Python rows alive at once.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa

from officehub.arrowsql.dialects import upsert_statement
from officehub.arrowsql.modes import WriteMode
from officehub.arrowsql.refusals import expect_rows

CHUNK_ROWS = 5_000
#: Statements that bind one parameter per key column and row stay far below SQLite's and SQL Server's limits.
KEY_CHUNK_ROWS = 500


def write_rows(conn: sa.Connection, table: sa.Table, batch: pa.RecordBatch, mode: WriteMode,
               key: Sequence[str]) -> None:
    """Write ``batch`` (one row per key when upserting) to ``table`` in ``mode``, in the connection's transaction."""
    if mode is WriteMode.DELETE:
        for rows in _chunks(batch.select(list(key)), KEY_CHUNK_ROWS):
            conn.execute(_delete_by_key(table, key, rows))
        return
    if mode is WriteMode.UPSERT:
        stmt = upsert_statement(conn.dialect.name, table, key, update=batch.schema.names)
        if stmt is None:
            _update_then_insert(conn, table, batch, key)
            return
        for rows in _chunks(batch, CHUNK_ROWS):
            conn.execute(stmt, rows)
        return
    _insert(conn, table, batch)


def _insert(conn: sa.Connection, table: sa.Table, batch: pa.RecordBatch) -> None:
    for rows in _chunks(batch, CHUNK_ROWS):
        expect_rows("insert", len(rows), conn.execute(sa.insert(table), rows).rowcount)


def _update_then_insert(conn: sa.Connection, table: sa.Table, batch: pa.RecordBatch, key: Sequence[str]) -> None:
    """Update the rows whose key exists, insert the others: nothing matches on another unique index."""
    found = _existing_keys(conn, table, batch, key)
    present = pa.array([_key_of(row, key) in found for row in batch.select(list(key)).to_pylist()], pa.bool_())
    values = [name for name in batch.schema.names if name not in key]
    if values:
        update = (sa.update(table).where(*(table.c[k] == sa.bindparam(f"key_{k}") for k in key))
                  .values({name: sa.bindparam(f"value_{name}") for name in values}))
        for rows in _chunks(batch.filter(present), CHUNK_ROWS):
            params = [{**{f"key_{k}": row[k] for k in key}, **{f"value_{n}": row[n] for n in values}} for row in rows]
            expect_rows("update by key", len(params), conn.execute(update, params).rowcount)
    _insert(conn, table, batch.filter(pc.invert(present)))


def _existing_keys(conn: sa.Connection, table: sa.Table, batch: pa.RecordBatch, key: Sequence[str]) -> set[tuple]:
    """The batch's keys the table holds, locked (FOR UPDATE) so no one inserts them before we do."""
    found: set[tuple] = set()
    columns = [table.c[k] for k in key]
    for rows in _chunks(batch.select(list(key)), KEY_CHUNK_ROWS):
        query = sa.select(*columns).where(_key_in(table, key, rows)).with_for_update()
        found.update(_key_of(row._mapping, key) for row in conn.execute(query))
    return found


def _key_of(row: object, key: Sequence[str]) -> tuple:
    # Compared as text: the database may return another Python type for the key than the batch holds.
    return tuple(str(row[k]) for k in key)  # type: ignore[index]


def _chunks(batch: pa.RecordBatch, size: int) -> Iterator[list[dict]]:
    for start in range(0, batch.num_rows, size):
        yield batch.slice(start, size).to_pylist()


def _key_in(table: sa.Table, key: Sequence[str], rows: list[dict]) -> sa.ColumnElement[bool]:
    if len(key) == 1:
        return table.c[key[0]].in_([row[key[0]] for row in rows])
    return sa.tuple_(*(table.c[k] for k in key)).in_([tuple(row[k] for k in key) for row in rows])


def _delete_by_key(table: sa.Table, key: Sequence[str], rows: list[dict]) -> sa.Delete:
    return sa.delete(table).where(_key_in(table, key, rows))
