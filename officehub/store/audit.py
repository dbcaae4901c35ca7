"""The audit trail: append-only entries chained by SHA-256, and their verification.

Each entry's hash covers its content and the previous entry's hash, so editing,
deleting or reordering any entry breaks the chain from that point on.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa

from officehub.store.schema import hub_metadata

_AUDIT = hub_metadata().tables["audit"]
GENESIS = "0" * 64


def _moment() -> datetime:
    # Whole seconds: every supported database stores them exactly, so hashes re-compute.
    return datetime.now(timezone.utc).replace(microsecond=0)


def _as_utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def entry_hash(prev_hash: str, at: datetime, run_id: int | None, actor: str, action: str, subject: str,
               detail: dict[str, Any]) -> str:
    """The hash of one entry, chained to the previous one."""
    body = {"at": _as_utc(at).isoformat(), "run_id": run_id, "actor": actor, "action": action,
            "subject": subject, "detail": detail}
    canonical = json.dumps(body, sort_keys=True, default=str, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256((prev_hash + canonical).encode()).hexdigest()


def append(conn: sa.Connection, *, actor: str, action: str, subject: str, detail: dict[str, Any],
           run_id: int | None = None) -> str:
    """Append an entry chained to the newest one; returns its hash."""
    # Reading the head and inserting in one transaction; the unique hash column makes a
    # concurrent append that read the same head fail instead of forking the chain.
    prev = conn.execute(sa.select(_AUDIT.c.hash).order_by(_AUDIT.c.id.desc()).limit(1)).scalar() or GENESIS
    at = _moment()
    digest = entry_hash(prev, at, run_id, actor, action, subject, detail)
    conn.execute(sa.insert(_AUDIT).values(at=at, run_id=run_id, actor=actor, action=action, subject=subject,
                                          detail=detail, prev_hash=prev, hash=digest))
    return digest


def last_detail(conn: sa.Connection, action: str, subject: str) -> dict[str, Any] | None:
    """The detail of the newest entry with this action and subject."""
    return conn.execute(sa.select(_AUDIT.c.detail).where(_AUDIT.c.action == action, _AUDIT.c.subject == subject)
                        .order_by(_AUDIT.c.id.desc()).limit(1)).scalar()


def entries(conn: sa.Connection, action: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
    """Newest entries first."""
    stmt = sa.select(_AUDIT).order_by(_AUDIT.c.id.desc()).limit(limit)
    if action:
        stmt = stmt.where(_AUDIT.c.action == action)
    return [dict(r._mapping) for r in conn.execute(stmt)]


@dataclass(frozen=True)
class Verification:
    """The outcome of checking the chain."""

    entries: int
    head: str
    broken_at: int | None = None
    problem: str | None = None

    @property
    def ok(self) -> bool:
        """True when every entry verified."""
        return self.broken_at is None


def verify(conn: sa.Connection) -> Verification:
    """Walk the chain in order; report the first entry that was edited, removed or moved."""
    prev, count = GENESIS, 0
    for row in conn.execute(sa.select(_AUDIT).order_by(_AUDIT.c.id)):
        count += 1
        if row.prev_hash != prev:
            return Verification(count, prev, row.id, "does not follow the entry before it (removed or reordered)")
        expected = entry_hash(prev, row.at, row.run_id, row.actor, row.action, row.subject, row.detail)
        if row.hash != expected:
            return Verification(count, prev, row.id, "content does not match its hash (edited)")
        prev = row.hash
    return Verification(count, prev)
