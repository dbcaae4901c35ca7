"""SQL databases through SQLAlchemy: PostgreSQL, MariaDB/MySQL, SQLite and any other dialect."""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa
import sqlalchemy as sa

from connectors.base import WriteMode
from connectors.sql.config import SqlConfig
from connectors.sql.connector import SqlConnector
from connectors.sql.paths import writer


def bulk_write(conn: sa.Connection, table: sa.Table, batch: pa.RecordBatch, mode: WriteMode,
               key: Sequence[str]) -> None:
    """Write ``batch`` into ``table`` on ``conn``'s transaction the fastest way the database allows.

    PostgreSQL: COPY into a staging table and one set-based statement; others: chunked
    dialect upserts. Upserts touch only the columns the batch carries.
    """
    writer(conn.dialect, batch.schema)(conn, table, batch, mode, key)


__all__ = ["SqlConfig", "SqlConnector", "bulk_write"]
