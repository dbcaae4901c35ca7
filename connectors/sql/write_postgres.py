"""PostgreSQL bulk writes: COPY a batch into a staging table, then one set-based statement.

upsert: ``INSERT INTO t SELECT … FROM stage ON CONFLICT (key) DO UPDATE``;
delete: ``DELETE FROM t USING stage WHERE t.key = stage.key``;
append: COPY straight into the table, as a staging copy would add nothing.
Everything runs on the caller's connection, so it commits or rolls back as one.
"""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa
import sqlalchemy as sa

from connectors.base import WriteMode
from connectors.sql.copy_text import copy_chunks, csv_chunks, csv_fits
from connectors.sql.dialects import upsert_statement
from connectors.sql.errors import DriverError

#: A temporary table lives in the session's own schema (pg_temp) and is dropped at commit;
#: naming the schema keeps it apart from any real table of the same name.
STAGE = ("pg_temp", "officehub_stage")
_ROW = "__officehub_row"


def write_copy(conn: sa.Connection, table: sa.Table, batch: pa.RecordBatch, mode: WriteMode,
               key: Sequence[str]) -> None:
    """Write ``batch`` to ``table`` in ``mode`` with COPY, inside the connection's transaction."""
    if mode is WriteMode.APPEND:
        _copy(conn, (table.schema, table.name) if table.schema else (table.name,), batch)
        return
    if mode is WriteMode.UPSERT:
        batch = last_per_key(batch, key)
    stage = _stage(conn, table, batch.schema.names)
    _copy(conn, STAGE, batch)
    if mode is WriteMode.DELETE:
        conn.execute(sa.delete(table).where(*(table.c[k] == stage.c[k] for k in key)))
    else:
        names = batch.schema.names
        conn.execute(upsert_statement("postgresql", table, key, update=names).from_select(names, sa.select(*stage.c)))
    # Dropped now rather than at commit: one transaction may stage several tables in turn.
    _execute(conn, "DROP TABLE pg_temp.officehub_stage")


def last_per_key(batch: pa.RecordBatch, key: Sequence[str]) -> pa.RecordBatch:
    """One row per key, the last one, in batch order.

    ON CONFLICT refuses to touch a row twice in one statement; row-by-row upserts
    would let the last occurrence win, so that is what is kept.
    """
    table = pa.Table.from_batches([batch]).append_column(_ROW, pa.array(range(batch.num_rows), pa.int64()))
    last = table.group_by(list(key), use_threads=False).aggregate([(_ROW, "max")])
    if last.num_rows == batch.num_rows:
        return batch
    return batch.take(last.column(f"{_ROW}_max").combine_chunks().sort())


def _stage(conn: sa.Connection, table: sa.Table, names: list[str]) -> sa.TableClause:
    """An empty temporary table with the batch's columns, typed like the target's."""
    from psycopg import sql

    target = sql.Identifier(table.schema, table.name) if table.schema else sql.Identifier(table.name)
    _execute(conn, sql.SQL("CREATE TEMPORARY TABLE {} ON COMMIT DROP AS SELECT {} FROM {} WITH NO DATA").format(
        sql.Identifier(*STAGE), sql.SQL(", ").join(map(sql.Identifier, names)), target))
    schema, name = STAGE
    return sa.table(name, *(sa.column(column) for column in names), schema=schema)


def _copy(conn: sa.Connection, target: tuple[str, ...], batch: pa.RecordBatch) -> None:
    import psycopg
    from psycopg import sql

    as_csv = csv_fits(batch.schema)
    statement = sql.SQL("COPY {} ({}) FROM STDIN{}").format(
        sql.Identifier(*target), sql.SQL(", ").join(map(sql.Identifier, batch.schema.names)),
        sql.SQL(" (FORMAT csv)" if as_csv else ""))
    try:
        with conn.connection.driver_connection.cursor() as cursor, cursor.copy(statement) as copy:
            for chunk in (csv_chunks if as_csv else copy_chunks)(batch):
                copy.write(chunk)
    except psycopg.Error as exc:
        raise DriverError.from_dbapi("psycopg COPY", exc) from None


def _execute(conn: sa.Connection, statement: object) -> None:
    import psycopg

    try:
        with conn.connection.driver_connection.cursor() as cursor:
            cursor.execute(statement)
    except psycopg.Error as exc:
        raise DriverError.from_dbapi("psycopg", exc) from None
