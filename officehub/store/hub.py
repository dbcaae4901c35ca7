"""The hub store: where golden records, cross-references and run bookkeeping live."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.exc import ArgumentError, DBAPIError

from officehub.canonical_model.errors import FatalError, RetriableError
from officehub.connectors.urls import display_url
from officehub.store import migrate, model_state
from officehub.store.schema import TABLES

if TYPE_CHECKING:
    from officehub.arrowsql.read_arrow import FastReader
    from officehub.connectors import SecretRef

_FIRST_ANALYZE = 10_000
_CONNECT_TIMEOUT_S = 30


#: Connections a server process keeps open to PostgreSQL, and how many more it may open at a peak.
_POOL_SIZE, _POOL_OVERFLOW = 20, 5


def _pool_settings(url: sa.URL) -> dict[str, int]:
    """A pool as large as the requests a server process runs at once (its thread pool's share of them).

    SQLAlchemy's default keeps 5 connections and closes the overflow ones as they return,
    so a server answering more than 5 requests at a time opens and closes a PostgreSQL
    session (a forked backend) for most of them.
    """
    if url.get_backend_name() != "postgresql":
        return {}
    return {"pool_size": _POOL_SIZE, "max_overflow": _POOL_OVERFLOW}


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    # WAL lets readers (reporting tools, `officehub runs`) work during a sync, and a
    # killed process leaves nothing half-written; the busy timeout rides out short locks.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
    # SQLite's own lower() folds ASCII only: a search for "Петрівна" or "Müller" must find them
    # (subject find) as it does on PostgreSQL. No index of the store is built on lower().
    dbapi_connection.create_function("lower", 1, _unicode_lower, deterministic=True)


def _unicode_lower(text: object) -> object:
    return text.lower() if isinstance(text, str) else text


def resolve_url(url: str, base_dir: Path, password: SecretRef | None = None) -> sa.URL:
    """The store URL with a relative SQLite path taken from the project folder, and its password."""
    try:
        parsed = sa.make_url(url)
    except ArgumentError:
        raise FatalError("hub store: not a database URL") from None
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        path = Path(parsed.database)
        path = path if path.is_absolute() else base_dir / path
        path.parent.mkdir(parents=True, exist_ok=True)
        parsed = parsed.set(database=str(path))
    if password is not None:
        parsed = parsed.set(password=password.resolve(base_dir).get_secret_value())
    return parsed


class HubStore:
    """A connection pool to the hub store plus its table objects."""

    def __init__(self, url: str, base_dir: Path, password: SecretRef | None = None) -> None:
        resolved = resolve_url(url, base_dir, password)
        try:
            self.engine = sa.create_engine(resolved, **_pool_settings(resolved))
        except (ArgumentError, ImportError) as exc:
            raise FatalError(f"hub store: cannot use URL {display_url(resolved)} ({type(exc).__name__})") from None
        if resolved.get_backend_name() == "sqlite":
            sa.event.listen(self.engine, "connect", _sqlite_pragmas)
        #: The tables by name, for the model in force when one is looked up (built on first use).
        self.tables = TABLES
        self._grown = 0
        self._next_analyze: int | None = None

    @classmethod
    def open(cls, url: str, base_dir: Path, *, password: SecretRef | None = None, upgrade: bool = True,
             check_model: bool = True) -> HubStore:
        """Open the store, migrating its schema to the newest version first.

        With ``check_model``, a store whose entity tables do not fit the canonical model in
        force is refused (FatalError naming the changes and ``officehub store upgrade``).
        """
        store = cls(url, base_dir, password)
        try:
            if upgrade:
                store.upgrade()
            if check_model:
                with store.begin() as conn:
                    model_state.require_current(conn)
        except BaseException:
            store.close()
            raise
        return store

    def upgrade(self) -> tuple[str | None, str]:
        """Run pending migrations; returns (from, to) revisions."""
        try:
            return migrate.upgrade(self.engine)
        except DBAPIError as exc:
            from officehub.arrowsql.driver_errors import refused_login

            where = display_url(self.engine.url)
            if refused_login(exc.orig):
                raise FatalError(f"hub store at {where} refused the connection (wrong user, password or "
                                 f"database name; {type(exc.orig).__name__}); retrying will not help") from None
            raise RetriableError(f"hub store at {where} unavailable ({type(exc.orig).__name__})") from None

    @contextmanager
    def outages_retriable(self) -> Iterator[None]:
        """Inside the block, the hub store's server going away (restarted, connection lost, disk full) is a
        RetriableError naming the store, not an internal error: what was committed stays, and the next run
        resumes from it. Connectors translate their own systems' errors before they get here."""
        try:
            yield
        except DBAPIError as exc:
            from officehub.arrowsql.driver_errors import is_retriable

            if exc.orig is None or not is_retriable(exc.orig):
                raise
            raise RetriableError(f"hub store at {display_url(self.engine.url)} unavailable mid-run "
                                 f"({type(exc.orig).__name__}); what was committed stays, run again") from None

    @contextmanager
    def begin(self) -> Iterator[sa.Connection]:
        """A transaction: committed when the block ends, rolled back if it raises."""
        with self.engine.begin() as conn:
            yield conn

    def grew(self, tables: dict[str, tuple[str, ...]], rows: int) -> None:
        """Refresh PostgreSQL's planner statistics while an ingest grows tables.

        Autovacuum analyses a table only about once a minute; until it does, the planner
        believes a fast-growing xref table is empty and scans it whole for every lookup.
        Analysing the look-up columns of ``tables`` (name → columns) each time the new rows
        double what the planner last knew (10k, 20k, 40k… into an empty hub) keeps the plans
        on the indexes at a small, bounded cost; a run that adds a few rows to large tables
        (an incremental sync) analyses nothing.
        """
        if self.engine.dialect.name != "postgresql" or rows <= 0:
            return
        if self._next_analyze is None:
            self._next_analyze = max(_FIRST_ANALYZE, self._known_rows(list(tables)))
        self._grown += rows
        if self._grown < self._next_analyze:
            return
        self._next_analyze = self._grown * 2
        quote = self.engine.dialect.identifier_preparer.quote
        targets = ", ".join(f"{quote(name)} ({', '.join(quote(c) for c in columns)})"
                            for name, columns in tables.items())
        with self.engine.begin() as conn:
            conn.execute(sa.text(f"ANALYZE {targets}"))

    def _known_rows(self, names: list[str]) -> int:
        """The largest row count the planner holds for ``names`` (0 for tables never analysed)."""
        with self.engine.connect() as conn:
            counts = conn.execute(sa.text("SELECT reltuples FROM pg_class WHERE relname = ANY(:names)"),
                                  {"names": names}).scalars().all()
        return int(max((c for c in counts if c and c > 0), default=0))

    def arrow_reader(self) -> FastReader | None:
        """An Arrow-native reader of this store (PostgreSQL through ADBC), or None.

        Publishes read golden-record changes through it: the driver decodes PostgreSQL's
        binary COPY stream straight into Arrow columns, with no Python object per value.
        """
        if self.engine.dialect.name != "postgresql":
            return None
        from officehub.arrowsql.paths import fast_reader  # Arrow and the ADBC driver: for publishes only

        return fast_reader(self.engine.url, self.engine.dialect, _CONNECT_TIMEOUT_S)

    def ping(self) -> None:
        """One round trip to the store (a health check); its error if it does not answer."""
        with self.engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))

    def close(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()
