"""Golden records: read, change-detect and upsert whole batches of one entity."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa

from officehub.arrowsql.bulk import bulk_write
from officehub.arrowsql.modes import WriteMode
from officehub.arrowsql.read_arrow import PageFetcher
from officehub.canonical_model import layout, model_cache
from officehub.store.schema import TABLES, child_table_name, history_table_name
from officehub.store.select import among, batches, dicts

_T = TABLES
_CHUNK = 5_000  # well under every database's bound-parameter limit


def content_hash(values: dict[str, Any], columns: Sequence[str]) -> str:
    """A stable hash of a record's canonical values (order and type independent of the driver)."""
    return content_hash_of([values.get(c) for c in columns])


def content_hash_of(ordered: Sequence[Any]) -> str:
    """:func:`content_hash` of values already in column order.

    Values are joined with a unit separator, a missing value written as NUL, so no two
    different records join to the same text.
    """
    text = "\x1f".join("\x00" if v is None else str(v) for v in ordered)
    return hashlib.sha256(text.encode()).hexdigest()


_NULL, _SEPARATOR = (pa.scalar(v, pa.large_string()) for v in ("\x00", "\x1f"))


def content_hashes(columns: dict[str, pa.Array], names: Sequence[str], rows: int) -> list[str]:
    """:func:`content_hash` of every row of ``columns`` (missing names count as empty), built by Arrow.

    The row text is joined in C++ from each column's text form, written exactly as
    Python's ``str()`` writes the value (strings, integers, ISO dates, decimals at their
    scale, True/False), so the hashes equal those of :func:`content_hash_of`; only the
    SHA-256 runs per row. Other types (floats, times) take the per-row path.
    """
    parts = []
    for name in names:
        column = columns.get(name)
        if column is None:
            parts.append(_NULL)
            continue
        text = _python_text(column)
        if text is None:
            values = {n: c.to_pylist() for n, c in columns.items()}
            return [content_hash_of([values[n][i] if n in values else None for n in names]) for i in range(rows)]
        parts.append(pc.fill_null(text, _NULL))
    if not parts or all(isinstance(p, pa.Scalar) for p in parts):
        return [content_hash_of([None] * len(names))] * rows
    joined = pc.binary_join_element_wise(*parts, _SEPARATOR).cast(pa.large_binary())
    return [hashlib.sha256(line).hexdigest() for line in joined.to_pylist()]


def _python_text(column: pa.Array) -> pa.Array | None:
    """The column as the text ``str()`` gives its Python values, or None where Arrow's differs."""
    kind = column.type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return column.cast(pa.large_string())
    if pa.types.is_integer(kind) or pa.types.is_date32(kind) or pa.types.is_decimal(kind):
        return pc.cast(column, pa.large_string())
    if pa.types.is_boolean(kind):
        return pc.if_else(column, "True", "False").cast(pa.large_string())
    return None


def entity_columns(entity: str) -> list[str]:
    """The canonical value columns of an entity's golden table, in layout order."""
    return [leaf.column for leaf in layout(entity).fields]


def fetch(conn: sa.Connection, table_name: str, key: str, ids: Sequence[Any]) -> dict[Any, dict[str, Any]]:
    """Rows of ``table_name`` whose ``key`` is in ``ids``, by key."""
    table = _T[table_name]
    rows: dict[Any, dict[str, Any]] = {}
    for chunk in batches(conn, ids):
        stmt = among(conn, sa.select(table), table.c[key], chunk)
        rows.update({r[key]: r for r in dicts(conn.execute(stmt))})
    return rows


def sharing_keys(conn: sa.Connection, entity: str, pairs: Iterable[tuple[str, str]],
                 columns: Sequence[str]) -> dict[str, dict[str, Any]]:
    """``columns`` of the active golden records that share any (key, normalised value) pair, by canonical id.

    A search's candidates in one statement, the match-key index joined to the golden table, and
    only the columns its caller compares (most candidates are ranked out).
    """
    wanted = list(dict.fromkeys((k, v[:400]) for k, v in pairs))
    if not wanted:
        return {}
    table, keys = _T[entity], _T["match_key"]
    stmt = (sa.select(table.c.canonical_id, *(table.c[c] for c in columns))
            .join(keys, keys.c.canonical_id == table.c.canonical_id)
            .where(keys.c.entity == entity, table.c.status == "active",
                   sa.or_(*(sa.and_(keys.c.key == k, keys.c.value == v) for k, v in wanted))))
    return {r["canonical_id"]: r for r in dicts(conn.execute(stmt))}


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


_TS = pa.timestamp("us", tz="UTC")
_META_TYPES = {"canonical_id": pa.string(), "version": pa.int64(), "content_hash": pa.string(),
               "change_seq": pa.int64(), "schema_version": pa.int64(), "updated_at": _TS,
               "system": pa.string(), "vendor_id": pa.string(),
               # revision 2: record state on golden rows, and the source layer's own columns
               "status": pa.string(), "merged_into": pa.string(), "deleted_at": _TS, "purge_after": _TS,
               "changed_by": pa.string(), "run_id": pa.int64(), "lineage": pa.string(),
               "changed_at": _TS, "seen_run": pa.int64(),
               # revision 8: the only source system's key and copy bookkeeping (ADR 0018)
               "sole_system": pa.string(), "sole_vendor_id": pa.string(), "sole_changed_at": _TS,
               "sole_seen_run": pa.int64(), "sole_sent_hash": pa.string()}


@model_cache
def _arrow_types(entity: str) -> dict[str, pa.DataType]:
    lay = layout(entity)
    types = {f.column: f.arrow_type for f in lay.fields}
    for coll in lay.collections:
        types.update({f.column: f.arrow_type for f in coll.fields})
    return {**types, **_META_TYPES}


def upsert(conn: sa.Connection, table_name: str, key: Sequence[str], rows: list[dict[str, Any]],
           new: bool = False) -> None:
    """Insert or update ``rows`` in bulk (COPY on PostgreSQL), touching only the columns they carry.

    ``new``: the caller knows none of the rows exists yet (in this transaction), so they are
    appended — on PostgreSQL one COPY straight into the table, without staging and conflict checks.
    """
    if not rows:
        return
    types = _arrow_types(table_name.split("__", 1)[0])
    schema = pa.schema([(name, types[name]) for name in rows[0]])
    mode = WriteMode.APPEND if new else WriteMode.UPSERT
    bulk_write(conn, _T[table_name], pa.RecordBatch.from_pylist(rows, schema), mode, key)


def arrow_batch(entity: str, columns: dict[str, pa.Array]) -> pa.RecordBatch:
    """Arrow columns of one of ``entity``'s tables as a record batch, each cast to the hub's type for it."""
    types = _arrow_types(entity)
    return pa.RecordBatch.from_pydict({name: col.cast(types[name]) if col.type != types[name] else col
                                       for name, col in columns.items()})


def append(conn: sa.Connection, table_name: str, columns: dict[str, pa.Array]) -> None:
    """Append rows given as Arrow columns (COPY on PostgreSQL); the caller knows none exists yet."""
    bulk_write(conn, _T[table_name], arrow_batch(table_name.split("__", 1)[0], columns), WriteMode.APPEND, ())


def archive(conn: sa.Connection, entity: str, canonical_ids: Sequence[str]) -> None:
    """Copy the current versions of ``canonical_ids`` into the history, before they are superseded.

    One INSERT … SELECT per chunk: the rows never travel through Python.
    """
    table, history = _T[entity], _T[history_table_name(entity)]
    names = [c.name for c in history.columns if c.name != "id"]
    for chunk in batches(conn, canonical_ids):
        select = among(conn, sa.select(*[table.c[n] for n in names]), table.c.canonical_id, chunk)
        conn.execute(sa.insert(history).from_select(names, select))


def bump(conn: sa.Connection, entity: str, changes: list[dict[str, Any]]) -> None:
    """New version and change number for parents whose repeating groups changed."""
    table = _T[entity]
    stmt = (sa.update(table).where(table.c.canonical_id == sa.bindparam("cid"))
            .values(version=table.c.version + 1, change_seq=sa.bindparam("seq"), updated_at=sa.bindparam("at")))
    conn.execute(stmt, changes)


@model_cache
def _read_schema(entity: str) -> pa.Schema:
    return pa.schema([
        ("canonical_id", pa.string()), ("version", pa.int64()), ("change_seq", pa.int64()),
        ("updated_at", pa.timestamp("us", tz="UTC")), ("status", pa.string()),
        *[(f.column, f.arrow_type) for f in layout(entity).fields],
    ])


def _read_columns(entity: str) -> list[sa.Column]:
    table = _T[entity]
    return [table.c[name] for name in _read_schema(entity).names]


def _as_arrow(entity: str, rows: Sequence[sa.Row]) -> pa.Table:
    """Rows selected with :func:`_read_columns` as an Arrow table, built column by column."""
    schema = _read_schema(entity)
    columns = list(zip(*rows)) if rows else [() for _ in schema.names]
    return pa.Table.from_arrays([pa.array(c, f.type) for c, f in zip(columns, schema)], schema=schema)


def _changes_query(entity: str, after_seq: int, limit: int) -> sa.Select:
    table = _T[entity]
    return (sa.select(*_read_columns(entity)).where(table.c.change_seq > after_seq)
            .order_by(table.c.change_seq).limit(limit))


def changes_since(conn: sa.Connection, entity: str, after_seq: int, limit: int) -> pa.Table:
    """Golden records changed after ``after_seq``, oldest change first, as Arrow."""
    return _as_arrow(entity, conn.execute(_changes_query(entity, after_seq, limit)).all())


def changes_since_arrow(fetch: PageFetcher, entity: str, after_seq: int, limit: int) -> pa.Table:
    """:func:`changes_since` through an Arrow-native reader's page fetcher (same rows, same schema)."""
    table = fetch(_changes_query(entity, after_seq, limit))
    schema = _read_schema(entity)
    return pa.Table.from_arrays([table.column(name).cast(field.type) for name, field in zip(schema.names, schema)],
                                schema=schema)


@model_cache
def _records_query(entity: str) -> sa.Select:
    # Built once per entity: constructing a select of every column cost more than running it for a few ids.
    return sa.select(*_read_columns(entity)).where(
        _T[entity].c.canonical_id.in_(sa.bindparam("ids", expanding=True)))


def records(conn: sa.Connection, entity: str, canonical_ids: Sequence[str]) -> pa.Table:
    """Golden records by canonical id, as Arrow (as a publish reads them)."""
    return _as_arrow(entity, conn.execute(_records_query(entity), {"ids": list(canonical_ids)}).all())


def recent(conn: sa.Connection, entity: str, limit: int) -> pa.Table:
    """The most recently changed golden records, as Arrow."""
    table = _T[entity]
    stmt = sa.select(*_read_columns(entity)).order_by(table.c.change_seq.desc()).limit(limit)
    return _as_arrow(entity, conn.execute(stmt).all())


def due_for_purge(conn: sa.Connection, entity: str, moment: Any) -> list[dict[str, Any]]:
    """Soft-deleted records whose grace period ended before ``moment``."""
    table = _T[entity]
    stmt = sa.select(table.c.canonical_id).where(table.c.status == "deleted", table.c.purge_after <= moment)
    return [dict(r._mapping) for r in conn.execute(stmt)]


def forget(conn: sa.Connection, entity: str, canonical_ids: Sequence[str]) -> None:
    """Delete the history and repeating groups of records being purged or erased."""
    tables = [_T[history_table_name(entity)], *(_T[child_table_name(entity, c.name)] for c in layout(entity).collections)]
    unique = list(dict.fromkeys(canonical_ids))
    for start in range(0, len(unique), _CHUNK):
        chunk = unique[start:start + _CHUNK]
        for table in tables:
            conn.execute(sa.delete(table).where(table.c.canonical_id.in_(chunk)))


def collections(entity: str) -> list[str]:
    """Names of the entity's repeating groups."""
    return [coll.name for coll in layout(entity).collections]
