"""Four eyes: a change one person proposes takes effect only when a second person signs it off.

A proposal (a policy change, a data subject's erasure) is kept with what would take
effect, the proposer's reason and its status. Another person — never the proposer —
approves it (then the caller carries it out, in the same transaction where it can) or
rejects it; the proposer may withdraw it. Each step is audited with the acting person,
the proposal's id and kind, never a value.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from officehub.canonical_model.errors import FatalError, NotFound
from officehub.engine.context import utc_now
from officehub.services.reasons import stated_reason
from officehub.store import audit
from officehub.store.schema import TABLES

KINDS = ("policy.change", "subject.erase")


class SameApprover(FatalError):
    """The person signing off is the one who proposed: a second person must."""


@dataclass(frozen=True)
class Proposal:
    """A change waiting for (or past) its second person."""

    id: int
    kind: str
    subject: str
    payload: dict[str, Any]
    reason: str
    status: str
    proposed_by: str
    proposed_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    outcome: dict[str, Any] | None

    @property
    def pending(self) -> bool:
        """Whether it still waits for a decision."""
        return self.status == "pending"


def propose(conn: sa.Connection, actor: str, kind: str, subject: str, payload: dict[str, Any], reason: str | None,
            detail: dict[str, Any] | None = None) -> Proposal:
    """Record a proposal; audited as ``<kind>.propose`` with ``detail`` (ids and counts only)."""
    if kind not in KINDS:
        raise FatalError(f"unknown kind of proposal '{kind}'")
    why = stated_reason(reason, "a proposal")
    table = TABLES["approval"]
    new_id = conn.execute(sa.insert(table).values(
        kind=kind, subject=subject, payload=payload, reason=why, proposed_by=actor,
        proposed_at=utc_now()).returning(table.c.id)).scalar_one()
    audit.append(conn, actor=actor, action=f"{kind}.propose", subject=subject,
                 detail={"proposal": new_id, "reason": why, **(detail or {})})
    return get(conn, new_id)


def get(conn: sa.Connection, proposal_id: int) -> Proposal:
    """Proposal ``proposal_id``; NotFound otherwise."""
    table = TABLES["approval"]
    row = conn.execute(sa.select(table).where(table.c.id == proposal_id)).mappings().first()
    if row is None:
        raise NotFound(f"no proposal {proposal_id}")
    return _from_row(row)


def listed(conn: sa.Connection, kind: str, *, pending_only: bool = False, limit: int = 100) -> list[Proposal]:
    """Proposals of ``kind``, newest first."""
    table = TABLES["approval"]
    query = sa.select(table).where(table.c.kind == kind).order_by(table.c.id.desc()).limit(limit)
    if pending_only:
        query = query.where(table.c.status == "pending")
    return [_from_row(r) for r in conn.execute(query).mappings()]


def last_id(conn: sa.Connection, kind: str, status: str) -> int | None:
    """The newest proposal of ``kind`` with ``status`` (what a process checks to see a change took effect)."""
    table = TABLES["approval"]
    found = conn.execute(sa.select(sa.func.max(table.c.id)).where(table.c.kind == kind, table.c.status == status))
    value = found.scalar()
    return int(value) if value is not None else None


def decide(conn: sa.Connection, actor: str, proposal_id: int, kind: str, *, approve: bool,
           outcome: dict[str, Any] | None = None) -> Proposal:
    """Approve or reject a pending proposal as a second person; audited as ``<kind>.approve``/``.reject``.

    The caller carries an approved change out in the same transaction (``outcome`` says what it did,
    ids and counts only); if that fails, the transaction — decision included — rolls back.
    """
    found = signable(conn, actor, proposal_id, kind)
    _close(conn, found, "approved" if approve else "rejected", actor, outcome)
    audit.append(conn, actor=actor, action=f"{kind}.{'approve' if approve else 'reject'}", subject=found.subject,
                 detail={"proposal": proposal_id, "proposed_by": found.proposed_by, **(outcome or {})})
    return get(conn, proposal_id)


def signable(conn: sa.Connection, actor: str, proposal_id: int, kind: str) -> Proposal:
    """The pending proposal ``actor`` may sign off; SameApprover when they proposed it.

    A change that cannot run inside one transaction (an erasure across systems) is checked with
    this first, carried out, then closed with :func:`decide` and what it did.
    """
    found = _pending(conn, proposal_id, kind)
    if found.proposed_by == actor:
        raise SameApprover("a second person must sign this off: you proposed it")
    return found


def withdraw(conn: sa.Connection, actor: str, proposal_id: int, kind: str) -> Proposal:
    """The proposer takes a pending proposal back; audited as ``<kind>.withdraw``."""
    found = _pending(conn, proposal_id, kind)
    if found.proposed_by != actor:
        raise FatalError("only the person who proposed it can withdraw it; others approve or reject")
    _close(conn, found, "withdrawn", actor, None)
    audit.append(conn, actor=actor, action=f"{kind}.withdraw", subject=found.subject, detail={"proposal": proposal_id})
    return get(conn, proposal_id)


def _pending(conn: sa.Connection, proposal_id: int, kind: str) -> Proposal:
    found = get(conn, proposal_id)
    if found.kind != kind:
        raise NotFound(f"no {kind} proposal {proposal_id}")
    if not found.pending:
        raise FatalError(f"proposal {proposal_id} is already {found.status}")
    return found


def _close(conn: sa.Connection, found: Proposal, status: str, actor: str, outcome: dict[str, Any] | None) -> None:
    table = TABLES["approval"]
    done = conn.execute(sa.update(table).where(table.c.id == found.id, table.c.status == "pending").values(
        status=status, decided_by=actor, decided_at=utc_now(), outcome=outcome))
    if done.rowcount != 1:  # decided by someone else between our read and this write
        raise FatalError(f"proposal {found.id} was decided meanwhile; reload it")


def _from_row(row: Any) -> Proposal:
    return Proposal(id=row["id"], kind=row["kind"], subject=row["subject"], payload=row["payload"],
                    reason=row["reason"], status=row["status"], proposed_by=row["proposed_by"],
                    proposed_at=row["proposed_at"], decided_by=row["decided_by"], decided_at=row["decided_at"],
                    outcome=row["outcome"])
