"""Aggregate figures of the hub store for monitoring: a handful of GROUP BY queries, never a record's value.

Each function answers in one query, or a few primary-key probes and one bounded read of the audit
trail: a scrape costs the same whether the hub holds a thousand records or ten million, and grows only
with the number of runs (one pass over the run table, whose rows are runs, not records).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from officehub.store.schema import TABLES

_T = TABLES
#: The figures of the run table that only grow, summed over every run of a pipeline.
RUN_FIGURES = ("records_read", "records_written", "records_unchanged", "records_quarantined", "records_deleted",
               "records_linked", "fields_redacted", "fields_flagged", "fields_nulled")
#: Audit entries of a run are searched from a little before it started to a little after it ended: the
#: clocks of the processes that append them (workers on several hosts) may differ by this much.
CLOCK_SLACK = timedelta(minutes=5)


def utc(moment: datetime) -> datetime:
    """``moment`` in UTC (SQLite gives back naive datetimes, stored in UTC)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@dataclass(frozen=True)
class LastRun:
    """A pipeline's newest finished run: its id, outcome and when it started and ended."""

    pipeline: str
    kind: str
    run_id: int
    status: str
    started_at: datetime
    finished_at: datetime | None

    @property
    def seconds(self) -> float | None:
        """How long it ran, if it is known to have ended."""
        return None if self.finished_at is None else (utc(self.finished_at) - utc(self.started_at)).total_seconds()


@dataclass(frozen=True)
class RunGroup:
    """The runs of one pipeline that ended one way (or are running): how many, their summed figures, the
    newest one's id, and when the last of them ended."""

    pipeline: str
    kind: str
    status: str
    runs: int
    figures: dict[str, int]
    newest_id: int
    last_finished_at: datetime | None


def run_groups(conn: sa.Connection) -> list[RunGroup]:
    """Every (pipeline, kind, status) of the run table with its figures: one pass over the table, whose
    rows are runs (a few a day per pipeline), never records."""
    run = _T["run"]
    sums = [sa.func.coalesce(sa.func.sum(run.c[name]), 0).label(name) for name in RUN_FIGURES]
    stmt = sa.select(run.c.pipeline, run.c.kind, run.c.status, sa.func.count().label("runs"), *sums,
                     sa.func.max(run.c.id).label("newest_id"), sa.func.max(run.c.finished_at).label("last_at")) \
        .group_by(run.c.pipeline, run.c.kind, run.c.status)
    return [RunGroup(r.pipeline, r.kind, r.status, int(r.runs), {name: int(r._mapping[name]) for name in RUN_FIGURES},
                     int(r.newest_id), r.last_at) for r in conn.execute(stmt)]


def last_runs(conn: sa.Connection, groups: Sequence[RunGroup]) -> list[LastRun]:
    """Each pipeline's newest run that is no longer running, looked up by id among ``groups``' newest."""
    newest: dict[str, int] = {}
    for g in groups:
        if g.status != "running":
            newest[g.pipeline] = max(newest.get(g.pipeline, 0), g.newest_id)
    run = _T["run"]
    stmt = sa.select(run.c.pipeline, run.c.kind, run.c.id, run.c.status, run.c.started_at, run.c.finished_at) \
        .where(run.c.id.in_(sorted(newest.values())))
    return [LastRun(r.pipeline, r.kind, r.id, r.status, r.started_at, r.finished_at) for r in conn.execute(stmt)]


def open_quarantine(conn: sa.Connection) -> dict[str, int]:
    """How many quarantine entries wait (status open), per pipeline."""
    table = _T["quarantine"]
    stmt = sa.select(table.c.pipeline, sa.func.count()).where(table.c.status == "open").group_by(table.c.pipeline)
    return {pipeline: int(n) for pipeline, n in conn.execute(stmt)}


def pending_reviews(conn: sa.Connection) -> dict[str, int]:
    """How many pairs wait in the review queue, per entity."""
    table = _T["match_review"]
    stmt = sa.select(table.c.entity, sa.func.count()).where(table.c.status == "pending").group_by(table.c.entity)
    return {entity: int(n) for entity, n in conn.execute(stmt)}


def withheld_by_field(conn: sa.Connection, runs: Sequence[LastRun]) -> dict[int, dict[tuple[str, str], int]]:
    """Per run of ``runs`` (publishes): values each policy action touched, by (field path, action).

    Read from the runs' ``publish`` audit entries (counts, never values). The audit trail has no index
    on its run id, so each run's entries are found between two ids probed by time (a binary search on
    the primary key), not by scanning the trail.
    """
    table = _T["audit"]
    found: dict[int, dict[tuple[str, str], int]] = {r.run_id: {} for r in runs}
    for r in runs:
        first = _first_id_since(conn, utc(r.started_at) - CLOCK_SLACK)
        stmt = sa.select(table.c.detail).where(table.c.id >= first, table.c.action == "publish",
                                               table.c.run_id == r.run_id)
        if r.finished_at is not None:
            stmt = stmt.where(table.c.id < _first_id_since(conn, utc(r.finished_at) + CLOCK_SLACK))
        for (detail,) in conn.execute(stmt):
            _add_fields(found[r.run_id], detail)
    return found


def _add_fields(into: dict[tuple[str, str], int], detail: dict[str, Any] | None) -> None:
    for path, actions in ((detail or {}).get("fields") or {}).items():
        for action, count in actions.items():
            into[(path, action)] = into.get((path, action), 0) + int(count)


def _first_id_since(conn: sa.Connection, moment: datetime) -> int:
    """The smallest audit id whose entry was appended at or after ``moment`` (one past the last if none was)."""
    table = _T["audit"]
    # Two statements: SQLite answers a lone min() or max() from the primary key, both together by a scan.
    low = conn.execute(sa.select(sa.func.min(table.c.id))).scalar()
    if low is None:
        return 0
    high = conn.execute(sa.select(sa.func.max(table.c.id))).scalar_one() + 1
    while low < high:  # the entries' times grow with their ids (each is chained to the one before it)
        middle = (low + high) // 2
        row = conn.execute(sa.select(table.c.id, table.c.at).where(table.c.id >= middle)
                           .order_by(table.c.id).limit(1)).first()
        if row is None or utc(row.at) >= moment:
            high = middle
        else:
            low = row.id + 1
    return int(low)
