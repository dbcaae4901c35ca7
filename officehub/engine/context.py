"""Who acts, in which run, on which hub-store transaction, at what moment: one object for all four.

Every step of a run and every audited operation needs the same four things besides its
data. Passed as one :class:`RunContext`, a step's signature names only what it works on,
and a test (or a replay) can fix the clock in one place.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import sqlalchemy as sa


def utc_now() -> datetime:
    """The current moment in UTC (the default clock)."""
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """``moment`` in UTC; a time without a zone is UTC (SQLite hands back naive times the hub wrote in UTC)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@dataclass(frozen=True)
class RunContext:
    """The hub-store connection, run, actor and clock that a step or an operation works with.

    ``actor`` is who the audit trail and the record history name: ``"user:<login>"`` for a
    person, ``"<system> (pipeline <name>)"`` for an ingest. ``run_id`` is None for an
    operation outside a run (a steward's decision, a reveal, a subject request).
    """

    conn: sa.Connection
    actor: str
    run_id: int | None = None
    clock: Callable[[], datetime] = utc_now

    def now(self) -> datetime:
        """The current moment by this context's clock."""
        return self.clock()

    def on(self, conn: sa.Connection) -> RunContext:
        """The same run, actor and clock on another transaction's connection."""
        return replace(self, conn=conn)
