"""A steward's merges and unlinks, their undoing, and the link log that keeps what each one moved.

Each decision runs in one transaction with its audit entry (``record.merge``,
``record.unlink``, ``record.unmerge`` / ``record.relink``), naming the acting steward;
the link-log number it returns is what undoes it.
"""

from __future__ import annotations

from typing import Any

from officehub.canonical_model.errors import NotFound
from officehub.config import Project
from officehub.engine.context import RunContext
from officehub.engine.stewardship import LinkChange, Steward
from officehub.services.records import known_entity
from officehub.store import matches
from officehub.store.hub import HubStore

__all__ = ["LinkChange", "entry", "log", "merge", "undo", "unlink"]


def merge(project: Project, store: HubStore, actor: str, entity: str, survivor_id: str, other_id: str) -> LinkChange:
    """Fold ``other_id`` into ``survivor_id`` (its xrefs and source copies move; reversible)."""
    return Steward(project, store, actor).merge(known_entity(entity), survivor_id, other_id)


def unlink(project: Project, store: HubStore, actor: str, entity: str, system: str, vendor_id: str) -> LinkChange:
    """Split one system's record off its golden record into a record of its own (reversible)."""
    return Steward(project, store, actor).unlink(known_entity(entity), system, vendor_id)


def undo(project: Project, store: HubStore, actor: str, log_id: int) -> LinkChange:
    """Reverse a merge (both records come back with their own xrefs) or an unlink (linked back)."""
    return Steward(project, store, actor).undo(log_id)


def log(ctx: RunContext, *, canonical_id: str | None = None) -> list[dict[str, Any]]:
    """Every merge and unlink, newest first (only those about ``canonical_id`` when given)."""
    return matches.link_entries(ctx.conn, canonical_id=canonical_id)


def entry(ctx: RunContext, log_id: int) -> dict[str, Any]:
    """One link-log entry with what it moved; FatalError when there is none."""
    found = matches.link_entries(ctx.conn, entry_id=log_id)
    if not found:
        raise NotFound(f"no merge or unlink number {log_id}")
    return found[0]
