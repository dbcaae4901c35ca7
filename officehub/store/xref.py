"""Cross-references: (system, entity, vendor id) ↔ canonical id."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple

import pyarrow as pa
import sqlalchemy as sa

from officehub.arrowsql.bulk import bulk_write
from officehub.arrowsql.modes import WriteMode
from officehub.store.schema import hub_metadata
from officehub.store.select import among, batches, chunks

_XREF = hub_metadata().tables["xref"]


class Link(NamedTuple):
    """One system's record linked to a golden record (a tuple: an incremental batch makes thousands)."""

    canonical_id: str
    sent_hash: str | None = None
    erased: bool = False



def lookup(conn: sa.Connection, system: str, entity: str, vendor_ids: Sequence[str]) -> dict[str, str]:
    """Known canonical ids of ``vendor_ids`` in ``system``."""
    return {vid: link.canonical_id for vid, link in links(conn, system, entity, vendor_ids).items()}


def links(conn: sa.Connection, system: str, entity: str, vendor_ids: Sequence[str]) -> dict[str, Link]:
    """Known links of ``vendor_ids`` in ``system``, with their echo hash and erasure mark."""
    found: dict[str, Link] = {}
    x = _XREF.c
    for chunk in batches(conn, vendor_ids):
        stmt = among(conn, sa.select(x.vendor_id, x.canonical_id, x.sent_hash, x.erased_at).where(
            x.system == system, x.entity == entity), x.vendor_id, chunk)
        found.update({r.vendor_id: Link(r.canonical_id, r.sent_hash, r.erased_at is not None)
                      for r in conn.execute(stmt)})
    return found


def vendor_ids_of(conn: sa.Connection, system: str, entity: str, canonical_ids: Sequence[str],
                  include_erased: bool = False) -> dict[str, str]:
    """This system's vendor id of each canonical id it holds (erased links left out unless asked for)."""
    found: dict[str, str] = {}
    x = _XREF.c
    for chunk in chunks(canonical_ids):
        stmt = sa.select(x.canonical_id, x.vendor_id).where(
            x.system == system, x.entity == entity, x.canonical_id.in_(chunk))
        if not include_erased:
            stmt = stmt.where(x.erased_at.is_(None))
        found.update({r.canonical_id: r.vendor_id for r in conn.execute(stmt)})
    return found


def sent_hashes(conn: sa.Connection, system: str, entity: str, canonical_ids: Sequence[str]) -> dict[str, str | None]:
    """The echo hash of what the hub last wrote to ``system``, by canonical id."""
    found: dict[str, str | None] = {}
    x = _XREF.c
    for chunk in chunks(canonical_ids):
        stmt = sa.select(x.canonical_id, x.sent_hash).where(
            x.system == system, x.entity == entity, x.canonical_id.in_(chunk))
        found.update({r.canonical_id: r.sent_hash for r in conn.execute(stmt)})
    return found


def of_records(conn: sa.Connection, canonical_ids: Sequence[str]) -> list[dict[str, Any]]:
    """Every cross-reference of ``canonical_ids`` (all systems), oldest first."""
    x = _XREF.c
    rows: list[dict[str, Any]] = []
    for chunk in chunks(canonical_ids):
        stmt = sa.select(_XREF).where(x.canonical_id.in_(chunk)).order_by(x.created_at, x.id)
        rows += [dict(r._mapping) for r in conn.execute(stmt)]
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
    conn.execute(stmt, [{"vid": vid, "h": h} for vid, h in hashes.items()])


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
