"""PostgreSQL bulk writes: COPY a batch into a staging table, then one set-based statement.

upsert: ``INSERT INTO t SELECT … FROM stage ON CONFLICT (key) DO UPDATE``;
delete: ``DELETE FROM t USING stage WHERE t.key = stage.key``;
append: COPY straight into the table, as a staging copy would add nothing.
Everything runs on the caller's connection, so it commits or rolls back as one.
A unique index that refuses the rows is raised as a :class:`Collision`, and the upsert
checks it touched every staged row. Batches come with one row per key (``write_guard``).
"""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa
import sqlalchemy as sa

from officehub.arrowsql.copy_text import copy_chunks, csv_chunks, csv_fits
from officehub.arrowsql.dialects import upsert_statement
from officehub.arrowsql.driver_errors import DriverError
from officehub.arrowsql.modes import WriteMode
from officehub.arrowsql.refusals import Collision, collision_index, expect_rows

#: A temporary table lives in the session's own schema (pg_temp) and is dropped at commit;
#: naming the schema keeps it apart from any real table of the same name.
STAGE = ("pg_temp", "officehub_stage")


def write_copy(conn: sa.Connection, table: sa.Table, batch: pa.RecordBatch, mode: WriteMode,
               key: Sequence[str]) -> None:
    """Write ``batch`` to ``table`` in ``mode`` with COPY, inside the connection's transaction."""
    if mode is WriteMode.APPEND:
        _copy(conn, (table.schema, table.name) if table.schema else (table.name,), batch)
        return
    stage = _stage(conn, table, batch.schema.names)
    _copy(conn, STAGE, batch)
    if mode is WriteMode.DELETE:
        conn.execute(sa.delete(table).where(*(table.c[k] == stage.c[k] for k in key)))
    else:
        names = batch.schema.names
        result = conn.execute(upsert_statement("postgresql", table, key, update=names)
                              .from_select(names, sa.select(*stage.c)))
        if any(name not in key for name in names):  # DO NOTHING (a key-only batch) skips rows already there
            expect_rows("upsert from the staged rows", batch.num_rows, result.rowcount)
    # Dropped now rather than at commit: one transaction may stage several tables in turn.
    _execute(conn, "DROP TABLE pg_temp.officehub_stage")


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
        index = collision_index(exc)
        if index is not None:
            raise Collision(index) from None
        raise DriverError.from_dbapi("psycopg COPY", exc) from None


def _execute(conn: sa.Connection, statement: object) -> None:
    import psycopg

    try:
        with conn.connection.driver_connection.cursor() as cursor:
            cursor.execute(statement)
    except psycopg.Error as exc:
        raise DriverError.from_dbapi("psycopg", exc) from None
