"""Cross-references: (system, entity, vendor id) ↔ canonical id, wherever the hub keeps them.

A record that one system alone supplies keeps that system's key on its golden row (the sole
form, ADR 0018); every other link — the systems of a record several supply, and the ids
destinations gave the records the hub wrote to them — is a row of the ``xref`` table. Every
reader of links goes through this module, which looks in both places.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple

import pyarrow as pa
import sqlalchemy as sa

from officehub.arrowsql.bulk import bulk_write
from officehub.arrowsql.modes import WriteMode
from officehub.canonical_model import ENTITIES
from officehub.store.golden import entity_columns
from officehub.store.schema import TABLES, history_table_name, hub_metadata, source_table_name
from officehub.store.select import among, batches, chunks, dicts, unnested

_XREF = hub_metadata().tables["xref"]
#: A sole-form record's link, as an xref row would hold it (for callers that list links).
_SOLE_LINK = {"id": None, "record_hash": None, "created_at": None, "linked_by": "new", "match_score": None}


class Link(NamedTuple):
    """One system's record linked to a golden record (a tuple: an incremental batch makes thousands)."""

    canonical_id: str
    sent_hash: str | None = None
    erased: bool = False
    #: the link is the golden row's own key: the record is in the sole form (no copy, no xref row)
    sole: bool = False



def lookup(conn: sa.Connection, system: str, entity: str, vendor_ids: Sequence[str]) -> dict[str, str]:
    """Known canonical ids of ``vendor_ids`` in ``system``."""
    return {vid: link.canonical_id for vid, link in links(conn, system, entity, vendor_ids).items()}


def links(conn: sa.Connection, system: str, entity: str, vendor_ids: Sequence[str]) -> dict[str, Link]:
    """Known links of ``vendor_ids`` in ``system``, with their echo hash and erasure mark."""
    found = sole_links(conn, system, entity, vendor_ids)
    x = _XREF.c
    for chunk in batches(conn, [v for v in vendor_ids if v not in found]):
        stmt = among(conn, sa.select(x.vendor_id, x.canonical_id, x.sent_hash, x.erased_at).where(
            x.system == system, x.entity == entity), x.vendor_id, chunk)
        found.update({r.vendor_id: Link(r.canonical_id, r.sent_hash, r.erased_at is not None)
                      for r in conn.execute(stmt)})
    return found


def sole_links(conn: sa.Connection, system: str, entity: str, vendor_ids: Sequence[str]) -> dict[str, Link]:
    """The links of ``vendor_ids`` that are sole-form golden rows' own keys."""
    g = TABLES[entity].c
    found: dict[str, Link] = {}
    for chunk in batches(conn, vendor_ids):
        stmt = among(conn, sa.select(g.sole_vendor_id, g.canonical_id, g.sole_sent_hash, g.status)
                     .where(g.sole_system == system), g.sole_vendor_id, chunk)
        found.update({r.sole_vendor_id: Link(r.canonical_id, r.sole_sent_hash, r.status == "erased", True)
                      for r in conn.execute(stmt)})
    return found


def vendor_ids_of(conn: sa.Connection, system: str, entity: str, canonical_ids: Sequence[str],
                  include_erased: bool = False) -> dict[str, str]:
    """This system's vendor id of each canonical id it holds (erased links left out unless asked for)."""
    found: dict[str, str] = {}
    g = TABLES[entity].c
    x = _XREF.c
    for chunk in chunks(canonical_ids):
        sole = sa.select(g.canonical_id, g.sole_vendor_id).where(g.sole_system == system, g.canonical_id.in_(chunk))
        if not include_erased:
            sole = sole.where(g.status != "erased")
        found.update({r.canonical_id: r.sole_vendor_id for r in conn.execute(sole)})
        stmt = sa.select(x.canonical_id, x.vendor_id).where(
            x.system == system, x.entity == entity, x.canonical_id.in_(chunk))
        if not include_erased:
            stmt = stmt.where(x.erased_at.is_(None))
        found.update({r.canonical_id: r.vendor_id for r in conn.execute(stmt)})
    return found


def sent_hashes(conn: sa.Connection, system: str, entity: str, canonical_ids: Sequence[str]) -> dict[str, str | None]:
    """The echo hash of what the hub last wrote to ``system``, by canonical id."""
    found: dict[str, str | None] = {}
    g = TABLES[entity].c
    x = _XREF.c
    for chunk in chunks(canonical_ids):
        stmt = sa.select(x.canonical_id, x.sent_hash).where(
            x.system == system, x.entity == entity, x.canonical_id.in_(chunk))
        found.update({r.canonical_id: r.sent_hash for r in conn.execute(stmt)})
        sole = sa.select(g.canonical_id, g.sole_sent_hash).where(g.sole_system == system, g.canonical_id.in_(chunk))
        found.update({r.canonical_id: r.sole_sent_hash for r in conn.execute(sole)})
    return found


def of_records(conn: sa.Connection, canonical_ids: Sequence[str]) -> list[dict[str, Any]]:
    """Every link of ``canonical_ids`` (all systems) as xref rows, a sole-form record's own key first."""
    x = _XREF.c
    rows: list[dict[str, Any]] = []
    for chunk in batches(conn, canonical_ids):
        for entity in ENTITIES:
            g = TABLES[entity].c
            stmt = among(conn, sa.select(g.canonical_id, g.sole_system, g.sole_vendor_id, g.sole_sent_hash, g.status,
                                         g.updated_at, g.version).where(g.sole_system.is_not(None)),
                         g.canonical_id, chunk)
            sole = conn.execute(stmt).all()
            linked = _first_versions(conn, entity, [r.canonical_id for r in sole if r.version > 1])
            rows += [{**_SOLE_LINK, "system": r.sole_system, "entity": entity, "vendor_id": r.sole_vendor_id,
                      "canonical_id": r.canonical_id, "sent_hash": r.sole_sent_hash,
                      "created_at": linked.get(r.canonical_id, r.updated_at),
                      "erased_at": r.updated_at if r.status == "erased" else None} for r in sole]
        stmt = among(conn, sa.select(_XREF), x.canonical_id, chunk).order_by(x.created_at, x.id)
        rows += list(dicts(conn.execute(stmt)))
    return rows


def link(conn: sa.Connection, system: str, entity: str, rows: Sequence[tuple[str, str, str, float | None]]) -> None:
    """Create cross-references: (vendor id, canonical id, linked by, match score) per row."""
    if not rows:
        return
    count = len(rows)
    vids, cids, how, scores = zip(*rows)
    batch = pa.RecordBatch.from_pydict({
        "system": pa.array([system] * count, pa.string()), "entity": pa.array([entity] * count, pa.string()),
        "vendor_id": pa.array(vids, pa.string()), "canonical_id": pa.array(cids, pa.string()),
        "linked_by": pa.array(how, pa.string()), "match_score": pa.array(scores, pa.float64()),
    })
    bulk_write(conn, _XREF, batch, WriteMode.APPEND, ())


def set_sent_hashes(conn: sa.Connection, system: str, entity: str, hashes: dict[str, str]) -> None:
    """Remember, per vendor id, the hash of the values ``system`` holds (the hub just wrote or read them)."""
    if not hashes:
        return
    x = _XREF.c
    stmt = (sa.update(_XREF).where(x.system == system, x.entity == entity, x.vendor_id == sa.bindparam("vid"))
            .values(sent_hash=sa.bindparam("h")))
    params = [{"vid": vid, "h": h} for vid, h in hashes.items()]
    conn.execute(stmt, params)
    g = TABLES[entity]
    conn.execute(sa.update(g).where(g.c.sole_system == system, g.c.sole_vendor_id == sa.bindparam("vid"))
                 .values(sole_sent_hash=sa.bindparam("h")), params)


def move(conn: sa.Connection, entity: str, pairs: Sequence[tuple[str, str]], canonical_id: str) -> None:
    """Re-point the cross-references of (system, vendor id) ``pairs`` at ``canonical_id``."""
    x = _XREF.c
    for system, vendor_id in pairs:
        conn.execute(sa.update(_XREF).where(x.system == system, x.entity == entity, x.vendor_id == vendor_id)
                     .values(canonical_id=canonical_id))


def mark_erased(conn: sa.Connection, entity: str, canonical_id: str, at: datetime) -> int:
    """Mark every link of an erased record, so its systems' copies are never ingested again."""
    x = _XREF.c
    return conn.execute(sa.update(_XREF).where(x.entity == entity, x.canonical_id == canonical_id)
                        .values(erased_at=at, sent_hash=None)).rowcount


def _first_versions(conn: sa.Connection, entity: str, canonical_ids: Sequence[str]) -> dict[str, Any]:
    """When each record's first version was written: when its sole system's record was linked to it."""
    if not canonical_ids:
        return {}
    first = _first_version_times(conn, entity, list(canonical_ids))
    return dict(conn.execute(sa.select(first.c.canonical_id, first.c.at)).all())


def _first_version_times(conn: sa.Connection, entity: str, canonical_ids: list[str]) -> sa.Subquery:
    """(canonical id, ``at``: when its first archived version was written) of those of ``canonical_ids`` with history."""
    h = TABLES[history_table_name(entity)].c
    stmt = sa.select(h.canonical_id, sa.func.min(h.updated_at).label("at"))
    return among(conn, stmt, h.canonical_id, canonical_ids).group_by(h.canonical_id).subquery("first_version")


def layer(conn: sa.Connection, entity: str, canonical_ids: Sequence[str]) -> list[str]:
    """Give sole-form records among ``canonical_ids`` the layered form: a source row and a cross-reference.

    Called before a second system's record is linked to a record, before a merge and before
    its system deletes it: the golden row's values and ``sole_*`` bookkeeping become the sole
    system's copy and link, and the ``sole_*`` columns are cleared (ADR 0018). Returns the
    canonical ids that were in the sole form.

    Set-based: the copies and links are inserted from the golden rows by the database, so
    no value travels to Python and back (a second system linking to 10,000 records is three
    statements, not 20,000 rows sent).
    """
    g = TABLES[entity]
    source = TABLES[source_table_name(entity)]
    values = entity_columns(entity)
    done: list[str] = []
    for chunk in batches(conn, canonical_ids):
        ids = list(conn.execute(among(conn, sa.select(g.c.canonical_id).where(
            g.c.sole_system.is_not(None), g.c.status != "erased"), g.c.canonical_id, chunk)).scalars())
        if not ids:
            continue
        copies = among(conn, sa.select(
            *[g.c[n] for n in values], g.c.sole_system, g.c.sole_vendor_id, g.c.canonical_id, g.c.content_hash,
            sa.func.coalesce(g.c.sole_changed_at, g.c.updated_at), g.c.run_id, g.c.sole_seen_run,
            sa.null()), g.c.canonical_id, ids)
        conn.execute(sa.insert(source).from_select(
            [*values, "system", "vendor_id", "canonical_id", "content_hash", "changed_at", "run_id", "seen_run",
             "deleted_at"], copies))
        # The link dates from the record's first version, as the sole form reported it.
        first = _first_version_times(conn, entity, ids)
        links = among(conn, sa.select(
            g.c.sole_system, sa.literal(entity), g.c.sole_vendor_id, g.c.canonical_id, sa.literal("new"),
            g.c.sole_sent_hash,
            sa.case((g.c.version > 1, sa.func.coalesce(first.c.at, g.c.updated_at)), else_=g.c.updated_at))
            .select_from(g.outerjoin(first, first.c.canonical_id == g.c.canonical_id)), g.c.canonical_id, ids)
        conn.execute(sa.insert(_XREF).from_select(
            ["system", "entity", "vendor_id", "canonical_id", "linked_by", "sent_hash", "created_at"], links))
        cleared = sa.update(g).values(sole_system=None, sole_vendor_id=None, sole_changed_at=None,
                                      sole_seen_run=None, sole_sent_hash=None)
        if conn.dialect.name == "postgresql":
            keys = unnested(key=(sorted(ids), g.c.canonical_id.type))
            conn.execute(cleared.where(g.c.canonical_id == keys.c.key))
        else:
            conn.execute(cleared.where(g.c.canonical_id.in_(ids)))
        done += ids
    return done
