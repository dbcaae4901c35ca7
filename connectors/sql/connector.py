"""The SQL connector: any database SQLAlchemy can reach.

Reads stream with a server-side cursor in keyset order (cursor column, then the
primary key as tie-breaker), so memory stays flat and rows sharing one cursor
value across a batch boundary are neither missed nor read twice. Writes use the
dialect's native upsert inside one transaction per batch.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError, NoSuchTableError, SQLAlchemyError

from canonical_model.errors import FatalError, RetriableError
from connectors.base import Connector, Cursor, ReadBatch, ReadOptions, StreamField, StreamInfo, WriteMode
from connectors.sql.arrow_rows import from_json_value, rows_to_batch, to_json_value
from connectors.sql.config import SqlConfig
from connectors.sql.dialects import connect_args, upsert_statement
from connectors.sql.types import arrow_type_name, sql_type


class SqlConnector(Connector):
    """Tables and views of a relational database as streams."""

    Config = SqlConfig
    config: SqlConfig

    def __init__(self, name: str, config: SqlConfig, base_dir: Path) -> None:
        super().__init__(name, config, base_dir)
        self._engine: sa.Engine | None = None
        self._tables: dict[str, sa.Table] = {}

    # -- plumbing -----------------------------------------------------------------
    def _url(self) -> sa.URL:
        url = sa.make_url(self.config.url)
        if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
            path = Path(url.database)
            url = url.set(database=str(path if path.is_absolute() else self.base_dir / path))
        if self.config.password is not None:
            url = url.set(password=self.config.password.resolve(self.base_dir).get_secret_value())
        return url

    @property
    def engine(self) -> sa.Engine:
        """The connection pool, created on first use."""
        if self._engine is None:
            url = self._url()
            try:
                self._engine = sa.create_engine(
                    url, connect_args=connect_args(url.get_backend_name(), self.config.connect_timeout_s),
                )
            except (SQLAlchemyError, ImportError) as exc:
                raise FatalError(f"cannot use database URL: {_reason(exc)}", system=self.name) from None
        return self._engine

    def _require_database(self) -> None:
        """A SQLite file that does not exist is an error when reading (SQLite would create it empty)."""
        url = self._url()
        if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:") \
                and not Path(url.database).exists():
            raise FatalError(f"database file {url.database} does not exist", system=self.name)

    def _table(self, stream: str) -> sa.Table:
        if stream not in self._tables:
            self._require_database()
            try:
                self._tables[stream] = sa.Table(
                    stream, sa.MetaData(schema=self.config.schema_name), autoload_with=self.engine,
                )
            except NoSuchTableError:
                raise FatalError("no such table or view", system=self.name, stream=stream) from None
            except DBAPIError as exc:
                raise _translate(exc, self.name, stream) from None
        return self._tables[stream]

    # -- the contract ---------------------------------------------------------------
    def check(self) -> None:
        self._require_database()
        try:
            with self.engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
        except DBAPIError as exc:
            raise _translate(exc, self.name, None) from None

    def discover(self) -> list[StreamInfo]:
        self._require_database()
        try:
            inspector = sa.inspect(self.engine)
            schema = self.config.schema_name
            names = [(n, "table") for n in inspector.get_table_names(schema=schema)]
            names += [(n, "view") for n in inspector.get_view_names(schema=schema)]
            return [self._stream_info(inspector, name, kind) for name, kind in sorted(names)]
        except DBAPIError as exc:
            raise _translate(exc, self.name, None) from None

    def _stream_info(self, inspector: sa.Inspector, name: str, kind: str) -> StreamInfo:
        schema = self.config.schema_name
        columns = inspector.get_columns(name, schema=schema)
        pk = tuple(inspector.get_pk_constraint(name, schema=schema).get("constrained_columns") or ())
        fields = tuple(StreamField(c["name"], arrow_type_name(c["type"]), c.get("nullable", True)) for c in columns)
        cursors = tuple(
            c["name"] for c in columns
            if arrow_type_name(c["type"]) in ("datetime", "date", "int64") or "chg" in c["name"].lower()
            or "updated" in c["name"].lower() or "modified" in c["name"].lower()
        )
        return StreamInfo(name, fields, pk, cursors, kind)

    def estimate_rows(self, stream: str) -> int | None:
        table = self._table(stream)
        with self.engine.connect() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()

    def read(self, stream: str, cursor: Cursor | None, options: ReadOptions) -> Iterator[ReadBatch]:
        table = self._table(stream)
        order = [table.c[c] for c in ((options.cursor_field,) if options.cursor_field else ()) + options.key]
        if not order:
            raise FatalError("a key is needed to read in a stable order", system=self.name, stream=stream)
        stmt = sa.select(table).order_by(*order)
        if cursor and cursor.get("after"):
            after = [from_json_value(v, col) for v, col in zip(cursor["after"], order)]
            stmt = stmt.where(sa.tuple_(*order) > sa.tuple_(*after))
        yield from self._stream_batches(stream, stmt, order, options)

    def _stream_batches(self, stream: str, stmt: sa.Select, order: list[sa.Column],
                        options: ReadOptions) -> Iterator[ReadBatch]:
        key_idx = [stmt.selected_columns.keys().index(k) for k in options.key]
        order_idx = [stmt.selected_columns.keys().index(c.name) for c in order]
        try:
            with self.engine.connect() as conn:
                result = conn.execution_options(stream_results=True, yield_per=options.batch_size).execute(stmt)
                names = list(result.keys())
                batch = rows_to_batch(names, [])
                for rows in result.partitions():
                    batch = rows_to_batch(names, rows)
                    last = rows[-1]
                    positions = [f"row {'/'.join(str(r[i]) for i in key_idx)}" for r in rows]
                    yield ReadBatch(batch, positions, {"after": [to_json_value(last[i]) for i in order_idx]})
        except DBAPIError as exc:
            raise _translate(exc, self.name, stream) from None
        if not options.cursor_field:
            # A full snapshot is complete: the next run starts from the top again.
            yield ReadBatch(batch.slice(0, 0), [], None)

    def write(self, stream: str, batch: pa.RecordBatch, mode: WriteMode, *, key: tuple[str, ...],
              batch_id: str) -> int:
        if batch.num_rows == 0:
            return 0
        table = self._ensure_table(stream, batch.schema, key)
        rows = batch.to_pylist()
        try:
            with self.engine.begin() as conn:
                self._write_rows(conn, table, rows, mode, key)
        except DBAPIError as exc:
            raise _translate(exc, self.name, stream) from None
        return len(rows)

    def _write_rows(self, conn: sa.Connection, table: sa.Table, rows: list[dict], mode: WriteMode,
                    key: tuple[str, ...]) -> None:
        if mode is WriteMode.DELETE:
            keys = [tuple(r[k] for k in key) for r in rows]
            conn.execute(sa.delete(table).where(sa.tuple_(*(table.c[k] for k in key)).in_(keys)))
            return
        if mode is WriteMode.APPEND:
            conn.execute(sa.insert(table), rows)
            return
        stmt = upsert_statement(conn.dialect.name, table, key)
        if stmt is None:  # no native upsert: replace the keyed rows in the same transaction
            self._write_rows(conn, table, rows, WriteMode.DELETE, key)
            stmt = sa.insert(table)
        conn.execute(stmt, rows)

    def _ensure_table(self, stream: str, schema: pa.Schema, key: tuple[str, ...]) -> sa.Table:
        """The destination table, created from the batch's schema when it does not exist yet."""
        if stream in self._tables or sa.inspect(self.engine).has_table(stream, schema=self.config.schema_name):
            return self._table(stream)
        table = sa.Table(
            stream, sa.MetaData(schema=self.config.schema_name),
            *(sa.Column(f.name, sql_type(f.type, key=f.name in key), primary_key=f.name in key) for f in schema),
        )
        try:
            table.create(self.engine, checkfirst=True)
        except DBAPIError as exc:
            raise _translate(exc, self.name, stream) from None
        self._tables[stream] = table
        return table

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None


def _reason(exc: BaseException) -> str:
    """The driver's own error class and first line: no statement, no parameters."""
    orig = getattr(exc, "orig", None) or exc
    first_line = str(orig).strip().splitlines()[0] if str(orig).strip() else ""
    return f"{type(orig).__name__}: {first_line}" if first_line else type(orig).__name__


def _translate(exc: DBAPIError, system: str, stream: str | None) -> Exception:
    """Map a driver error to retriable (connection, lock) or fatal (everything else)."""
    if isinstance(exc, sa.exc.OperationalError) or exc.connection_invalidated:
        return RetriableError(f"database unavailable: {_reason(exc)}", system=system, stream=stream)
    # Integrity and data errors may quote row values, so only the error class is shown.
    return FatalError(f"database rejected the statement ({type(exc.orig).__name__})", system=system, stream=stream)
