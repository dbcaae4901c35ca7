"""The quarantine: pages of entries, one entry, its reveal (with a reason, audited) and replay."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from officehub.serve.console import back_to, render
from officehub.serve.deps import CheckedForm, HubDep, Visitor, allowed
from officehub.serve.rights import Right
from officehub.services import quarantine
from officehub.services.reasons import MIN_REASON
from officehub.services.session import acting

router = APIRouter(include_in_schema=False)
Viewer = Annotated[Visitor, Depends(allowed(Right.VIEW))]
Revealer = Annotated[Visitor, Depends(allowed(Right.REVEAL))]
Operator = Annotated[Visitor, Depends(allowed(Right.RUN))]
PAGE = 50


@router.get("/quarantine", response_class=HTMLResponse)
def listing(request: Request, hub: HubDep, visitor: Viewer, pipeline: str | None = None, closed: bool = False,
            offset: Annotated[int, Query(ge=0)] = 0, notice: str | None = None) -> Response:
    """Entries, oldest first, by pipeline; reasons and positions only."""
    with acting(hub.store, visitor.actor) as ctx:
        found = quarantine.page(ctx, pipeline=pipeline or None, include_closed=closed, limit=PAGE, offset=offset)
    return render(request, hub, visitor, "quarantine.html", quarantined=found, pipeline=pipeline, closed=closed,
                  offset=offset, limit=PAGE, pipelines=sorted(hub.project.config.pipelines), notice=notice)


@router.get("/quarantine/{item}", response_class=HTMLResponse)
def entry(request: Request, item: int, hub: HubDep, visitor: Viewer) -> Response:
    """One entry with its fields' names; the values read <hidden>."""
    with acting(hub.store, visitor.actor) as ctx:
        found = quarantine.show(ctx, item)
    return render(request, hub, visitor, "quarantined.html", item=found, revealed=False, min_reason=MIN_REASON)


@router.post("/quarantine/{item}/reveal", response_class=HTMLResponse)
def reveal(request: Request, item: int, hub: HubDep, visitor: Revealer, form: CheckedForm) -> Response:
    """The entry with the values the source sent, for a stated reason, recorded in the audit trail."""
    with acting(hub.store, visitor.actor) as ctx:
        found = quarantine.show(ctx, item, reveal=True, reason=str(form.get("reason", "")))
    response = render(request, hub, visitor, "quarantined.html", item=found, revealed=True, min_reason=MIN_REASON)
    response.headers["Cache-Control"] = "no-store"  # revealed values stay out of the browser's cache
    return response


@router.post("/quarantine/replay")
def replay(hub: HubDep, visitor: Operator, form: CheckedForm) -> Response:
    """Run the open entries (of one pipeline) through their mapping again."""
    pipeline = str(form.get("pipeline") or "") or None
    done = quarantine.replay(hub.project, hub.store, pipeline=pipeline)
    stored = sum(r.result.metrics.records_written + r.result.metrics.records_unchanged for r in done)
    read = sum(r.result.metrics.records_read for r in done)
    superseded = sum(r.superseded for r in done)
    return back_to(f"/quarantine?pipeline={pipeline or ''}",
                   f"Replayed {read} record(s): {stored} stored, {superseded} superseded by newer data; the rest "
                   "stay in quarantine with their reason")
