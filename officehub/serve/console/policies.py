"""Data-sharing policies: the matrix in force, agreements, and changes signed off by a second officer."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from officehub.canonical_model import ENTITIES
from officehub.config import ConfigError
from officehub.serve.console import back_to, render
from officehub.serve.deps import CheckedForm, HubDep, Visitor, allowed
from officehub.serve.rights import Right
from officehub.serve.state import Hub
from officehub.services import policy_changes
from officehub.services.reasons import MIN_REASON
from officehub.services.session import acting

router = APIRouter(include_in_schema=False)
Viewer = Annotated[Visitor, Depends(allowed(Right.VIEW))]
Officer = Annotated[Visitor, Depends(allowed(Right.COMPLY))]


@router.get("/policies", response_class=HTMLResponse)
def overview(request: Request, hub: HubDep, visitor: Viewer, entity: str = "customer",
             notice: str | None = None) -> Response:
    """What every destination receives of one entity, field by field; the agreements; proposed changes."""
    project = hub.project
    with acting(hub.store, visitor.actor) as ctx:
        proposals = policy_changes.proposals(ctx) if visitor.may(Right.COMPLY) else []
    return render(request, hub, visitor, "policies.html", matrix=policy_changes.matrix(project, entity),
                  entities=list(ENTITIES), agreements=policy_changes.agreements(project), proposals=proposals,
                  notice=notice)


@router.get("/policies/change", response_class=HTMLResponse)
def change_form(request: Request, hub: HubDep, visitor: Officer, file: str = "") -> Response:
    """The form to propose a policy file's new text (prefilled with the text in force)."""
    return _form(request, hub, visitor, file, policy_changes.current_text(hub.project, file) if file else "")


def _form(request: Request, hub: Hub, visitor: Visitor, file: str, text: str, problems: list[str] | None = None,
          reason: str = "", status: int = 200) -> Response:
    return render(request, hub, visitor, "policy_change.html", status=status, file=file, text=text, reason=reason,
                  files=policy_changes.policy_files(hub.project), patterns=hub.project.config.policies,
                  problems=problems or [], min_reason=MIN_REASON)


@router.post("/policies/proposals", response_class=HTMLResponse)
def propose(request: Request, hub: HubDep, visitor: Officer, form: CheckedForm) -> Response:
    """Check the text and keep it as a proposal; every problem is shown with its line."""
    file, text, reason = (str(form.get(k, "")) for k in ("file", "text", "reason"))
    try:
        made = policy_changes.propose(hub.project, hub.store, visitor.actor, file.strip(), text, reason)
    except ConfigError as exc:
        return _form(request, hub, visitor, file, text, [str(i) for i in exc.issues], reason, status=400)
    return back_to(f"/policies/proposals/{made.id}", "Proposed: a second compliance officer signs it off")


@router.get("/policies/proposals/{proposal_id}", response_class=HTMLResponse)
def proposal(request: Request, proposal_id: int, hub: HubDep, visitor: Officer, notice: str | None = None) -> Response:
    """A proposal: what each destination would receive differently, and the text's changes."""
    with acting(hub.store, visitor.actor) as ctx:
        found = policy_changes.proposal(ctx, hub.project, proposal_id)
    return render(request, hub, visitor, "policy_proposal.html", found=found, preview=None, notice=notice)


@router.post("/policies/proposals/{proposal_id}/preview", response_class=HTMLResponse)
def preview(request: Request, proposal_id: int, hub: HubDep, visitor: Officer, form: CheckedForm) -> Response:
    """The proposal applied to recent records (abbreviated; special categories as their class only; audited)."""
    with acting(hub.store, visitor.actor) as ctx:
        found = policy_changes.proposal(ctx, hub.project, proposal_id)
        shown = policy_changes.preview(ctx, hub.project, proposal_id)
    response = render(request, hub, visitor, "policy_proposal.html", found=found, preview=shown)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/policies/proposals/{proposal_id}/approve")
def approve(proposal_id: int, hub: HubDep, visitor: Officer, form: CheckedForm) -> Response:
    """Sign off as the second officer: the file is written and this server applies it at once."""
    policy_changes.approve(hub.project, hub.store, visitor.actor, proposal_id)
    hub.reload()
    return back_to("/policies", f"Proposal {proposal_id} is in force (policy version {hub.project.policies.version})")


@router.post("/policies/proposals/{proposal_id}/reject")
def reject(proposal_id: int, hub: HubDep, visitor: Officer, form: CheckedForm) -> Response:
    """Turn the proposal down."""
    policy_changes.reject(hub.store, visitor.actor, proposal_id)
    return back_to("/policies", f"Proposal {proposal_id} rejected")


@router.post("/policies/proposals/{proposal_id}/withdraw")
def withdraw(proposal_id: int, hub: HubDep, visitor: Officer, form: CheckedForm) -> Response:
    """Take one's own proposal back."""
    policy_changes.withdraw(hub.store, visitor.actor, proposal_id)
    return back_to("/policies", f"Proposal {proposal_id} withdrawn")
