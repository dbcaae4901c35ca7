"""The general writer: SQLAlchemy executemany in chunks, with the dialect's native upsert.

MariaDB/MySQL get ``INSERT … ON DUPLICATE KEY UPDATE`` (PyMySQL folds each chunk into
multi-row INSERTs), SQLite ``ON CONFLICT DO UPDATE``; a database with no upsert has
the keyed rows deleted and inserted again. Chunks bound the Python rows alive at once.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import pyarrow as pa
import sqlalchemy as sa

from connectors.base import WriteMode
from connectors.sql.dialects import upsert_statement

CHUNK_ROWS = 5_000
#: Deletes bind one parameter per key column and row: stay far below SQLite's and SQL Server's limits.
DELETE_CHUNK_ROWS = 500


def write_rows(conn: sa.Connection, table: sa.Table, batch: pa.RecordBatch, mode: WriteMode,
               key: Sequence[str]) -> None:
    """Write ``batch`` to ``table`` in ``mode``, inside the connection's transaction."""
    if mode is WriteMode.DELETE:
        for rows in _chunks(batch.select(list(key)), DELETE_CHUNK_ROWS):
            conn.execute(_delete_by_key(table, key, rows))
        return
    stmt = sa.insert(table)
    if mode is WriteMode.UPSERT:
        stmt = upsert_statement(conn.dialect.name, table, key, update=batch.schema.names)
        if stmt is None:  # no native upsert: replace the keyed rows in the same transaction
            write_rows(conn, table, batch, WriteMode.DELETE, key)
            stmt = sa.insert(table)
    for rows in _chunks(batch, CHUNK_ROWS):
        conn.execute(stmt, rows)


def _chunks(batch: pa.RecordBatch, size: int) -> Iterator[list[dict]]:
    for start in range(0, batch.num_rows, size):
        yield batch.slice(start, size).to_pylist()


def _delete_by_key(table: sa.Table, key: Sequence[str], rows: list[dict]) -> sa.Delete:
    if len(key) == 1:
        return sa.delete(table).where(table.c[key[0]].in_([row[key[0]] for row in rows]))
    keys = [tuple(row[k] for k in key) for row in rows]
    return sa.delete(table).where(sa.tuple_(*(table.c[k] for k in key)).in_(keys))
