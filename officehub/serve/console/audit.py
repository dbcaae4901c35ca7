"""The audit trail for compliance officers: its newest entries, and verifying the chain and its head."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from officehub.serve.console import render
from officehub.serve.deps import CheckedForm, HubDep, Visitor, allowed
from officehub.serve.rights import Right
from officehub.services import audit_trail
from officehub.services.session import acting

router = APIRouter(include_in_schema=False)
Officer = Annotated[Visitor, Depends(allowed(Right.COMPLY))]


@router.get("/audit", response_class=HTMLResponse)
def trail(request: Request, hub: HubDep, visitor: Officer, action: str | None = None) -> Response:
    """The newest 200 entries (of one action, when given): ids, classes and counts, never values."""
    with acting(hub.store, visitor.actor) as ctx:
        found = audit_trail.entries(ctx, action=action or None, limit=200)
    return render(request, hub, visitor, "audit.html", entries=found, action=action, verification=None)


@router.post("/audit/verify", response_class=HTMLResponse)
def verify(request: Request, hub: HubDep, visitor: Officer, form: CheckedForm) -> Response:
    """Check every entry's hash and every signed checkpoint; show the head."""
    with acting(hub.store, visitor.actor) as ctx:
        checked = audit_trail.verify(ctx, hub.project.audit_keys)
        found = audit_trail.entries(ctx, limit=200)
    return render(request, hub, visitor, "audit.html", entries=found, action=None, verification=checked)
