"""Data-subject requests (GDPR Art. 15 and 17): find a person, export what the hub holds, erase them.

An export is audited (``subject.export``, with where it went and whether special-category
values were revealed) in the transaction that read the record; revealing those values
needs a stated reason. An erasure is audited by the engine (``subject.erase`` or
``subject.erase.refused``) once it has gone through, or a legal hold refused it.
"""

from __future__ import annotations

from typing import Any

from officehub.config import Project
from officehub.engine import subjects
from officehub.engine.context import RunContext
from officehub.engine.subjects import ErasureLine, ErasureReport, Hit
from officehub.services.reasons import stated_reason
from officehub.store import audit
from officehub.store.hub import HubStore

__all__ = ["ErasureLine", "ErasureReport", "Hit", "erase", "export", "find"]


def find(ctx: RunContext, query: str) -> list[Hit]:
    """Every record that may be the person (an e-mail, phone number, name, canonical or vendor id), with its holders."""
    return subjects.find(ctx.conn, query)


def export(ctx: RunContext, canonical_id: str, *, to: str, reveal: bool = False,
           reason: str | None = None) -> dict[str, Any]:
    """Everything the hub holds about one record, JSON-ready; audited with ``to`` (where the export goes).

    Medical, criminal and legal values read ``<withheld>`` unless revealed with a stated reason.
    """
    why = stated_reason(reason, "an export with special-category values") if reveal else None
    data = subjects.export(ctx.conn, canonical_id, reveal=reveal)
    audit.append(ctx.conn, actor=ctx.actor, action="subject.export", subject=f"{data['entity']} {canonical_id}",
                 detail={"to": to, "reveal": reveal, **({"reason": why} if why else {})}, run_id=ctx.run_id)
    return data


def erase(project: Project, store: HubStore, actor: str, canonical_id: str, *, dry_run: bool = False) -> ErasureReport:
    """Erase a record in every system that supports deletes and in the hub, unless a legal hold applies.

    A dry run changes nothing and writes no audit entry; it says what would happen.
    """
    return subjects.erase(project, store, canonical_id, actor, dry_run=dry_run)
