"""The identity review queue: pairs side by side with their evidence; accept, reject, undo (data stewards)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from officehub.serve.console import back_to, render
from officehub.serve.deps import CheckedForm, HubDep, Visitor, allowed
from officehub.serve.rights import Right
from officehub.serve.state import Hub
from officehub.services import links, reviews
from officehub.services.reasons import MIN_REASON
from officehub.services.session import acting

router = APIRouter(include_in_schema=False)


def with_rows(pair: dict[str, Any]) -> dict[str, Any]:
    """``pair`` with ``rows``: each field other than the name with both sides' values and its comparison's
    score (a comparison of a whole group, such as the address, scores each of its fields' rows)."""
    scores: dict[str, Any] = pair["fields"]
    mine, theirs = pair["record"]["values"], pair["candidate"]["values"]
    fields = sorted(set(mine) | set(theirs))
    rows = [(f, mine.get(f), theirs.get(f), scores.get(f, scores.get(f.split(".")[0]))) for f in fields]
    shown = set(fields) | {f.split(".")[0] for f in fields} | {"name"}
    rows += [(name, None, None, score) for name, score in scores.items() if name not in shown]
    return {**pair, "rows": rows}
Steward = Annotated[Visitor, Depends(allowed(Right.STEWARD))]


@router.get("/reviews", response_class=HTMLResponse)
def queue(request: Request, hub: HubDep, visitor: Steward, notice: str | None = None,
          undo: int | None = None) -> Response:
    """Pending pairs, oldest first: names shown, other values hidden until revealed with a reason."""
    with acting(hub.store, visitor.actor) as ctx:
        pairs = reviews.queue(ctx)
    return render(request, hub, visitor, "reviews.html", pairs=[with_rows(p) for p in pairs], revealed=False, notice=notice, undo=undo,
                  min_reason=MIN_REASON)


@router.post("/reviews/reveal", response_class=HTMLResponse)
def reveal(request: Request, hub: HubDep, visitor: Steward, form: CheckedForm) -> Response:
    """Pending pairs with every value, for a stated reason (audited as ``match.reveal``)."""
    with acting(hub.store, visitor.actor) as ctx:
        pairs = reviews.queue(ctx, reveal=True, reason=str(form.get("reason", "")))
    response = render(request, hub, visitor, "reviews.html", pairs=[with_rows(p) for p in pairs], revealed=True, min_reason=MIN_REASON,
                      notice="Values shown for the reason you gave; this is in the audit trail under your name.")
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/reviews/{review_id}/accept")
def accept(request: Request, review_id: int, hub: HubDep, visitor: Steward, form: CheckedForm) -> Response:
    """The pair is one record: merge it (undoable)."""
    change = reviews.accept(hub.project, hub.store, visitor.actor, review_id)
    message = f"Pair {review_id} merged into {change.survivor_id}"
    if request.headers.get("hx-request"):
        return _decided(request, hub, visitor, review_id, message, change.log_id)
    return back_to(f"/reviews?undo={change.log_id}" if change.log_id else "/reviews", message)


@router.post("/reviews/{review_id}/reject")
def reject(request: Request, review_id: int, hub: HubDep, visitor: Steward, form: CheckedForm) -> Response:
    """The pair are different records: both stay."""
    reviews.reject(hub.project, hub.store, visitor.actor, review_id)
    message = f"Pair {review_id} kept apart"
    if request.headers.get("hx-request"):
        return _decided(request, hub, visitor, review_id, message, None)
    return back_to("/reviews", message)


def _decided(request: Request, hub: Hub, visitor: Visitor, review_id: int, message: str,
             undo: int | None) -> Response:
    """The pair's place in the queue, once decided (what htmx swaps in)."""
    return render(request, hub, visitor, "review_decided.html", review_id=review_id, message=message, undo=undo)


@router.post("/links/{log_id}/undo")
def undo(log_id: int, hub: HubDep, visitor: Steward, form: CheckedForm) -> Response:
    """Reverse a merge or an unlink."""
    change = links.undo(hub.project, hub.store, visitor.actor, log_id)
    return back_to("/reviews", f"Undone: {change.survivor_id} and {change.other_id} are apart again"
                   if change.other_id else "Undone")
