"""Which reader and writer serve a database: an Arrow-native fast path where one fits, else SQLAlchemy.

- reads: PostgreSQL through ADBC, MySQL/MariaDB through connectorx, when the driver is
  installed and every column of the stream has a faithful Arrow type; otherwise (and
  for every other database) SQLAlchemy streaming.
- writes: PostgreSQL through psycopg 3 COPY when every column has a COPY text form;
  otherwise SQLAlchemy executemany with the dialect's upsert.

This is the one place that decides by database; callers ask and never branch themselves.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from importlib.util import find_spec

import pyarrow as pa
import sqlalchemy as sa

from officehub.arrowsql import copy_text
from officehub.arrowsql.modes import WriteMode
from officehub.arrowsql.read_arrow import FastReader
from officehub.arrowsql.write_postgres import write_copy
from officehub.arrowsql.write_rows import write_rows

Writer = Callable[[sa.Connection, sa.Table, pa.RecordBatch, WriteMode, Sequence[str]], None]
#: URL options the MySQL driver understands that connectorx need not be told (it always speaks utf8mb4).
_CX_IGNORED_OPTIONS = {"charset": {"utf8mb4", "utf8"}}


def fast_reader(url: sa.URL, dialect: sa.Dialect, connect_timeout_s: int) -> FastReader | None:
    """The Arrow-native reader for ``url``'s database, or None when there is none installed or fitting."""
    backend = url.get_backend_name()
    if backend == "postgresql" and find_spec("adbc_driver_postgresql"):
        from officehub.arrowsql.read_adbc import AdbcPostgresReader

        query = {"connect_timeout": str(connect_timeout_s), **url.query}  # libpq options pass through as they are
        return AdbcPostgresReader(_render(url.set(drivername="postgresql", query=query)))
    if backend in ("mysql", "mariadb") and find_spec("connectorx") and _cx_understands(url):
        from officehub.arrowsql.read_connectorx import ConnectorxReader

        return ConnectorxReader(_render(url.set(drivername="mysql", query={})), dialect)
    return None


def writer(dialect: sa.Dialect, schema: pa.Schema) -> Writer:
    """The bulk writer for ``dialect`` and batches shaped like ``schema``."""
    if dialect.name == "postgresql" and dialect.driver == "psycopg" and copy_text.supports(schema):
        return write_copy
    return write_rows


def _cx_understands(url: sa.URL) -> bool:
    # Any other driver option (TLS, sockets, …) could change how we connect: stay on PyMySQL then.
    return all(url.query[name] in _CX_IGNORED_OPTIONS.get(name, ()) for name in url.query)


def _render(url: sa.URL) -> str:
    return url.render_as_string(hide_password=False)
