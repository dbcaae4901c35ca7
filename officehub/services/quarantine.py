"""The quarantine as a person reads it: pages of entries, one entry (raw values only when revealed), replay.

Raw vendor values may be personal or special-category data: showing them needs a stated
reason and is audited (``quarantine.reveal``, with the pipeline and source position, never
a value) in the transaction that read them.
"""

from __future__ import annotations

from typing import Any

from officehub.canonical_model.errors import NotFound
from officehub.config import Project
from officehub.engine.context import RunContext
from officehub.engine.replay import Replayed
from officehub.engine.replay import replay as run_replay
from officehub.services.reasons import stated_reason
from officehub.store import audit
from officehub.store import bookkeeping as bk
from officehub.store.hub import HubStore

HIDDEN = "<hidden>"


def page(ctx: RunContext, *, pipeline: str | None = None, include_closed: bool = False, limit: int = 100,
         offset: int = 0, run_id: int | None = None) -> dict[str, Any]:
    """``{"total": n, "items": [...]}``: one page of entries (open ones unless ``include_closed``; of one
    pipeline or run when given), no values."""
    status = None if include_closed else "open"
    return {"total": bk.count_quarantine(ctx.conn, pipeline, status, run_id),
            "items": bk.list_quarantine(ctx.conn, pipeline, status, limit, offset, run_id)}


def show(ctx: RunContext, item: int, *, reveal: bool = False, reason: str | None = None) -> dict[str, Any]:
    """One quarantined record: reason, position and its fields, whose values read ``<hidden>`` unless revealed."""
    why = stated_reason(reason, "revealing a quarantined record") if reveal else None
    found = bk.get_quarantined(ctx.conn, item)
    if found is None:
        raise NotFound(f"no quarantined record {item}")
    if reveal:
        audit.append(ctx.conn, actor=ctx.actor, action="quarantine.reveal", subject=f"quarantine {item}",
                     detail={"pipeline": found["pipeline"], "position": found["position"], "reason": why},
                     run_id=ctx.run_id)
    else:
        found["raw"] = {k: (HIDDEN if v is not None else None) for k, v in found["raw"].items()}
    return found


def replay(project: Project, store: HubStore, *, pipeline: str | None = None,
           ids: list[int] | None = None) -> list[Replayed]:
    """Run open quarantined records (of ``pipeline``, or only ``ids``) through their mapping again."""
    with store.begin() as conn:
        listed = bk.list_quarantine(conn, pipeline, "open", max(bk.count_quarantine(conn, pipeline, "open"), 1))
        waiting = [bk.get_quarantined(conn, q["id"]) for q in listed]
    items = [q for q in waiting if q and (not ids or q["id"] in ids)]
    return run_replay(project, store, items)
