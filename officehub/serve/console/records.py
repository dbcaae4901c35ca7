"""A golden record: each field with its class and lineage, flags, xrefs, legal holds and every version.

Data stewards and compliance officers (who reach it from a data subject's page) read it
with the medical, criminal and legal values withheld; revealing them needs the reveal
right and a stated reason, and the service records it as ``record.reveal``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from officehub.serve.console import render
from officehub.serve.deps import CheckedForm, HubDep, NotAllowed, Visitor, allowed, signed_in
from officehub.serve.rights import Right
from officehub.serve.state import Hub
from officehub.services import records
from officehub.services.reasons import MIN_REASON
from officehub.services.session import acting

router = APIRouter(include_in_schema=False)


def reader(found: Annotated[Visitor, Depends(signed_in)]) -> Visitor:
    """The signed-in visitor, who must be a data steward or a compliance officer."""
    if not (found.may(Right.STEWARD) or found.may(Right.COMPLY)):
        raise NotAllowed(Right.STEWARD)
    return found


Reader = Annotated[Visitor, Depends(reader)]
Revealer = Annotated[Visitor, Depends(allowed(Right.REVEAL))]


@router.get("/records/{canonical_id}", response_class=HTMLResponse)
def record(request: Request, canonical_id: str, hub: HubDep, visitor: Reader) -> Response:
    """The record with special-category values withheld, and the fields each version changed."""
    return _page(request, hub, visitor, canonical_id, reason=None)


@router.post("/records/{canonical_id}/reveal", response_class=HTMLResponse)
def reveal(request: Request, canonical_id: str, hub: HubDep, visitor: Revealer, form: CheckedForm) -> Response:
    """The record with every value, for a stated reason (audited as ``record.reveal``); never cached."""
    response = _page(request, hub, visitor, canonical_id, reason=str(form.get("reason", "")))
    response.headers["Cache-Control"] = "no-store"
    return response


def _page(request: Request, hub: Hub, visitor: Visitor, canonical_id: str, reason: str | None) -> Response:
    revealed = reason is not None
    with acting(hub.store, visitor.actor) as ctx:
        found = records.show(ctx, canonical_id, reveal=revealed, reason=reason, derived=hub.project.derived_classes())
        versions = records.history(ctx, canonical_id)
    return render(request, hub, visitor, "record.html", record=found, versions=versions, revealed=revealed,
                  withheld=records.WITHHELD, min_reason=MIN_REASON)
