"""Identity bookkeeping: the match-key index, the review queue and the link log."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import pyarrow as pa
import sqlalchemy as sa

from officehub.arrowsql.bulk import bulk_write
from officehub.arrowsql.modes import WriteMode
from officehub.store.bookkeeping import now
from officehub.store.schema import TABLES
from officehub.store.select import among, batches, unnested

_T = TABLES
_CHUNK = 2_000


# -- match keys ---------------------------------------------------------------------------
def replace_keys(conn: sa.Connection, entity: str, keys: dict[str, list[tuple[str, str]]]) -> None:
    """Set the match keys of each canonical id (an empty list removes them).

    The old keys go in one statement per batch of ids (on PostgreSQL the ids travel as one
    array) and the new ones in bulk (COPY on PostgreSQL), rather than a statement per key.
    """
    table = _T["match_key"]
    for chunk in batches(conn, list(keys)):
        gone = sa.delete(table).where(table.c.entity == entity)
        if conn.dialect.name == "postgresql":
            ids = unnested(key=(sorted(chunk), table.c.canonical_id.type))
            conn.execute(gone.where(table.c.canonical_id == ids.c.key))
        else:
            conn.execute(gone.where(table.c.canonical_id.in_(chunk)))
    add_keys(conn, entity, keys)


def clear_keys(conn: sa.Connection, entity: str) -> None:
    """Remove every match key of ``entity`` (before rebuilding them all with :func:`add_keys`)."""
    table = _T["match_key"]
    conn.execute(sa.delete(table).where(table.c.entity == entity))


def add_keys(conn: sa.Connection, entity: str, keys: dict[str, list[tuple[str, str]]]) -> None:
    """Add match keys for canonical ids that have none (in bulk; COPY on PostgreSQL)."""
    table = _T["match_key"]
    rows = [(k, v[:400], cid) for cid, pairs in keys.items() for k, v in dict.fromkeys(pairs)]
    if rows:
        names, values, ids = zip(*rows, strict=True)
        bulk_write(conn, table, pa.RecordBatch.from_pydict({
            "entity": pa.array([entity] * len(rows), pa.string()), "key": pa.array(names, pa.string()),
            "value": pa.array(values, pa.string()), "canonical_id": pa.array(ids, pa.string())}),
            WriteMode.APPEND, ())


def candidates(conn: sa.Connection, entity: str, pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], set[str]]:
    """Canonical ids sharing each (key, normalised value) pair."""
    table = _T["match_key"]
    wanted = list(dict.fromkeys((k, v[:400]) for k, v in pairs))
    found: dict[tuple[str, str], set[str]] = {}
    by_key: dict[str, list[str]] = {}
    for k, v in wanted:
        by_key.setdefault(k, []).append(v)
    for key, values in by_key.items():
        for chunk in batches(conn, values):
            stmt = among(conn, sa.select(table.c.value, table.c.canonical_id).where(
                table.c.entity == entity, table.c.key == key), table.c.value, chunk)
            for row in conn.execute(stmt):
                found.setdefault((key, row.value), set()).add(row.canonical_id)
    return found


# -- review queue ---------------------------------------------------------------------------
def add_reviews(conn: sa.Connection, entity: str, pairs: Sequence[dict[str, Any]], run_id: int | None) -> None:
    """Queue pairs for a data steward: dicts of canonical_id, candidate_id, score, evidence."""
    if pairs:
        conn.execute(sa.insert(_T["match_review"]),
                     [{"entity": entity, "status": "pending", "run_id": run_id, **p} for p in pairs])


def reviews(conn: sa.Connection, status: str | None = "pending", entity: str | None = None) -> list[dict[str, Any]]:
    """Review-queue entries, oldest first."""
    table = _T["match_review"]
    stmt = sa.select(table).order_by(table.c.id)
    if status:
        stmt = stmt.where(table.c.status == status)
    if entity:
        stmt = stmt.where(table.c.entity == entity)
    return [dict(r._mapping) for r in conn.execute(stmt)]


def count_reviews(conn: sa.Connection, status: str = "pending") -> int:
    """How many review-queue entries have ``status``."""
    table = _T["match_review"]
    return conn.execute(sa.select(sa.func.count()).select_from(table).where(table.c.status == status)).scalar_one()


def pending_ids(conn: sa.Connection, canonical_ids: Sequence[str]) -> set[str]:
    """Which of ``canonical_ids`` wait in the review queue as a possible duplicate of another record."""
    table = _T["match_review"]
    found: set[str] = set()
    ids = list(dict.fromkeys(canonical_ids))
    for start in range(0, len(ids), _CHUNK):
        stmt = sa.select(table.c.canonical_id).where(table.c.status == "pending",
                                                     table.c.canonical_id.in_(ids[start:start + _CHUNK]))
        found.update(r.canonical_id for r in conn.execute(stmt))
    return found


def review(conn: sa.Connection, review_id: int) -> dict[str, Any] | None:
    """One review-queue entry."""
    table = _T["match_review"]
    row = conn.execute(sa.select(table).where(table.c.id == review_id)).first()
    return dict(row._mapping) if row else None


def decide(conn: sa.Connection, review_id: int, status: str, actor: str) -> None:
    """Close a review-queue entry as linked or rejected."""
    table = _T["match_review"]
    conn.execute(sa.update(table).where(table.c.id == review_id)
                 .values(status=status, decided_at=now(), decided_by=actor))


def obsolete_reviews(conn: sa.Connection, canonical_ids: Sequence[str]) -> None:
    """Pending pairs that involve records no longer there (merged, erased) need no decision."""
    table = _T["match_review"]
    ids = list(canonical_ids)
    conn.execute(sa.update(table).where(table.c.status == "pending", sa.or_(
        table.c.canonical_id.in_(ids), table.c.candidate_id.in_(ids))).values(status="obsolete", decided_at=now()))


# -- link log -------------------------------------------------------------------------------
def log_link(conn: sa.Connection, entity: str, action: str, survivor_id: str, other_id: str,
             detail: dict[str, Any], actor: str) -> int:
    """Record a merge or unlink with what is needed to undo it; returns its id."""
    result = conn.execute(sa.insert(_T["link_log"]).values(
        entity=entity, action=action, survivor_id=survivor_id, other_id=other_id, detail=detail,
        actor=actor, at=now()))
    return result.inserted_primary_key[0]


def link_entries(conn: sa.Connection, canonical_id: str | None = None, entry_id: int | None = None,
                 open_only: bool = False) -> list[dict[str, Any]]:
    """Link-log entries about a record (as survivor or other), or one entry by id."""
    table = _T["link_log"]
    stmt = sa.select(table).order_by(table.c.id.desc())
    if entry_id is not None:
        stmt = stmt.where(table.c.id == entry_id)
    if canonical_id is not None:
        stmt = stmt.where(sa.or_(table.c.survivor_id == canonical_id, table.c.other_id == canonical_id))
    if open_only:
        stmt = stmt.where(table.c.undone_at.is_(None))
    return [dict(r._mapping) for r in conn.execute(stmt)]


def mark_undone(conn: sa.Connection, entry_id: int) -> None:
    """Note that a merge or unlink was reversed."""
    table = _T["link_log"]
    conn.execute(sa.update(table).where(table.c.id == entry_id).values(undone_at=now()))
