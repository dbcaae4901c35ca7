"""ADBC for PostgreSQL: page queries with bound parameters, results in Arrow over one connection."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import pyarrow as pa
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from officehub.arrowsql.driver_errors import DriverError
from officehub.arrowsql.read_arrow import PageFetcher

#: libpq numbers its parameters $1, $2, …; SQLAlchemy can compile to that style.
_DOLLAR_PARAMS = postgresql.dialect(paramstyle="numeric_dollar")


@dataclass(frozen=True)
class AdbcPostgresReader:
    """Pages through the ADBC PostgreSQL driver; the URI carries the password, so it never shows."""

    uri: str = field(repr=False)
    name: str = "adbc"

    def supports(self, types: Mapping[str, pa.DataType | None]) -> bool:
        """Every column declared with an Arrow type (NUMERIC comes over as exact text, so all fit)."""
        return all(t is not None for t in types.values())

    @contextmanager
    def pages(self) -> Iterator[PageFetcher]:
        """One autocommit connection for the whole read, closed even if the reader stops early."""
        from adbc_driver_postgresql import dbapi

        try:
            conn = dbapi.connect(self.uri, autocommit=True)
        except dbapi.Error as exc:
            raise DriverError.from_dbapi("adbc", exc) from None
        try:
            yield partial(_fetch, conn)
        finally:
            conn.close()


def _fetch(conn: Any, stmt: sa.Select) -> pa.Table:
    from adbc_driver_postgresql import dbapi

    compiled = stmt.compile(dialect=_DOLLAR_PARAMS)
    params = [compiled.params[name] for name in compiled.positiontup or ()]
    try:
        with conn.cursor() as cursor:
            cursor.execute(compiled.string, params or None)
            return cursor.fetch_arrow_table()
    except dbapi.Error as exc:
        raise DriverError.from_dbapi("adbc", exc) from None
