"""What an operator watches: the overview, a pipeline's runs, one run, running a pipeline now."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from officehub.canonical_model.errors import NotFound
from officehub.serve.console import back_to, render
from officehub.serve.deps import CheckedForm, HubDep, Visitor, allowed
from officehub.serve.rights import Right
from officehub.services import quarantine, runs
from officehub.services.session import acting

router = APIRouter(include_in_schema=False)
Viewer = Annotated[Visitor, Depends(allowed(Right.VIEW))]
Operator = Annotated[Visitor, Depends(allowed(Right.RUN))]
PAGE = 50


@router.get("/", response_class=HTMLResponse)
def overview(request: Request, hub: HubDep, visitor: Viewer, notice: str | None = None) -> Response:
    """Every pipeline with its last run and recent figures, failing ones first."""
    with acting(hub.store, visitor.actor) as ctx:
        found = runs.overview(ctx, hub.project)
    return render(request, hub, visitor, "overview.html", overview=found, running=runs.running(), notice=notice)


@router.get("/pipelines/{name}", response_class=HTMLResponse)
def pipeline(request: Request, name: str, hub: HubDep, visitor: Viewer, notice: str | None = None) -> Response:
    """One pipeline's recent runs."""
    if name not in hub.project.config.pipelines:
        raise NotFound(f"no pipeline '{name}'")
    with acting(hub.store, visitor.actor) as ctx:
        history = runs.history(ctx, pipeline=name, limit=100)
    return render(request, hub, visitor, "pipeline.html", name=name, runs=history, notice=notice)


@router.post("/pipelines/{name}/run")
def run_now(name: str, hub: HubDep, visitor: Operator, form: CheckedForm) -> Response:
    """Start a run of the pipeline in the background; its figures appear as it goes."""
    runs.start(hub.project, hub.store, visitor.actor, name)
    return back_to(f"/pipelines/{name}", f"Run of {name} started")


@router.get("/runs/{run_id}", response_class=HTMLResponse)
def run(request: Request, run_id: int, hub: HubDep, visitor: Viewer,
        offset: Annotated[int, Query(ge=0)] = 0) -> Response:
    """One run: its figures, its most frequent quarantine reasons and the records it quarantined."""
    with acting(hub.store, visitor.actor) as ctx:
        found = runs.one(ctx, run_id)
        held = quarantine.page(ctx, run_id=run_id, include_closed=True, limit=PAGE, offset=offset)
    return render(request, hub, visitor, "run.html", run=found, quarantined=held, offset=offset, limit=PAGE)
