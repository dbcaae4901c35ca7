"""The raw-copy limit: MariaDB → PostgreSQL with no mapping, validation, hub or policy.

- raw_vectorised: connectorx streams Arrow record batches, pyarrow writes each as CSV,
  psycopg ``COPY … FROM STDIN`` sends it: no per-row Python at all.
- raw_rows: PyMySQL's unbuffered ``SSCursor`` decodes rows into Python tuples, 10k at a
  time, and psycopg's ``COPY`` ``write_row`` encodes them: the pure-Python row path.

Both write one transaction into a fresh table with the same columns and a primary key.
"""

from __future__ import annotations

import io
import time

import pyarrow.csv as pacsv

from bench.db import mariadb_connect, pg_connect, pg_drop
from bench.settings import DEST_DB, SOURCE_DB, mariadb_url
from bench.variants import Context, Measured

COLUMNS = ("id", "external_ref", "first_name", "last_name", "email", "phone", "birth_date", "street", "city",
           "postal_code", "country", "notes", "updated_at")
DDL = """CREATE TABLE "{table}" (
  id bigint PRIMARY KEY, external_ref text, first_name text, last_name text, email text, phone text,
  birth_date date, street text, city text, postal_code text, country char(2), notes text, updated_at timestamp
)"""
BATCH = 10_000
CX_BATCH = 100_000


def _fresh(table: str) -> None:
    pg_drop(DEST_DB, table)
    with pg_connect(DEST_DB, autocommit=True) as conn:
        conn.execute(DDL.format(table=table))


def vectorised(ctx: Context) -> Measured:
    """connectorx → Arrow batches → CSV bytes → COPY."""
    import connectorx as cx

    table = "raw_vec_customers"
    _fresh(table)
    query = f"SELECT {', '.join(COLUMNS)} FROM {ctx.table}"
    options = pacsv.WriteOptions(include_header=False)
    started = time.perf_counter()
    copied = 0
    with pg_connect(DEST_DB) as conn, conn.cursor() as cur:
        reader = cx.read_sql(mariadb_url(SOURCE_DB), query, return_type="arrow_stream", batch_size=CX_BATCH)
        with cur.copy(f'COPY "{table}" ({", ".join(COLUMNS)}) FROM STDIN (FORMAT csv)') as copy:
            for batch in reader:
                if batch.num_rows == 0:
                    continue
                sink = io.BytesIO()
                pacsv.write_csv(batch, sink, options)
                copy.write(sink.getbuffer())
                copied += batch.num_rows
        conn.commit()
    return Measured(time.perf_counter() - started, copied, {"read_batch": CX_BATCH})


def rows(ctx: Context) -> Measured:
    """PyMySQL SSCursor → Python tuples (10k a fetch) → psycopg COPY write_row."""
    import pymysql.cursors

    table = "raw_rows_customers"
    _fresh(table)
    started = time.perf_counter()
    copied = 0
    with mariadb_connect(SOURCE_DB) as src, src.cursor(pymysql.cursors.SSCursor) as read, \
            pg_connect(DEST_DB) as conn, conn.cursor() as cur:
        read.execute(f"SELECT {', '.join(COLUMNS)} FROM {ctx.table}")
        with cur.copy(f'COPY "{table}" ({", ".join(COLUMNS)}) FROM STDIN') as copy:
            while batch := read.fetchmany(BATCH):
                for row in batch:
                    copy.write_row(row)
                copied += len(batch)
        conn.commit()
    return Measured(time.perf_counter() - started, copied, {"fetch_batch": BATCH})
