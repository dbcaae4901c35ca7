"""Erasures with four eyes: one compliance officer proposes a data subject's erasure, another signs it off.

A proposal is made after a dry run, so the proposer sees which systems would delete and
whether a legal hold refuses; its audit entry holds counts only. The second person's
approval runs the erasure across the systems (in transactions of its own, audited by the
engine as ``subject.erase`` or ``subject.erase.refused``) and then closes the proposal with
what it did: a status, counts and ids, never a value.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from officehub.canonical_model.errors import FatalError
from officehub.config import Project
from officehub.engine.context import RunContext
from officehub.engine.subjects import locate
from officehub.services import approvals, subjects
from officehub.services.approvals import Proposal
from officehub.services.session import acting
from officehub.services.subjects import ErasureReport
from officehub.store.hub import HubStore

__all__ = ["KIND", "Decided", "approve", "of_subject", "pending", "preview", "propose", "reject", "withdraw"]

KIND = "subject.erase"
#: Statuses after which there is nothing left to erase.
_GONE = ("erased", "purged")
#: How many proposals a listing reads at most.
_LIMIT = 1000


@dataclass(frozen=True)
class Decided:
    """An approved erasure: the closed proposal, and the engine's report (None when it was already erased)."""

    proposal: Proposal
    report: ErasureReport | None


def preview(project: Project, store: HubStore, actor: str, canonical_id: str) -> ErasureReport | None:
    """What an erasure would do now (nothing is changed or audited); None when the record is already gone."""
    with acting(store, actor) as ctx:
        _, row = locate(ctx.conn, canonical_id)
    if row["status"] in _GONE:
        return None
    return subjects.erase(project, store, actor, canonical_id, dry_run=True)


def pending(ctx: RunContext) -> list[Proposal]:
    """Erasures waiting for a second person, newest first."""
    return approvals.listed(ctx.conn, KIND, pending_only=True, limit=_LIMIT)


def of_subject(ctx: RunContext, canonical_id: str) -> list[Proposal]:
    """Every erasure proposed for ``canonical_id`` (pending or decided), newest first."""
    return [p for p in approvals.listed(ctx.conn, KIND, limit=_LIMIT) if p.payload.get("canonical_id") == canonical_id]


def propose(project: Project, store: HubStore, actor: str, canonical_id: str, reason: str | None) -> Proposal:
    """Propose erasing ``canonical_id``; audited as ``subject.erase.propose`` with the dry run's counts.

    Refused when the record is already erased or an erasure of it already waits for sign-off.
    """
    report = preview(project, store, actor, canonical_id)
    if report is None:
        raise FatalError(f"record {canonical_id} is already erased: there is nothing to propose")
    with acting(store, actor) as ctx:
        waiting = [p.id for p in pending(ctx) if p.payload.get("canonical_id") == canonical_id]
        if waiting:
            raise FatalError(f"an erasure of {report.entity} {canonical_id} already waits for sign-off "
                             f"(proposal {waiting[0]})")
        return approvals.propose(ctx.conn, actor, KIND, subject=f"{report.entity} {canonical_id}",
                                 payload={"canonical_id": canonical_id, "entity": report.entity}, reason=reason,
                                 detail={"canonical_id": canonical_id, **_counts(report)})


def approve(project: Project, store: HubStore, actor: str, proposal_id: int) -> Decided:
    """Sign off an erasure someone else proposed: run it, then close the proposal with its outcome.

    SameApprover when ``actor`` proposed it. A legal hold makes the engine refuse (nothing is
    deleted); the proposal is closed all the same, its outcome saying so.
    """
    with acting(store, actor) as ctx:
        found = approvals.signable(ctx.conn, actor, proposal_id, KIND)
        canonical_id = str(found.payload["canonical_id"])
        _, row = locate(ctx.conn, canonical_id)
    report = None if row["status"] in _GONE else subjects.erase(project, store, actor, canonical_id)
    outcome = (_outcome(report) if report is not None else
               {"canonical_id": canonical_id, "status": f"already {row['status']}"})
    with acting(store, actor) as ctx:
        closed = approvals.decide(ctx.conn, actor, proposal_id, KIND, approve=True, outcome=outcome)
    return Decided(closed, report)


def reject(store: HubStore, actor: str, proposal_id: int) -> Proposal:
    """A second person declines the erasure: nothing is erased; audited as ``subject.erase.reject``."""
    with acting(store, actor) as ctx:
        return approvals.decide(ctx.conn, actor, proposal_id, KIND, approve=False)


def withdraw(store: HubStore, actor: str, proposal_id: int) -> Proposal:
    """The proposer takes the erasure back; audited as ``subject.erase.withdraw``."""
    with acting(store, actor) as ctx:
        return approvals.withdraw(ctx.conn, actor, proposal_id, KIND)


def _counts(report: ErasureReport) -> dict[str, Any]:
    """How many places would delete, must be done by hand, or keep the record under a hold."""
    outcomes = [line.outcome for line in report.lines if line.system != "hub"]
    return {"would_delete": outcomes.count("would delete"), "by_hand": outcomes.count("not supported"),
            "legal_holds": len(report.held_by)}


def _outcome(report: ErasureReport) -> dict[str, Any]:
    """What an erasure did, for the closed proposal and its audit entry (ids, status and counts only)."""
    outcomes = [line.outcome for line in report.lines if line.system != "hub"]
    return {"canonical_id": report.canonical_id,
            "status": "erased" if report.erased else "refused (legal hold)" if report.held_by else "not erased",
            "deleted": outcomes.count("deleted"), "by_hand": outcomes.count("not supported"),
            "failed": outcomes.count("failed"), "legal_holds": len(report.held_by)}
