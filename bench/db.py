"""Small helpers for the two servers: connections and fresh databases/tables."""

from __future__ import annotations

from urllib.parse import urlsplit

import psycopg
import pymysql

from bench.settings import MARIADB_ROOT, PG_ROOT, pg_url


def pg_connect(db: str, autocommit: bool = False) -> psycopg.Connection:
    """A psycopg connection to database ``db`` on the bench PostgreSQL."""
    return psycopg.connect(pg_url(db), autocommit=autocommit)


def mariadb_connect(db: str | None = None, **kwargs) -> pymysql.Connection:  # type: ignore[no-untyped-def]
    """A PyMySQL connection to the bench MariaDB (utf8mb4, UTC session)."""
    parts = urlsplit(MARIADB_ROOT)
    return pymysql.connect(host=parts.hostname or "127.0.0.1", port=parts.port or 3306, user=parts.username or "root",
                           password=parts.password or "", database=db, charset="utf8mb4",
                           init_command="SET time_zone = '+00:00'", **kwargs)


def pg_fresh_database(db: str) -> None:
    """Drop (closing its sessions) and create ``db``."""
    with psycopg.connect(f"{PG_ROOT}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{db}"')


def pg_ensure_database(db: str) -> None:
    """Create ``db`` unless it exists."""
    with psycopg.connect(f"{PG_ROOT}/postgres", autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (db,)).fetchone() is None:
            conn.execute(f'CREATE DATABASE "{db}"')


def pg_drop(db: str, *tables: str, schemas: tuple[str, ...] = ()) -> None:
    """Drop destination tables and dataset schemas so a variant starts from nothing."""
    with pg_connect(db, autocommit=True) as conn:
        for table in tables:
            conn.execute(f'DROP TABLE IF EXISTS "{table}"')
        for schema in schemas:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def pg_count(db: str, table: str) -> int:
    """Rows in ``table`` (schema-qualified names allowed, e.g. ``dataset.table``)."""
    quoted = ".".join(f'"{part}"' for part in table.split("."))
    with pg_connect(db) as conn:
        return conn.execute(f"SELECT count(*) FROM {quoted}").fetchone()[0]
