"""Runs, checkpoints, quarantine and the audit trail, on a caller's transaction."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from officehub.store.schema import TABLES
from officehub.store.select import chunks

#: Looked up when used, not at import: the tables follow the model a project installs.
_T = TABLES


def now() -> datetime:
    """The current moment in UTC."""
    return datetime.now(UTC)


@dataclass
class RunMetrics:
    """What one pipeline run did."""

    records_read: int = 0
    records_written: int = 0
    records_unchanged: int = 0
    records_quarantined: int = 0
    fields_redacted: int = 0
    records_deleted: int = 0
    records_linked: int = 0
    fields_flagged: int = 0
    fields_nulled: int = 0

    def add(self, other: RunMetrics) -> None:
        """Accumulate another batch's figures."""
        for name, value in asdict(other).items():
            setattr(self, name, getattr(self, name) + value)


# -- runs ---------------------------------------------------------------------------------
def start_run(conn: sa.Connection, pipeline: str, kind: str) -> int:
    """Record that a run started; returns its id.

    A run of the same pipeline still marked running was killed: it is marked interrupted.
    """
    table = _T["run"]
    conn.execute(sa.update(table).where(table.c.pipeline == pipeline, table.c.status == "running")
                 .values(status="interrupted", finished_at=now()))
    result = conn.execute(sa.insert(_T["run"]).values(
        pipeline=pipeline, kind=kind, status="running", started_at=now(),
        records_read=0, records_written=0, records_unchanged=0, records_quarantined=0, fields_redacted=0,
        records_deleted=0, records_linked=0, fields_flagged=0, fields_nulled=0,
    ))
    return result.inserted_primary_key[0]


def record_progress(conn: sa.Connection, run_id: int, metrics: RunMetrics) -> None:
    """Store the run's figures so far (in the same transaction as the batch they describe)."""
    conn.execute(sa.update(_T["run"]).where(_T["run"].c.id == run_id).values(**asdict(metrics)))


def finish_run(conn: sa.Connection, run_id: int, status: str, error: str | None = None) -> None:
    """Mark a run succeeded or failed."""
    conn.execute(sa.update(_T["run"]).where(_T["run"].c.id == run_id)
                 .values(status=status, finished_at=now(), error=error))


def get_run(conn: sa.Connection, run_id: int) -> dict[str, Any] | None:
    """One run with its figures, or None."""
    row = conn.execute(sa.select(_T["run"]).where(_T["run"].c.id == run_id)).first()
    return dict(row._mapping) if row else None


def list_runs(conn: sa.Connection, pipeline: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
    """Newest runs first."""
    stmt = sa.select(_T["run"]).order_by(_T["run"].c.id.desc()).limit(limit)
    if pipeline:
        stmt = stmt.where(_T["run"].c.pipeline == pipeline)
    return [dict(r._mapping) for r in conn.execute(stmt)]


# -- checkpoints ------------------------------------------------------------------------
def get_checkpoint(conn: sa.Connection, pipeline: str) -> dict[str, Any] | None:
    """The committed cursor of a pipeline, or None before its first run."""
    return conn.execute(sa.select(_T["checkpoint"].c.cursor).where(_T["checkpoint"].c.pipeline == pipeline)).scalar()


def set_checkpoint(conn: sa.Connection, pipeline: str, cursor: dict[str, Any] | None, run_id: int) -> None:
    """Commit a pipeline's cursor (call inside the transaction that stored the data)."""
    table = _T["checkpoint"]
    values = {"cursor": cursor, "run_id": run_id, "updated_at": now()}
    if conn.execute(sa.update(table).where(table.c.pipeline == pipeline).values(**values)).rowcount == 0:
        conn.execute(sa.insert(table).values(pipeline=pipeline, **values))


# -- quarantine ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Quarantined:
    """A record that did not make it, with why and where from (``vendor_id`` None when no key was readable)."""

    position: str
    reason: str
    raw: dict[str, Any]
    vendor_id: str | None = None


def quarantine(conn: sa.Connection, run_id: int, pipeline: str, system: str, stream: str,
               items: list[Quarantined]) -> int:
    """Keep bad records with their reason and source position; returns how many are new.

    A pipeline keeps one open entry per vendor record: a later bad read of the same
    record updates its entry (reason, raw, position, run). A row with no readable key
    is not added twice while an entry with the same position, reason and raw values waits.
    """
    if not items:
        return 0
    keyed = {q.vendor_id: q for q in items if q.vendor_id is not None}  # the last read of each record wins
    return (_quarantine_records(conn, run_id, pipeline, system, stream, keyed)
            + _quarantine_unkeyed(conn, run_id, pipeline, system, stream,
                                  [q for q in items if q.vendor_id is None]))


def _entry(run_id: int, pipeline: str, system: str, stream: str, q: Quarantined) -> dict[str, Any]:
    return {"run_id": run_id, "pipeline": pipeline, "system": system, "stream": stream, "vendor_id": q.vendor_id,
            "position": q.position, "reason": q.reason, "raw": q.raw, "status": "open"}


def _quarantine_records(conn: sa.Connection, run_id: int, pipeline: str, system: str, stream: str,
                        keyed: dict[str, Quarantined]) -> int:
    table = _T["quarantine"]
    waiting = _open_entries(conn, pipeline, list(keyed))
    for vendor_id, item_id in waiting.items():
        q = keyed[vendor_id]
        conn.execute(sa.update(table).where(table.c.id == item_id).values(
            run_id=run_id, position=q.position, reason=q.reason, raw=q.raw))
    new = [_entry(run_id, pipeline, system, stream, q) for v, q in keyed.items() if v not in waiting]
    if new:
        conn.execute(sa.insert(table), new)
    return len(new)


def _quarantine_unkeyed(conn: sa.Connection, run_id: int, pipeline: str, system: str, stream: str,
                        items: list[Quarantined]) -> int:
    if not items:
        return 0
    table = _T["quarantine"]
    waiting = {
        (r.position, r.reason, json.dumps(r.raw, sort_keys=True))
        for r in conn.execute(sa.select(table.c.position, table.c.reason, table.c.raw).where(
            table.c.pipeline == pipeline, table.c.status == "open",
            table.c.position.in_(list({q.position for q in items}))))
    }
    new = [q for q in items if (q.position, q.reason, json.dumps(q.raw, sort_keys=True)) not in waiting]
    if new:
        conn.execute(sa.insert(table), [_entry(run_id, pipeline, system, stream, q) for q in new])
    return len(new)


def _open_entries(conn: sa.Connection, pipeline: str, vendor_ids: list[str]) -> dict[str, int]:
    """The open entry of each of ``vendor_ids`` in ``pipeline``'s quarantine, by vendor id."""
    table = _T["quarantine"]
    found: dict[str, int] = {}
    for chunk in chunks(vendor_ids):
        found.update(conn.execute(sa.select(table.c.vendor_id, table.c.id).where(
            table.c.pipeline == pipeline, table.c.status == "open", table.c.vendor_id.in_(chunk))).all())
    return found


def close_arrived(conn: sa.Connection, pipeline: str, vendor_ids: list[str], run_id: int) -> int:
    """Close as ``resolved`` the open entries of records that have since arrived valid; returns how many."""
    table = _T["quarantine"]
    keyed_open = sa.select(table.c.id).where(table.c.pipeline == pipeline, table.c.status == "open",
                                             table.c.vendor_id.isnot(None)).limit(1)
    if not vendor_ids or conn.execute(keyed_open).first() is None:
        return 0  # the usual case: nothing of this pipeline waits, so the batch's ids need no look-up
    ids = list(_open_entries(conn, pipeline, vendor_ids).values())
    close_quarantined(conn, ids, run_id, "resolved")
    return len(ids)


def list_quarantine(conn: sa.Connection, pipeline: str | None = None, status: str | None = "open",
                    limit: int = 100, offset: int = 0, run_id: int | None = None) -> list[dict[str, Any]]:
    """Quarantined records, oldest first, without their raw values."""
    table = _T["quarantine"]
    stmt = sa.select(*(c for c in table.c if c.name != "raw")).order_by(table.c.id).limit(limit).offset(offset)
    return [dict(r._mapping) for r in conn.execute(_quarantine_filter(stmt, pipeline, status, run_id))]


def count_quarantine(conn: sa.Connection, pipeline: str | None = None, status: str | None = "open",
                     run_id: int | None = None) -> int:
    """How many quarantined records :func:`list_quarantine` pages through."""
    stmt = sa.select(sa.func.count()).select_from(_T["quarantine"])
    return conn.execute(_quarantine_filter(stmt, pipeline, status, run_id)).scalar_one()


def _quarantine_filter(stmt: sa.Select, pipeline: str | None, status: str | None, run_id: int | None) -> sa.Select:
    table = _T["quarantine"]
    if pipeline:
        stmt = stmt.where(table.c.pipeline == pipeline)
    if status:
        stmt = stmt.where(table.c.status == status)
    if run_id is not None:
        stmt = stmt.where(table.c.run_id == run_id)
    return stmt


def top_reasons(conn: sa.Connection, run_id: int, limit: int = 3) -> list[tuple[str, int]]:
    """The most frequent quarantine reasons of one run, with their counts (reasons name fields, never values)."""
    table = _T["quarantine"]
    count = sa.func.count().label("n")
    stmt = (sa.select(table.c.reason, count).where(table.c.run_id == run_id).group_by(table.c.reason)
            .order_by(count.desc(), table.c.reason).limit(limit))
    return [(r.reason, r.n) for r in conn.execute(stmt)]


def get_quarantined(conn: sa.Connection, item_id: int) -> dict[str, Any] | None:
    """One quarantined record, raw values included."""
    row = conn.execute(sa.select(_T["quarantine"]).where(_T["quarantine"].c.id == item_id)).first()
    return dict(row._mapping) if row else None


def close_quarantined(conn: sa.Connection, item_ids: list[int], run_id: int, status: str = "replayed") -> None:
    """Close entries: ``replayed`` (stored by a replay), ``resolved`` (the row arrived valid) or
    ``superseded`` (the hub already holds newer data of the record), by ``run_id``."""
    table = _T["quarantine"]
    for chunk in chunks(item_ids):
        conn.execute(sa.update(table).where(table.c.id.in_(chunk)).values(status=status, resolved_run_id=run_id))


def requarantine(conn: sa.Connection, item_id: int, reason: str) -> None:
    """Update the reason of a record that failed again on replay."""
    conn.execute(sa.update(_T["quarantine"]).where(_T["quarantine"].c.id == item_id).values(reason=reason))
