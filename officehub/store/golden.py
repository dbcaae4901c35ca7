"""Golden records: read, change-detect and upsert whole batches of one entity."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from functools import cache
from typing import Any

import pyarrow as pa
import sqlalchemy as sa

from canonical_model import layout
from connectors import WriteMode
from connectors.sql import bulk_write
from officehub.store.schema import child_table_name, hub_metadata

_T = hub_metadata().tables
_CHUNK = 5_000  # well under every database's bound-parameter limit


def content_hash(values: dict[str, Any], columns: Sequence[str]) -> str:
    """A stable hash of a record's canonical values (order and type independent of the driver).

    Values are joined with a unit separator, a missing value written as NUL, so no two
    different records join to the same text.
    """
    text = "\x1f".join("\x00" if (v := values.get(c)) is None else str(v) for c in columns)
    return hashlib.sha256(text.encode()).hexdigest()


def entity_columns(entity: str) -> list[str]:
    """The canonical value columns of an entity's golden table, in layout order."""
    return [leaf.column for leaf in layout(entity).fields]


def fetch(conn: sa.Connection, table_name: str, key: str, ids: Sequence[Any]) -> dict[Any, dict[str, Any]]:
    """Rows of ``table_name`` whose ``key`` is in ``ids``, by key."""
    table = _T[table_name]
    rows: dict[Any, dict[str, Any]] = {}
    unique = list(dict.fromkeys(ids))
    for start in range(0, len(unique), _CHUNK):
        stmt = sa.select(table).where(table.c[key].in_(unique[start:start + _CHUNK]))
        rows.update({r._mapping[key]: dict(r._mapping) for r in conn.execute(stmt)})
    return rows


def fetch_children(conn: sa.Connection, entity: str, collection: str, system: str,
                   vendor_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Child rows of one repeating group supplied by ``system``, by vendor id."""
    table = _T[child_table_name(entity, collection)]
    rows: dict[str, dict[str, Any]] = {}
    unique = list(dict.fromkeys(vendor_ids))
    for start in range(0, len(unique), _CHUNK):
        stmt = sa.select(table).where(table.c.system == system, table.c.vendor_id.in_(unique[start:start + _CHUNK]))
        rows.update({r.vendor_id: dict(r._mapping) for r in conn.execute(stmt)})
    return rows


def next_change_seqs(conn: sa.Connection, entity: str, count: int) -> int:
    """Reserve ``count`` change numbers for ``entity``; returns the first.

    The UPDATE takes a row lock held to commit, so ingests of one entity commit in
    change-number order and a publish never skips a number committed late.
    """
    table = _T["change_counter"]
    if conn.execute(sa.update(table).where(table.c.entity == entity).values(value=table.c.value + count)).rowcount == 0:
        conn.execute(sa.insert(table).values(entity=entity, value=count))
    last = conn.execute(sa.select(table.c.value).where(table.c.entity == entity)).scalar_one()
    return last - count + 1


_META_TYPES = {"canonical_id": pa.string(), "version": pa.int64(), "content_hash": pa.string(),
               "change_seq": pa.int64(), "schema_version": pa.int64(), "updated_at": pa.timestamp("us", tz="UTC"),
               "system": pa.string(), "vendor_id": pa.string()}


@cache
def _arrow_types(entity: str) -> dict[str, pa.DataType]:
    lay = layout(entity)
    types = {f.column: f.arrow_type for f in lay.fields}
    for coll in lay.collections:
        types.update({f.column: f.arrow_type for f in coll.fields})
    return {**types, **_META_TYPES}


def upsert(conn: sa.Connection, table_name: str, key: Sequence[str], rows: list[dict[str, Any]]) -> None:
    """Insert or update ``rows`` in bulk (COPY on PostgreSQL), touching only the columns they carry."""
    if not rows:
        return
    types = _arrow_types(table_name.split("__", 1)[0])
    schema = pa.schema([(name, types[name]) for name in rows[0]])
    bulk_write(conn, _T[table_name], pa.RecordBatch.from_pylist(rows, schema), WriteMode.UPSERT, key)


def bump(conn: sa.Connection, entity: str, changes: list[dict[str, Any]]) -> None:
    """New version and change number for parents whose repeating groups changed."""
    table = _T[entity]
    stmt = (sa.update(table).where(table.c.canonical_id == sa.bindparam("cid"))
            .values(version=table.c.version + 1, change_seq=sa.bindparam("seq"), updated_at=sa.bindparam("at")))
    conn.execute(stmt, changes)


@cache
def _read_schema(entity: str) -> pa.Schema:
    return pa.schema([
        ("canonical_id", pa.string()), ("version", pa.int64()), ("change_seq", pa.int64()),
        ("updated_at", pa.timestamp("us", tz="UTC")), *[(f.column, f.arrow_type) for f in layout(entity).fields],
    ])


def _read_columns(entity: str) -> list[sa.Column]:
    table = _T[entity]
    return [table.c[name] for name in _read_schema(entity).names]


def _as_arrow(entity: str, rows: Sequence[sa.Row]) -> pa.Table:
    """Rows selected with :func:`_read_columns` as an Arrow table, built column by column."""
    schema = _read_schema(entity)
    columns = list(zip(*rows)) if rows else [() for _ in schema.names]
    return pa.Table.from_arrays([pa.array(c, f.type) for c, f in zip(columns, schema)], schema=schema)


def changes_since(conn: sa.Connection, entity: str, after_seq: int, limit: int) -> pa.Table:
    """Golden records changed after ``after_seq``, oldest change first, as Arrow."""
    table = _T[entity]
    stmt = (sa.select(*_read_columns(entity)).where(table.c.change_seq > after_seq)
            .order_by(table.c.change_seq).limit(limit))
    return _as_arrow(entity, conn.execute(stmt).all())


def recent(conn: sa.Connection, entity: str, limit: int) -> pa.Table:
    """The most recently changed golden records, as Arrow."""
    table = _T[entity]
    stmt = sa.select(*_read_columns(entity)).order_by(table.c.change_seq.desc()).limit(limit)
    return _as_arrow(entity, conn.execute(stmt).all())
