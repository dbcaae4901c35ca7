"""One entry point for writing a batch into a table on an open transaction, the fastest way the database allows."""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa
import sqlalchemy as sa

from officehub.arrowsql.modes import WriteMode
from officehub.arrowsql.paths import writer
from officehub.arrowsql.write_guard import last_per_key


def bulk_write(conn: sa.Connection, table: sa.Table, batch: pa.RecordBatch, mode: WriteMode,
               key: Sequence[str]) -> None:
    """Write ``batch`` into ``table`` on ``conn``'s transaction the fastest way the database allows.

    PostgreSQL: COPY into a staging table and one set-based statement; others: chunked
    dialect upserts. Upserts match on ``key`` alone, keep the last row of each key in the
    batch, and touch only the columns the batch carries.
    """
    if mode is WriteMode.UPSERT and key:
        batch = batch.take(last_per_key(batch, key))
    writer(conn.dialect, batch.schema)(conn, table, batch, mode, key)
