"""SQL connector paths against local servers: rows/s of each reader and writer, and read memory.

    python -m bench.sql_paths [--rows 200000] [--batch 10000]

Seeds CRM-shaped rows into a ``officehub_bench`` database on the local PostgreSQL and
MariaDB (see tests/conftest.py for the URLs; override with OFFICEHUB_BENCH_PG / _MARIADB),
then times the connector end to end (driver, Arrow conversion, positions, cursors):
reads with the fast path and with SQLAlchemy, PostgreSQL upserts with COPY and with
executemany. Memory: the Arrow pool's and the process's peak while reading, after the
first batches and at the end; flat means they do not grow with the table.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import tempfile
import time
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import sqlalchemy as sa

from officehub.connectors import ReadOptions, WriteMode
from officehub.connectors.sql import SqlConfig, SqlConnector

PG = os.environ.get("OFFICEHUB_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432")
MARIADB = os.environ.get("OFFICEHUB_BENCH_MARIADB", "mysql+pymysql://root@127.0.0.1:3306")
DB = "officehub_bench"


def crm_rows(first: int, last: int) -> list[dict]:
    """CRM-shaped customers ``first``..``last``: text with unicode and escapes, decimals, timestamps, NULLs."""
    rnd = random.Random(first)
    names = ["Олена", "Jürgen", "María", "John", "Zoë", "Петро", "Søren"]
    start = datetime(2026, 1, 1)
    return [{"id": i, "external_ref": f"CRM-{i:08d}", "first_name": rnd.choice(names),
             "last_name": f"Name{rnd.randrange(10**6)}", "email": f"user{i}@example.com",
             "phone": f"+38044{rnd.randrange(10**7):07d}", "company": None if i % 7 == 0 else f"ТОВ Firma {i % 997}",
             "city": rnd.choice(["Kyiv", "Lviv", "Berlin"]), "country": rnd.choice(["UA", "DE", "ES"]),
             "credit_limit": Decimal(rnd.randrange(10**7)) / 100, "is_active": i % 5 != 0,
             "created_at": start + timedelta(seconds=i), "updated_at": start + timedelta(minutes=i // 50),
             "notes": None if i % 3 else "VIP\tcustomer\nline two"} for i in range(first, last + 1)]


def crm_table(meta: sa.MetaData, name: str = "crm_customers") -> sa.Table:
    """The customers table, indexed on (updated_at, id) as an incremental read wants."""
    return sa.Table(
        name, meta, sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False),
        *(sa.Column(c, sa.String(100)) for c in ("external_ref", "first_name", "last_name", "email", "phone",
                                                  "company", "city", "country")),
        sa.Column("credit_limit", sa.Numeric(12, 2)), sa.Column("is_active", sa.Boolean),
        sa.Column("created_at", sa.DateTime), sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.Column("notes", sa.Text), sa.Index(f"ix_{name}_cursor", "updated_at", "id"),
    )


def seed(url: str, count: int) -> None:
    """A fresh bench database holding ``count`` customers, inserted a chunk at a time."""
    admin = sa.create_engine(url.rsplit("/", 1)[0] + "/test", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        quote = admin.dialect.identifier_preparer.quote
        conn.execute(sa.text(f"DROP DATABASE IF EXISTS {quote(DB)}"))
        conn.execute(sa.text(f"CREATE DATABASE {quote(DB)}"))
    admin.dispose()
    engine = sa.create_engine(url)
    meta = sa.MetaData()
    table = crm_table(meta)
    meta.create_all(engine)
    with engine.begin() as conn:
        for first in range(1, count + 1, 20_000):
            conn.execute(sa.insert(table), crm_rows(first, min(first + 19_999, count)))
        conn.execute(sa.text("ANALYZE TABLE crm_customers" if "mysql" in url else "ANALYZE crm_customers"))
    engine.dispose()


def rss_mib() -> float:
    """The process's resident memory now."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def time_read(url: str, fast: bool, batch: int) -> tuple[int, float, str, str, pa.Table]:
    """Rows, seconds, the path used, memory after two batches vs at the end, and the last batch read."""
    with tempfile.TemporaryDirectory() as tmp, \
            SqlConnector("bench", SqlConfig(url=url, fast_paths=fast), Path(tmp)) as connector:
        path = connector.read_path("crm_customers")
        options = ReadOptions(key=("id",), cursor_field="updated_at", batch_size=batch)
        rows, peak_pool, marks, last = 0, 0, [], None
        started = time.perf_counter()
        for index, read in enumerate(connector.read("crm_customers", None, options)):
            rows += read.batch.num_rows
            last = read.batch if read.batch.num_rows else last
            peak_pool = max(peak_pool, pa.total_allocated_bytes())
            if index == 1:
                marks.append(f"{peak_pool / 2**20:.0f} MiB pool / {rss_mib():.0f} MiB RSS")
        seconds = time.perf_counter() - started
        marks.append(f"{peak_pool / 2**20:.0f} MiB pool / {rss_mib():.0f} MiB RSS")
    return rows, seconds, path, " → ".join(marks), last


def time_upsert(url: str, fast: bool, batch: pa.RecordBatch) -> float:
    """Seconds to upsert ``batch`` (half its keys already present) into a copy of the table."""
    engine = sa.create_engine(url)
    meta = sa.MetaData()
    target = crm_table(meta, "crm_target")
    meta.drop_all(engine)
    meta.create_all(engine)
    source = sa.Table("crm_customers", sa.MetaData(), autoload_with=engine)
    with engine.begin() as conn:
        conn.execute(sa.insert(target).from_select(list(source.c.keys()),
                                                   sa.select(source).where(source.c.id % 2 == 0)))
    engine.dispose()
    with tempfile.TemporaryDirectory() as tmp, \
            SqlConnector("bench", SqlConfig(url=url, fast_paths=fast), Path(tmp)) as connector:
        connector.write("crm_target", batch.slice(0, 1), WriteMode.UPSERT, key=("id",), batch_id="warm")
        started = time.perf_counter()
        connector.write("crm_target", batch, WriteMode.UPSERT, key=("id",), batch_id="bench")
        return time.perf_counter() - started


def main() -> None:
    """Seed, then print one line per measurement."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=10_000)
    args = parser.parse_args()
    urls = {"mariadb": f"{MARIADB}/{DB}?charset=utf8mb4", "postgres": f"{PG}/{DB}"}
    for url in urls.values():
        seed(url, args.rows)
    for name, url in urls.items():
        for fast in (True, False):
            count, seconds, path, memory, _last = time_read(url, fast, args.batch)
            print(f"read  {name:8s} {path:11s} {count} rows {seconds:6.2f} s {count / seconds:9,.0f} rows/s  "
                  f"memory {memory}")
    *_, whole = time_read(urls["postgres"], True, args.rows)
    batch = whole.cast(_arrow_schema())
    for name, url in urls.items():
        for fast in (True, False):
            if name == "mariadb" and fast:
                continue  # one write path on MariaDB
            seconds = time_upsert(url, fast, batch)
            label = "copy" if fast else "executemany"
            print(f"upsert {name:8s} {label:11s} {batch.num_rows} rows {seconds:6.2f} s "
                  f"{batch.num_rows / seconds:9,.0f} rows/s")
    print(f"peak RSS of the whole run {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


def _arrow_schema() -> pa.Schema:
    text = [(c, pa.string()) for c in ("external_ref", "first_name", "last_name", "email", "phone", "company",
                                       "city", "country")]
    return pa.schema([("id", pa.int64()), *text, ("credit_limit", pa.decimal128(12, 2)), ("is_active", pa.bool_()),
                      ("created_at", pa.timestamp("us")), ("updated_at", pa.timestamp("us")),
                      ("notes", pa.string())])


if __name__ == "__main__":
    main()
