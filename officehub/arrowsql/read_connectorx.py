"""connectorx for MySQL and MariaDB: each page query decoded in Rust straight into Arrow."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal

import pyarrow as pa
import sqlalchemy as sa

from officehub.arrowsql.driver_errors import DriverError, refused_login
from officehub.arrowsql.read_arrow import PageFetcher, UnfitStream

#: connectorx decodes every MySQL DECIMAL as decimal128(38, 10): wider ones would lose digits.
_CX_DECIMAL = pa.decimal128(38, 10)
#: The only Python types a page query's values may have before being rendered as SQL literals.
_LITERAL_TYPES = (int, float, Decimal, str, datetime, date, time)
#: Words of connectorx's messages that mean the connection or server went away: a connection killed while
#: rows stream in reads "CodecError { IO error: `bytes remaining on stream' }", a dropped socket
#: "IoError { server disconnected }", MariaDB's KILL "Connection was killed" (1927), a shutdown 1053.
_CONNECTION_WORDS = ("connection", "connect", "timed out", "io error", "ioerror", "bytes remaining", "broken pipe",
                     "gone away", "was killed", "interrupted", "shutdown")


def literal_sql(stmt: sa.Select, dialect: sa.Dialect) -> str:
    """The statement as one SQL string with its values inlined, because connectorx takes no parameters.

    Safe because the values are rendered by the dialect's own literal processors (quotes
    doubled, and backslashes escaped unless the server runs with NO_BACKSLASH_ESCAPES,
    which SQLAlchemy detected when the engine connected), never by string formatting; and
    only plain scalar types are let through. They come from our own cursor or the last page.
    """
    values = stmt.compile(dialect=dialect).params.values()
    if not all(value is None or isinstance(value, _LITERAL_TYPES) for value in values):
        raise UnfitStream("a cursor or key value has no safe SQL literal")
    try:
        return str(stmt.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
    except sa.exc.CompileError as exc:
        raise UnfitStream("a cursor or key type has no SQL literal") from exc


def _decimal_fits(arrow_type: pa.DataType) -> bool:
    if not pa.types.is_decimal(arrow_type):
        return True
    integer_digits = arrow_type.precision - arrow_type.scale
    return (arrow_type.scale <= _CX_DECIMAL.scale
            and integer_digits <= _CX_DECIMAL.precision - _CX_DECIMAL.scale)


@dataclass(frozen=True)
class ConnectorxReader:
    """Pages through connectorx; the URL carries the password, so it never shows in a repr."""

    url: str = field(repr=False)
    dialect: sa.Dialect = field(repr=False)
    name: str = "connectorx"

    def supports(self, types: Mapping[str, pa.DataType | None]) -> bool:
        """Every column declared with an Arrow type, and no DECIMAL wider than connectorx decodes."""
        return all(t is not None and _decimal_fits(t) for t in types.values())

    @contextmanager
    def pages(self) -> Iterator[PageFetcher]:
        """connectorx opens its own connection per query, so there is nothing to hold open."""
        yield self._fetch

    def _fetch(self, stmt: sa.Select) -> pa.Table:
        import connectorx

        query = literal_sql(stmt, self.dialect)
        try:
            return connectorx.read_sql(self.url, query, return_type="arrow")
        except BaseException as exc:  # a Rust panic arrives as a BaseException
            if isinstance(exc, (KeyboardInterrupt, SystemExit, GeneratorExit)):
                raise
            # Its text may quote the server's message; only its class leaves this function.
            retriable = any(word in str(exc).lower() for word in _CONNECTION_WORDS) and not refused_login(exc)
            raise DriverError("connectorx", type(exc).__name__, retriable=retriable) from None
