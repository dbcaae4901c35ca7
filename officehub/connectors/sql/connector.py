"""The SQL connector: any database SQLAlchemy can reach.

Reads go in keyset order (cursor column, then the primary key as tie-breaker), so
memory stays flat and rows sharing one cursor value across a batch boundary are
neither missed nor read twice. Which reader and writer serve a database (Arrow-native
fast paths or SQLAlchemy) is decided in ``paths``; every write is one transaction, in
which records the database refuses one by one are set apart (``write_guard``) and
columns the table lacks are added or refused (``evolve``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError, NoSuchTableError, SQLAlchemyError

from officehub.arrowsql.arrow_rows import rows_to_batch, to_json_value
from officehub.arrowsql.dialects import connect_args, refuses_nul_in_text
from officehub.arrowsql.keyset import Keyset
from officehub.arrowsql.paths import fast_reader, writer
from officehub.arrowsql.read_arrow import FastReader, UnfitStream, read_pages
from officehub.arrowsql.read_rows import read_rows
from officehub.arrowsql.refusals import RowCountMismatch
from officehub.arrowsql.types import arrow_type_name, arrow_types, sql_type
from officehub.arrowsql.write_guard import write_guarded
from officehub.arrowsql.write_rows import write_rows
from officehub.canonical_model.errors import FatalError
from officehub.connectors.base import (
    Capabilities,
    Connector,
    Cursor,
    ReadBatch,
    ReadOptions,
    RejectedRecords,
    RejectedRow,
    StreamField,
    StreamInfo,
    WriteMode,
)
from officehub.connectors.jsonable import jsonable
from officehub.connectors.sql import evolve
from officehub.connectors.sql.config import SqlConfig
from officehub.connectors.sql.errors import DriverError, reason, translate

log = logging.getLogger(__name__)
Types = Mapping[str, pa.DataType | None]


class SqlConnector(Connector):
    """Tables and views of a relational database as streams."""

    Config = SqlConfig
    config: SqlConfig
    capabilities = Capabilities(write_modes={WriteMode.APPEND, WriteMode.UPSERT}, deletes=True,
                                incremental=True, cursor_field=True)

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
                raise FatalError(f"cannot use database URL: {reason(exc, self.config.url)}", system=self.name) from None
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
                raise translate(exc, self.name, stream, self.config.url) from None
        return self._tables[stream]

    # -- the contract ---------------------------------------------------------------
    def check(self) -> None:
        self._require_database()
        try:
            with self.engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
        except DBAPIError as exc:
            raise translate(exc, self.name, None, self.config.url) from None

    def discover(self) -> list[StreamInfo]:
        self._require_database()
        try:
            inspector = sa.inspect(self.engine)
            schema = self.config.schema_name
            names = [(n, "table") for n in inspector.get_table_names(schema=schema)]
            names += [(n, "view") for n in inspector.get_view_names(schema=schema)]
            return [self._stream_info(inspector, name, kind) for name, kind in sorted(names)]
        except DBAPIError as exc:
            raise translate(exc, self.name, None, self.config.url) from None

    def discover_stream(self, stream: str) -> StreamInfo | None:
        """One table or view, reflected alone (a database may hold thousands)."""
        self._require_database()
        try:
            inspector = sa.inspect(self.engine)
            schema = self.config.schema_name
            if inspector.has_table(stream, schema=schema):
                views = set(inspector.get_view_names(schema=schema))
                return self._stream_info(inspector, stream, "view" if stream in views else "table")
            return None
        except DBAPIError as exc:
            raise translate(exc, self.name, stream, self.config.url) from None

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
        if not options.cursor_field and not options.key:
            raise FatalError("a key is needed to read in a stable order", system=self.name, stream=stream)
        keyset = Keyset.for_read(table, options.key, options.cursor_field, self.engine.dialect.name)
        types = arrow_types(table, self.engine.dialect.name)
        try:
            if options.cursor_field and options.key and (cursor is None or "initial" in cursor):
                yield from self._initial_load(stream, keyset, cursor, options, types)
                return
            for batch in self._batches(stream, keyset, keyset.values_from_cursor(cursor), options.batch_size, types):
                yield ReadBatch(batch, keyset.positions(batch), keyset.cursor_after(batch))
        except (DBAPIError, DriverError) as exc:
            raise translate(exc, self.name, stream, self.config.url) from None
        if not options.cursor_field:
            # A full snapshot is complete: the next run starts from the top again.
            yield ReadBatch(rows_to_batch(list(types), [], types), [], None)

    def _initial_load(self, stream: str, keyset: Keyset, cursor: Cursor | None, options: ReadOptions,
                      types: Types) -> Iterator[ReadBatch]:
        """The first read of an incremental stream, in primary-key order.

        Paging a large table by its change time visits rows in random order on disk;
        paging by key reads it sequentially. The incremental cursor is taken before the
        scan starts — the last (cursor, key) then — so rows changed during the scan get
        a later change time and come again with the next incremental read.
        """
        by_key = Keyset.for_read(keyset.table, options.key, None, self.engine.dialect.name)
        state = (cursor or {}).get("initial") or {"until": self._high_water(keyset)}
        if state["until"] is None:  # an empty stream: the ordinary incremental read from the start
            for batch in self._batches(stream, keyset, None, options.batch_size, types):
                yield ReadBatch(batch, keyset.positions(batch), keyset.cursor_after(batch))
            return
        after = by_key.values_from_cursor({"after": state.get("after_key")})
        held = None  # one batch behind, so the last one can carry the incremental cursor
        for batch in self._batches(stream, by_key, after, options.batch_size, types):
            if held is not None:
                resume = {"after_key": by_key.cursor_after(held)["after"], "until": state["until"]}
                yield ReadBatch(held, by_key.positions(held), {"initial": resume})
            held = batch
        last = held if held is not None else rows_to_batch(list(types), [], types)
        yield ReadBatch(last, by_key.positions(last) if held is not None else [], {"after": state["until"]})

    def _high_water(self, keyset: Keyset) -> list[Any] | None:
        """The (cursor, key) of the newest row now, as a stored cursor holds it; None for no rows."""
        first = keyset.columns[0]
        stmt = (sa.select(*keyset.columns).where(first.is_not(None))
                .order_by(*(column.desc() for column in keyset.columns)).limit(1))
        with self.engine.connect() as conn:
            row = conn.execute(stmt).first()
        return None if row is None else [to_json_value(value) for value in row]

    def read_path(self, stream: str) -> str:
        """Which reader serves ``stream``: ``adbc``, ``connectorx`` or ``sqlalchemy``."""
        reader = self._fast_reader(arrow_types(self._table(stream), self.engine.dialect.name))
        return reader.name if reader else "sqlalchemy"

    def _fast_reader(self, types: Types) -> FastReader | None:
        if not self.config.fast_paths:
            return None
        reader = fast_reader(self._url(), self.engine.dialect, self.config.connect_timeout_s)
        return reader if reader is not None and reader.supports(types) else None

    def _batches(self, stream: str, keyset: Keyset, after: Sequence[Any] | None, batch_size: int,
                 types: Types) -> Iterator[pa.RecordBatch]:
        """Batches from the fast reader; if it cannot carry the stream, SQLAlchemy reads on from there."""
        reader = self._fast_reader(types)
        if reader is not None:
            try:
                with reader.pages() as fetch:
                    for batch in read_pages(fetch, keyset, after, batch_size, types):
                        after = keyset.last_values(batch)  # where SQLAlchemy would pick up
                        yield batch
                return
            except UnfitStream as exc:
                log.warning("system '%s' stream '%s': %s reader cannot carry it (%s); reading on with SQLAlchemy",
                            self.name, stream, reader.name, exc)
        yield from read_rows(self.engine, keyset, after, batch_size, types)

    def write(self, stream: str, batch: pa.RecordBatch, mode: WriteMode, *, key: tuple[str, ...],
              batch_id: str) -> int:
        """Write ``batch`` in one transaction; records the database refuses one by one are raised as
        :class:`RejectedRecords` after the others are written."""
        if batch.num_rows == 0:
            return 0
        table = self._ensure_table(stream, batch.schema, key)
        kept = _without_empty_unknown(batch, table)
        table = self._evolve(stream, table, kept.schema)
        write = writer(self.engine.dialect, kept.schema) if self.config.fast_paths else write_rows
        try:
            with self.engine.begin() as conn:
                outcome = write_guarded(conn, table, kept, mode, key, write,
                                        refuses_nul=refuses_nul_in_text(self.engine.dialect.name))
        except (DBAPIError, DriverError) as exc:
            raise translate(exc, self.name, stream, self.config.url) from None
        except RowCountMismatch as exc:
            raise FatalError(f"the database reports that {exc}; nothing of the batch was kept",
                             system=self.name, stream=stream) from None
        if outcome.refused:
            rejects = [RejectedRow(f"batch {batch_id} row {r.row}", r.reason, _raw(batch, r.row))
                       for r in outcome.refused]
            raise RejectedRecords(system=self.name, stream=stream, written=batch.num_rows - len(rejects),
                                  rejects=rejects)
        return batch.num_rows

    def _evolve(self, stream: str, table: sa.Table, schema: pa.Schema) -> sa.Table:
        """``table`` with a column for every field of ``schema``, added if allowed, else a FatalError."""
        missing = evolve.missing_fields(table, schema)
        if not missing:
            return table
        policy = self.config.schema_changes_of(stream)
        if not evolve.may_evolve(table, policy):
            raise evolve.refusal(table, missing, policy, self.name, stream)
        try:
            evolve.add_columns(self.engine, table, missing)
        except DBAPIError as exc:
            self._tables.pop(stream, None)
            if evolve.missing_fields(self._table(stream), schema):  # not added by another writer meanwhile
                raise translate(exc, self.name, stream, self.config.url) from None
        log.warning("system '%s' stream '%s': added column(s) %s", self.name, stream,
                    ", ".join(field.name for field in missing))
        self._tables.pop(stream, None)
        return self._table(stream)

    def _ensure_table(self, stream: str, schema: pa.Schema, key: tuple[str, ...]) -> sa.Table:
        """The destination table, created from the batch's schema when it does not exist yet.

        A SQLite destination's folder is created too: it is a file the hub owns.
        """
        url = self._url()
        if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        try:
            exists = stream in self._tables or sa.inspect(self.engine).has_table(stream, schema=self.config.schema_name)
        except DBAPIError as exc:
            raise translate(exc, self.name, stream, self.config.url) from None
        if exists:
            return self._table(stream)
        table = sa.Table(
            stream, sa.MetaData(schema=self.config.schema_name),
            *(sa.Column(f.name, sql_type(f.type, key=f.name in key), primary_key=f.name in key) for f in schema),
            # Where the database keeps comments, the mark lets later runs add columns to this table.
            comment=evolve.HUB_CREATED if self.engine.dialect.supports_comments else None,
        )
        try:
            table.create(self.engine, checkfirst=True)
        except DBAPIError as exc:
            raise translate(exc, self.name, stream, self.config.url) from None
        self._tables[stream] = table
        return table

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None


def _without_empty_unknown(batch: pa.RecordBatch, table: sa.Table) -> pa.RecordBatch:
    """``batch`` without the all-null columns ``table`` does not have.

    Such a column is an explicit null for a field the destination may no longer
    receive; a table without the column holds no value of it to empty. A column with
    values stays, so a real mismatch is still refused by the database.
    """
    extra = [name for name in batch.schema.names if name not in table.c
             and batch.column(name).null_count == batch.num_rows]
    return batch.drop_columns(extra) if extra else batch


def _raw(batch: pa.RecordBatch, row: int) -> dict[str, Any]:
    """One record of ``batch`` as the quarantine keeps it."""
    return {name: jsonable(value) for name, value in batch.slice(row, 1).to_pylist()[0].items()}
