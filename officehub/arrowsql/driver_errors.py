"""Driver errors classified by the server's own codes: transient (worth a retry) or permanent.

Shared by every SQL path (the SQL connector, the hub store): a classification never keeps the
driver's text, which may quote a row value.
"""

from __future__ import annotations

import re

#: PEP 249 classes that mean "the connection or server failed", whatever the driver.
_RETRIABLE_CLASSES = frozenset({"OperationalError", "InterfaceError"})

#: SQLSTATE classes and codes that another try can fix: the connection (08), a transaction
#: rolled back by a deadlock or serialisation failure (40), resources (53: disk full, too many
#: connections), the server shutting down or starting (57P0x), a lock or statement timeout, I/O (58).
_RETRIABLE_SQLSTATE_CLASSES = frozenset({"08", "40", "53", "58"})
_RETRIABLE_SQLSTATES = frozenset({"57P01", "57P02", "57P03", "57P04", "57P05", "57014", "55P03", "55006"})

#: MySQL/MariaDB error numbers worth another try: the client lost or never reached the server
#: (20xx), the server is shutting down, full, locked or timed out. Everything else the server
#: refuses (1045 access denied, 1049 unknown database, 4025 CHECK violation, …) is permanent,
#: although PyMySQL raises most of them as OperationalError.
_RETRIABLE_MYSQL_ERRNOS = frozenset({
    1021, 1037, 1038, 1040, 1041, 1053, 1077, 1080, 1114, 1152, 1153, 1158, 1159, 1160, 1161,
    1180, 1181, 1205, 1213, 1317, 1927, 1969, 3024, 4031,
    2002, 2003, 2004, 2005, 2006, 2011, 2012, 2013, 2014, 2026, 2048, 2055,
})

#: Connection failures a server reports before any SQLSTATE exists (libpq puts none on a refused
#: login): the server answered and said no, which no retry changes.
_REFUSED_LOGIN = re.compile(
    r"FATAL:.*(does not exist|authentication failed|no pg_hba\.conf entry|permission denied|"
    r"password|not permitted to log in)|Access denied for user|Unknown database", re.I | re.S)

#: MySQL/MariaDB: access denied to the database or for the user, unknown database, host not allowed.
_REFUSED_LOGIN_ERRNOS = frozenset({1044, 1045, 1049, 1130, 1698, 1820, 1862})

#: SQLite result codes worth another try: busy, locked, I/O error, disk full, protocol.
_RETRIABLE_SQLITE_CODES = frozenset({5, 6, 10, 13, 15})


def is_retriable(exc: BaseException) -> bool:
    """Whether a driver exception is transient (worth a retry later) rather than permanent.

    Decided by the server's own code where the driver gives one (SQLSTATE, MySQL error number,
    SQLite result code), then by the PEP 249 class. A wrong password, an unknown database or a
    constraint violation is permanent whatever class the driver raises it as.
    """
    errno = mysql_errno(exc)  # first: MySQL's SQLSTATEs are too coarse (a timeout is 70100)
    if errno is not None:
        return errno in _RETRIABLE_MYSQL_ERRNOS
    sqlstate = getattr(exc, "sqlstate", None)
    if isinstance(sqlstate, str) and len(sqlstate) == 5 and sqlstate not in ("HY000", "00000"):
        return sqlstate[:2] in _RETRIABLE_SQLSTATE_CLASSES or sqlstate in _RETRIABLE_SQLSTATES
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(code, int):
        return code & 0xFF in _RETRIABLE_SQLITE_CODES
    if _REFUSED_LOGIN.search(str(exc)):
        return False
    return bool({klass.__name__ for klass in type(exc).__mro__} & _RETRIABLE_CLASSES)


def mysql_errno(exc: BaseException) -> int | None:
    """PyMySQL's and mysqlclient's error number (their first argument), None for other drivers."""
    module = type(exc).__module__ or ""
    if not module.startswith(("pymysql", "MySQLdb", "mariadb")) or not exc.args:
        return None
    return exc.args[0] if isinstance(exc.args[0], int) else None


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
        return cls(driver, type(exc).__name__, retriable=is_retriable(exc))


def refused_login(exc: BaseException) -> bool:
    """Whether the server refused the login or the database itself (wrong password, unknown database)."""
    return mysql_errno(exc) in _REFUSED_LOGIN_ERRNOS or bool(_REFUSED_LOGIN.search(str(exc)))
