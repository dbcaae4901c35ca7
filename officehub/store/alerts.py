"""Alert incidents in the hub store, and the run figures alert rules are judged on.

An incident is one (rule, subject) condition from the moment it appeared (``opened_at``) until it
cleared (``closed_at``); ``sent_at`` and ``resolved_sent_at`` say when every channel had its opening
and its closing message. ``detail`` holds the figures (ids, counts, reasons) and the channels that
already had each message, so a retry sends only to those that did not.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from officehub.store.schema import TABLES

_T = TABLES
#: Runs that ended (a running or interrupted run says nothing about the pipeline's health yet).
FINISHED = ("succeeded", "failed")


def open_incidents(conn: sa.Connection) -> list[dict[str, Any]]:
    """Every incident not closed yet, oldest first."""
    table = _T["alert_incident"]
    rows = conn.execute(sa.select(table).where(table.c.closed_at.is_(None)).order_by(table.c.id))
    return [dict(r._mapping) for r in rows]


def open_incident(conn: sa.Connection, rule: str, subject: str, detail: dict[str, Any], at: datetime) -> int:
    """Record a new incident of ``rule`` about ``subject``; returns its id."""
    table = _T["alert_incident"]
    inserted = conn.execute(sa.insert(table).values(rule=rule, subject=subject, opened_at=at, detail=detail))
    return int(inserted.inserted_primary_key[0])


def update_detail(conn: sa.Connection, incident_id: int, detail: dict[str, Any]) -> None:
    """Replace an incident's detail (newer figures, the channels that had a message)."""
    table = _T["alert_incident"]
    conn.execute(sa.update(table).where(table.c.id == incident_id).values(detail=detail))


def close_incident(conn: sa.Connection, incident_id: int, at: datetime) -> None:
    """Mark an incident's condition as cleared at ``at``."""
    table = _T["alert_incident"]
    conn.execute(sa.update(table).where(table.c.id == incident_id).values(closed_at=at))


def mark_sent(conn: sa.Connection, incident_id: int, message: str, at: datetime) -> None:
    """Every channel had the incident's ``opened`` or ``resolved`` message at ``at``."""
    table = _T["alert_incident"]
    column = "sent_at" if message == "opened" else "resolved_sent_at"
    conn.execute(sa.update(table).where(table.c.id == incident_id).values({column: at}))


def unsent(conn: sa.Connection, resolved_since: datetime | None) -> list[dict[str, Any]]:
    """Incidents with a message not yet delivered everywhere, oldest first: open ones not sent, and (when
    ``resolved_since`` is given) ones sent, then closed since that moment, whose closing was not sent."""
    table = _T["alert_incident"]
    waiting = sa.and_(table.c.closed_at.is_(None), table.c.sent_at.is_(None))
    if resolved_since is not None:
        waiting = sa.or_(waiting, sa.and_(table.c.closed_at >= resolved_since, table.c.sent_at.is_not(None),
                                          table.c.resolved_sent_at.is_(None)))
    return [dict(r._mapping) for r in conn.execute(sa.select(table).where(waiting).order_by(table.c.id))]


def incidents(conn: sa.Connection, *, open_only: bool = False, limit: int = 100) -> list[dict[str, Any]]:
    """The newest incidents (open ones only, when asked), newest first."""
    table = _T["alert_incident"]
    stmt = sa.select(table).order_by(table.c.id.desc()).limit(limit)
    if open_only:
        stmt = stmt.where(table.c.closed_at.is_(None))
    return [dict(r._mapping) for r in conn.execute(stmt)]


def finished_runs(conn: sa.Connection, pipeline: str, limit: int, status: str | None = None) -> list[dict[str, Any]]:
    """The newest runs of ``pipeline`` that ended (with ``status`` only, when given), newest first."""
    run = _T["run"]
    stmt = (sa.select(run).where(run.c.pipeline == pipeline, run.c.status.in_((status,) if status else FINISHED))
            .order_by(run.c.id.desc()).limit(limit))
    return [dict(r._mapping) for r in conn.execute(stmt)]
