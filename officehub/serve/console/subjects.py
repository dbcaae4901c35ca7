"""Data-subject requests (compliance officers): find a person, export what the hub holds, erase with four eyes.

The export preview on a subject's page and the download are both audited exports
(``subject.export``, with where they went). An erasure is proposed by one officer after a
dry run and carried out only when another signs it off (:mod:`officehub.services.erasures`).
"""

from __future__ import annotations

import json
import re
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from officehub.serve.console import back_to, render
from officehub.serve.deps import CheckedForm, HubDep, NotAllowed, Visitor, allowed
from officehub.serve.rights import Right
from officehub.services import erasures, subjects
from officehub.services.reasons import MIN_REASON
from officehub.services.session import acting

router = APIRouter(include_in_schema=False)
Officer = Annotated[Visitor, Depends(allowed(Right.COMPLY))]
#: What a downloaded file may be called: the entity and id, nothing a header could choke on.
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@router.get("/subjects", response_class=HTMLResponse)
def search(request: Request, hub: HubDep, visitor: Officer, q: str = "", notice: str | None = None) -> Response:
    """The search form, its hits with the systems holding each, and the erasures waiting for sign-off."""
    with acting(hub.store, visitor.actor) as ctx:
        hits = subjects.find(ctx, q) if q.strip() else None
        waiting = erasures.pending(ctx)
    return render(request, hub, visitor, "subjects.html", q=q, hits=hits, waiting=waiting, notice=notice)


@router.get("/subjects/{canonical_id}", response_class=HTMLResponse)
def subject(request: Request, canonical_id: str, hub: HubDep, visitor: Officer,
            notice: str | None = None) -> Response:
    """What an export holds (special categories withheld; audited as a preview), and the erasure's dry run."""
    with acting(hub.store, visitor.actor) as ctx:
        data = subjects.export(ctx, canonical_id, to="console preview")
        proposals = erasures.of_subject(ctx, canonical_id)
    dry_run = erasures.preview(hub.project, hub.store, visitor.actor, canonical_id)
    response = render(request, hub, visitor, "subject.html", data=data, dry_run=dry_run, proposals=proposals,
                      min_reason=MIN_REASON, notice=notice)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/subjects/{canonical_id}/export")
def download(canonical_id: str, hub: HubDep, visitor: Officer, form: CheckedForm) -> Response:
    """The export as a JSON file; special-category values only when revealed (the right to, and a reason)."""
    reveal = form.get("reveal") in ("1", "on", "true")
    if reveal and not visitor.may(Right.REVEAL):
        raise NotAllowed(Right.REVEAL)
    with acting(hub.store, visitor.actor) as ctx:
        data = subjects.export(ctx, canonical_id, to="console download", reveal=reveal,
                               reason=str(form.get("reason", "")) if reveal else None)
    name = _UNSAFE.sub("_", f"{data['entity']}-{canonical_id}") + ".json"
    return Response(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n",
                    media_type="application/json",
                    headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})


@router.post("/subjects/{canonical_id}/erase")
def propose(canonical_id: str, hub: HubDep, visitor: Officer, form: CheckedForm) -> Response:
    """Propose the erasure (after its dry run); another compliance officer must sign it off."""
    proposal = erasures.propose(hub.project, hub.store, visitor.actor, canonical_id, str(form.get("reason", "")))
    return back_to(f"/subjects/{canonical_id}", f"Erasure proposed (proposal {proposal.id}): it takes effect "
                                                "when another compliance officer approves it")


@router.post("/subjects/erasures/{proposal_id}/approve")
def approve(proposal_id: int, hub: HubDep, visitor: Officer, form: CheckedForm) -> Response:
    """Sign off someone else's proposal: the erasure runs now, or a legal hold refuses it."""
    decided = erasures.approve(hub.project, hub.store, visitor.actor, proposal_id)
    outcome, subject_id = decided.proposal.outcome or {}, str(decided.proposal.payload["canonical_id"])
    if decided.report is not None and decided.report.held_by:
        notice = (f"Refused: a legal hold keeps {decided.proposal.subject} ({'; '.join(decided.report.held_by)}); "
                  "nothing was deleted anywhere. The proposal is closed with this outcome.")
    else:
        lines = decided.report.lines if decided.report is not None else []
        by_hand = [f"{line.system} {line.vendor_id or ''}".strip() for line in lines
                   if line.outcome in ("not supported", "failed")]
        notice = f"Proposal {proposal_id} approved: {decided.proposal.subject} {outcome.get('status', '')}" + (
            f"; still to erase by hand: {', '.join(by_hand)}" if by_hand else "")
    return back_to(f"/subjects/{subject_id}", notice)


@router.post("/subjects/erasures/{proposal_id}/reject")
def reject(proposal_id: int, hub: HubDep, visitor: Officer, form: CheckedForm) -> Response:
    """Decline someone else's proposal: nothing is erased."""
    found = erasures.reject(hub.store, visitor.actor, proposal_id)
    return back_to("/subjects", f"Proposal {proposal_id} rejected: {found.subject} is not erased")


@router.post("/subjects/erasures/{proposal_id}/withdraw")
def withdraw(proposal_id: int, hub: HubDep, visitor: Officer, form: CheckedForm) -> Response:
    """Take back one's own proposal."""
    found = erasures.withdraw(hub.store, visitor.actor, proposal_id)
    return back_to("/subjects", f"Proposal {proposal_id} withdrawn: {found.subject} is not erased")
