"""Runs, checkpoints, quarantine and the audit trail, on a caller's transaction."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa

from officehub.store.schema import hub_metadata

_T = hub_metadata().tables


def now() -> datetime:
    """The current moment in UTC."""
    return datetime.now(timezone.utc)


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
        records_deleted=0, records_linked=0,
    ))
    return result.inserted_primary_key[0]


def record_progress(conn: sa.Connection, run_id: int, metrics: RunMetrics) -> None:
    """Store the run's figures so far (in the same transaction as the batch they describe)."""
    conn.execute(sa.update(_T["run"]).where(_T["run"].c.id == run_id).values(**asdict(metrics)))


def finish_run(conn: sa.Connection, run_id: int, status: str, error: str | None = None) -> None:
    """Mark a run succeeded or failed."""
    conn.execute(sa.update(_T["run"]).where(_T["run"].c.id == run_id)
                 .values(status=status, finished_at=now(), error=error))


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
    """A record that did not make it, with why and where from."""

    position: str
    reason: str
    raw: dict[str, Any]


def quarantine(conn: sa.Connection, run_id: int, pipeline: str, system: str, stream: str,
               items: list[Quarantined]) -> int:
    """Keep bad records with their reason and source position; returns how many are new.

    A record already waiting in the quarantine (same position, reason and raw
    values, e.g. a bad row met again in the next full snapshot) is not added twice.
    """
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
        conn.execute(sa.insert(table), [
            {"run_id": run_id, "pipeline": pipeline, "system": system, "stream": stream,
             "position": q.position, "reason": q.reason, "raw": q.raw, "status": "open"} for q in new
        ])
    return len(new)


def list_quarantine(conn: sa.Connection, pipeline: str | None = None, status: str | None = "open",
                    limit: int = 100) -> list[dict[str, Any]]:
    """Quarantined records, oldest first, without their raw values."""
    table = _T["quarantine"]
    stmt = sa.select(*(c for c in table.c if c.name != "raw")).order_by(table.c.id).limit(limit)
    if pipeline:
        stmt = stmt.where(table.c.pipeline == pipeline)
    if status:
        stmt = stmt.where(table.c.status == status)
    return [dict(r._mapping) for r in conn.execute(stmt)]


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


def resolve_quarantined(conn: sa.Connection, item_ids: list[int], run_id: int) -> None:
    """Mark records as replayed successfully by ``run_id``."""
    if item_ids:
        table = _T["quarantine"]
        conn.execute(sa.update(table).where(table.c.id.in_(item_ids))
                     .values(status="replayed", resolved_run_id=run_id))


def requarantine(conn: sa.Connection, item_id: int, reason: str) -> None:
    """Update the reason of a record that failed again on replay."""
    conn.execute(sa.update(_T["quarantine"]).where(_T["quarantine"].c.id == item_id).values(reason=reason))
