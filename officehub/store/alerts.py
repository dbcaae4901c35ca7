"""Alert incidents in the hub store, and the run figures alert rules are judged on.

An incident is one (rule, subject) condition from the moment it appeared (``opened_at``) until it
cleared (``closed_at``); ``sent_at`` and ``resolved_sent_at`` say when every channel had its opening
and its closing message. ``detail`` holds the figures (ids, counts, reasons) and the channels that
already had each message, so a retry sends only to those that did not.
"""

from __future__ import annotations

import fcntl
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from officehub.store.schema import TABLES

_T = TABLES
#: Runs that ended (a running or interrupted run says nothing about the pipeline's health yet).
FINISHED = ("succeeded", "failed")
#: The advisory lock alert checks take turns on (PostgreSQL; MySQL names it): no other lock of the hub uses it.
CHECK_LOCK = 0x0FF1CE_A1E7
_POLL_S = 0.1


@contextmanager
def checking_turn(engine: sa.Engine, wait_s: float) -> Iterator[bool]:
    """One alert check at a time per hub store: yields True once this one has the turn, False if another
    check kept it ``wait_s`` seconds. Two checks at once (a sync's and the scheduled one) would both find
    the same messages owed and send them twice; the second waits and then finds them sent.

    PostgreSQL and MySQL/MariaDB: a session lock on a connection of its own, so checks on other machines
    wait too; SQLite (one machine): a lock on a file beside the database.
    """
    deadline = time.monotonic() + wait_s
    dialect = engine.dialect.name
    if dialect == "sqlite":
        database = engine.url.database
        if not database or database == ":memory:":
            yield True
            return
        with open(Path(f"{database}.alerts.lock"), "a+b") as handle:
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        yield False
                        return
                    time.sleep(_POLL_S)
            try:
                yield True
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
        return
    take, give = ((sa.text("SELECT pg_try_advisory_lock(:key)"), sa.text("SELECT pg_advisory_unlock(:key)"))
                  if dialect == "postgresql" else
                  (sa.text("SELECT GET_LOCK(CONCAT('officehub.alerts.', :key), 0)"),
                   sa.text("SELECT RELEASE_LOCK(CONCAT('officehub.alerts.', :key))")))
    with engine.connect() as conn:
        while not conn.execute(take, {"key": CHECK_LOCK}).scalar():
            conn.rollback()  # no transaction stays open while waiting
            if time.monotonic() >= deadline:
                yield False
                return
            time.sleep(_POLL_S)
        conn.commit()
        try:
            yield True
        finally:
            conn.execute(give, {"key": CHECK_LOCK})
            conn.commit()


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
