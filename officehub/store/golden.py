"""Golden records: read, change-detect and upsert whole batches of one entity."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

import pyarrow as pa
import sqlalchemy as sa

from canonical_model import SCHEMA_VERSION, layout
from connectors.sql.dialects import upsert_statement
from officehub.store.schema import child_table_name, hub_metadata

_T = hub_metadata().tables
META_COLUMNS = ("canonical_id", "version", "content_hash", "change_seq", "schema_version", "updated_at")
_CHUNK = 500


def content_hash(values: dict[str, Any], columns: Sequence[str]) -> str:
    """A stable hash of a record's canonical values (order and type independent of the driver)."""
    canonical = json.dumps([None if values.get(c) is None else str(values[c]) for c in columns],
                           ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


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


def upsert(conn: sa.Connection, table_name: str, key: Sequence[str], rows: list[dict[str, Any]]) -> None:
    """Insert or update ``rows``, touching only the columns they carry."""
    if not rows:
        return
    table = _T[table_name]
    stmt = upsert_statement(conn.dialect.name, table, key, update=list(rows[0]))
    conn.execute(stmt, rows)


def bump(conn: sa.Connection, entity: str, changes: list[dict[str, Any]]) -> None:
    """New version and change number for parents whose repeating groups changed."""
    table = _T[entity]
    stmt = (sa.update(table).where(table.c.canonical_id == sa.bindparam("cid"))
            .values(version=table.c.version + 1, change_seq=sa.bindparam("seq"), updated_at=sa.bindparam("at")))
    conn.execute(stmt, changes)


def _as_arrow(entity: str, rows: Sequence[sa.Row]) -> pa.Table:
    schema = pa.schema([
        ("canonical_id", pa.string()), ("version", pa.int64()), ("change_seq", pa.int64()),
        ("updated_at", pa.timestamp("us", tz="UTC")), *[(f.column, f.arrow_type) for f in layout(entity).fields],
    ])
    return pa.Table.from_pydict({name: [r._mapping[name] for r in rows] for name in schema.names}, schema=schema)


def changes_since(conn: sa.Connection, entity: str, after_seq: int, limit: int) -> pa.Table:
    """Golden records changed after ``after_seq``, oldest change first, as Arrow."""
    table = _T[entity]
    stmt = sa.select(table).where(table.c.change_seq > after_seq).order_by(table.c.change_seq).limit(limit)
    return _as_arrow(entity, conn.execute(stmt).all())


def recent(conn: sa.Connection, entity: str, limit: int) -> pa.Table:
    """The most recently changed golden records, as Arrow."""
    table = _T[entity]
    return _as_arrow(entity, conn.execute(sa.select(table).order_by(table.c.change_seq.desc()).limit(limit)).all())
