"""Driver errors translated at the connector's boundary: retriable or fatal, never a value or a secret."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from canonical_model.errors import FatalError, OfficehubError, RetriableError
from connectors.urls import display_url, redact

#: PEP 249 classes that mean "the connection or server failed", whatever the driver.
_RETRIABLE_CLASSES = frozenset({"OperationalError", "InterfaceError"})


class DriverError(Exception):
    """A driver failed outside SQLAlchemy (COPY, connectorx, ADBC); keeps its class, not its text."""

    def __init__(self, driver: str, error_class: str, *, retriable: bool) -> None:
        self.driver = driver
        self.error_class = error_class
        self.retriable = retriable
        super().__init__(f"{driver} {error_class}")

    @classmethod
    def from_dbapi(cls, driver: str, exc: BaseException) -> DriverError:
        """Classify any PEP 249 exception (psycopg, ADBC) by its class hierarchy."""
        names = {klass.__name__ for klass in type(exc).__mro__}
        return cls(driver, type(exc).__name__, retriable=bool(names & _RETRIABLE_CLASSES))


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
    if isinstance(exc, sa.exc.OperationalError) or exc.connection_invalidated:
        at = f" at {display_url(url)}" if url is not None else ""
        return RetriableError(f"database unavailable{at}: {reason(exc, url)}", system=system, stream=stream)
    # Integrity and data errors may quote row values, so only the error class is shown.
    return FatalError(f"database rejected the statement ({type(exc.orig).__name__})", system=system, stream=stream)
