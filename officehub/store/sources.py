"""The source layer: each system's own copy of a record, the input of survivorship.

A golden record is computed from the source rows linked to it; keeping them is what
lets the hub apply survivorship per field, show lineage, detect deletes and undo a
merge exactly. A record that one system alone supplies has no source row: its golden row
is the copy (the sole form, ADR 0018), so the functions that speak of "this system's copies"
below cover both forms.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from officehub.store import golden
from officehub.store.schema import TABLES, source_table_name
from officehub.store.select import among, batches, chunks, dicts

_T = TABLES


def table(entity: str) -> sa.Table:
    """The source table of ``entity``."""
    return _T[source_table_name(entity)]



def by_vendor_id(conn: sa.Connection, entity: str, system: str, vendor_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """This system's copies of ``vendor_ids`` (source rows, or sole-form golden rows as copies), by vendor id."""
    t, g = table(entity), _T[entity]
    rows: dict[str, dict[str, Any]] = {}
    for chunk in batches(conn, vendor_ids):
        stmt = among(conn, sa.select(t).where(t.c.system == system), t.c.vendor_id, chunk)
        rows.update({r["vendor_id"]: r for r in dicts(conn.execute(stmt))})
        sole = among(conn, sa.select(g).where(g.c.sole_system == system, g.c.status == "active"),
                     g.c.sole_vendor_id, chunk)
        rows.update({r["sole_vendor_id"]: _sole_copy(entity, r) for r in dicts(conn.execute(sole))})
    return rows


def by_canonical_id(conn: sa.Connection, entity: str, canonical_ids: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
    """Every source row of each canonical id (deleted ones included), by canonical id."""
    t = table(entity)
    rows: dict[str, list[dict[str, Any]]] = {}
    for chunk in batches(conn, canonical_ids):
        stmt = among(conn, sa.select(t), t.c.canonical_id, chunk).order_by(t.c.system, t.c.vendor_id)
        for r in dicts(conn.execute(stmt)):
            rows.setdefault(r["canonical_id"], []).append(r)
    return rows


def copies_of(conn: sa.Connection, entity: str, record: dict[str, Any]) -> list[dict[str, Any]]:
    """Each system's copy of one golden record (``record`` is its row): its source rows, or the row itself
    as its system's copy when it is in the sole form."""
    if record.get("sole_system") is not None:
        return [_sole_copy(entity, record)]
    return by_canonical_id(conn, entity, [record["canonical_id"]]).get(record["canonical_id"], [])


def _sole_copy(entity: str, record: dict[str, Any]) -> dict[str, Any]:
    """A sole-form golden row as its system's source row would read."""
    return {**{c: record.get(c) for c in golden.entity_columns(entity)}, "system": record["sole_system"],
            "vendor_id": record["sole_vendor_id"], "canonical_id": record["canonical_id"],
            "content_hash": record["content_hash"], "changed_at": record["sole_changed_at"],
            "run_id": record["run_id"], "seen_run": record["sole_seen_run"], "deleted_at": None}


def upsert(conn: sa.Connection, entity: str, rows: list[dict[str, Any]], new: bool = False) -> None:
    """Insert or update source rows in bulk (keyed by system and vendor id); ``new`` rows are appended."""
    golden.upsert(conn, source_table_name(entity), ["system", "vendor_id"], rows, new=new)


def mark_seen(conn: sa.Connection, entity: str, system: str, vendor_ids: Sequence[str], run_id: int) -> None:
    """Note that a full snapshot of ``system`` contained ``vendor_ids`` in run ``run_id``."""
    t, g = table(entity), _T[entity]
    for chunk in chunks(vendor_ids):
        conn.execute(sa.update(t).where(t.c.system == system, t.c.vendor_id.in_(chunk)).values(seen_run=run_id))
        conn.execute(sa.update(g).where(g.c.sole_system == system, g.c.sole_vendor_id.in_(chunk))
                     .values(sole_seen_run=run_id))


def unseen(conn: sa.Connection, entity: str, system: str, run_id: int) -> list[tuple[str, str]]:
    """(vendor id, canonical id) of live copies a complete snapshot in ``run_id`` did not contain (either form)."""
    t, g = table(entity), _T[entity]
    stmt = sa.select(t.c.vendor_id, t.c.canonical_id).where(
        t.c.system == system, t.c.deleted_at.is_(None), sa.or_(t.c.seen_run.is_(None), t.c.seen_run != run_id))
    sole = sa.select(g.c.sole_vendor_id, g.c.canonical_id).where(
        g.c.sole_system == system, g.c.status == "active",
        sa.or_(g.c.sole_seen_run.is_(None), g.c.sole_seen_run != run_id))
    return [(r[0], r[1]) for r in conn.execute(stmt)] + [(r[0], r[1]) for r in conn.execute(sole)]


def count_live(conn: sa.Connection, entity: str, system: str) -> int:
    """Live (not deleted) copies of ``system``, in either form."""
    t, g = table(entity), _T[entity]
    layered = conn.execute(sa.select(sa.func.count()).select_from(t)
                           .where(t.c.system == system, t.c.deleted_at.is_(None))).scalar_one()
    return layered + conn.execute(sa.select(sa.func.count()).select_from(g)
                                  .where(g.c.sole_system == system, g.c.status == "active")).scalar_one()


def mark_deleted(conn: sa.Connection, entity: str, system: str, vendor_ids: Sequence[str],
                 at: datetime, run_id: int | None) -> list[str]:
    """Mark this system's live copies of ``vendor_ids`` deleted; returns their canonical ids, one per row marked."""
    t = table(entity)
    affected: list[str] = []
    for chunk in chunks(vendor_ids):
        where = sa.and_(t.c.system == system, t.c.vendor_id.in_(chunk), t.c.deleted_at.is_(None))
        affected += [r.canonical_id for r in conn.execute(sa.select(t.c.canonical_id).where(where))]
        conn.execute(sa.update(t).where(where).values(deleted_at=at, run_id=run_id))
    return affected


def relink(conn: sa.Connection, entity: str, pairs: Sequence[tuple[str, str]], canonical_id: str) -> None:
    """Point the source rows of (system, vendor id) ``pairs`` at ``canonical_id``."""
    t = table(entity)
    for system, vendor_id in pairs:
        conn.execute(sa.update(t).where(t.c.system == system, t.c.vendor_id == vendor_id)
                     .values(canonical_id=canonical_id))


def erase(conn: sa.Connection, entity: str, canonical_id: str) -> int:
    """Delete every source row of ``canonical_id`` (data-subject erasure)."""
    t = table(entity)
    return conn.execute(sa.delete(t).where(t.c.canonical_id == canonical_id)).rowcount


def live_copies(conn: sa.Connection, entity: str, columns: Sequence[str],
                limit: int | None = None) -> list[dict[str, Any]]:
    """Every system's live copy of the active records (``columns`` plus system, vendor id and
    canonical id): source rows and sole-form golden rows alike. With ``limit``, that many drawn
    at random from each form in proportion to its size (what a model is trained on)."""
    t, g = table(entity), _T[entity]
    layered = (sa.select(t.c.system, t.c.vendor_id, t.c.canonical_id, *(t.c[c] for c in columns))
               .join(g, g.c.canonical_id == t.c.canonical_id)
               .where(t.c.deleted_at.is_(None), g.c.status == "active"))
    sole = (sa.select(g.c.sole_system.label("system"), g.c.sole_vendor_id.label("vendor_id"), g.c.canonical_id,
                      *(g.c[c] for c in columns))
            .where(g.c.sole_system.is_not(None), g.c.status == "active"))
    out: list[dict[str, Any]] = []
    by_key = operator.itemgetter("system", "vendor_id")  # a stable order: the same records, the same model
    if limit is None:
        for stmt in (layered, sole):
            out.extend(dicts(conn.execute(stmt)))
        return sorted(out, key=by_key)
    sizes = [conn.execute(sa.select(sa.func.count()).select_from(s.subquery())).scalar_one() for s in (layered, sole)]
    total = sum(sizes) or 1
    for stmt, size in zip((layered, sole), sizes, strict=True):
        share = size if total <= limit else round(limit * size / total)
        if share:
            drawn = stmt if share == size else stmt.order_by(sa.func.random()).limit(share)
            out.extend(dicts(conn.execute(drawn)))
    return sorted(out, key=by_key)
