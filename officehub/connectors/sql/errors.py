"""Driver errors translated at the connector's boundary: retriable or fatal, never a value or a secret."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from officehub.arrowsql.driver_errors import DriverError, is_retriable, mysql_errno, refused_login
from officehub.canonical_model.errors import FatalError, OfficehubError, RetriableError
from officehub.connectors.urls import display_url, redact


def reason(exc: BaseException, url: str | sa.URL | None = None) -> str:
    """The driver's error class and first line (no statement, no parameters), ``url``'s user and options blanked."""
    orig = getattr(exc, "orig", None) or exc
    first_line = str(orig).strip().splitlines()[0] if str(orig).strip() else ""
    first_line = redact(first_line, url)
    return f"{type(orig).__name__}: {first_line}" if first_line else type(orig).__name__


def translate(exc: DBAPIError | DriverError, system: str, stream: str | None,
              url: str | sa.URL | None = None) -> OfficehubError:
    """Map a driver error to retriable (connection, lock) or fatal (everything else).

    ``url`` is the database's URL, whose user name and options are blanked from the driver's text.
    """
    if isinstance(exc, DriverError):
        if exc.retriable:
            return RetriableError(f"database unavailable ({exc})", system=system, stream=stream)
        return FatalError(f"database rejected the statement ({exc})", system=system, stream=stream)
    at = f" at {display_url(url)}" if url is not None else ""
    if exc.connection_invalidated or is_retriable(exc.orig):
        return RetriableError(f"database unavailable{at}: {reason(exc, url)}", system=system, stream=stream)
    if refused_login(exc.orig):
        # The server's first line names the user or database, never a row value.
        return FatalError(f"database refused the connection{at}: {reason(exc, url)}; retrying will not help",
                          system=system, stream=stream)
    # Other refusals may quote row values (a CHECK, a bad date), so only the class and code are shown.
    return FatalError(f"database rejected the statement ({_class_and_code(exc.orig)})", system=system, stream=stream)


def _class_and_code(exc: BaseException) -> str:
    code = mysql_errno(exc) or getattr(exc, "sqlstate", None) or getattr(exc, "sqlite_errorname", None)
    return f"{type(exc).__name__} {code}" if code else type(exc).__name__
