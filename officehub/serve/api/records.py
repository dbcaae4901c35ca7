"""Reading golden records: by canonical id, by a system's own id, by exact search, and the changes feed."""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse

from officehub.canonical_model.errors import NotFound
from officehub.serve.api.models import REFUSALS, ChangesPage, Found, Record
from officehub.serve.batching import audited_read
from officehub.serve.deps import HubDep, api_client
from officehub.serve.state import Hub
from officehub.services import hub_api
from officehub.services.api_tokens import ApiToken
from officehub.services.session import acting

router = APIRouter(prefix="/api/v1", tags=["records"], responses=REFUSALS)

Entity = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_]*$", max_length=50, description="customer, employee, …")]
Reader = Annotated[ApiToken, Depends(api_client("read"))]
Searcher = Annotated[ApiToken, Depends(api_client("search"))]
Follower = Annotated[ApiToken, Depends(api_client("changes"))]
Text = Annotated[str | None, Query(max_length=320)]


def _sent(body: dict[str, Any]) -> JSONResponse:
    """``body`` rendered as it is: the service builds it in the published shape, so the response model
    describes it in the OpenAPI document without validating it again (that took longer than the read)."""
    return JSONResponse(body)


@router.get("/{entity}/records/{canonical_id}", response_model=Record, response_model_exclude_none=True)
async def get_record(entity: Entity, canonical_id: Annotated[str, Path(max_length=36)], request: Request,
                     token: Reader) -> JSONResponse:
    """One record by the hub's id."""
    hub: Hub = request.app.state.hub  # made fresh by the token's check, without a thread of its own
    found = await hub.batcher.ask(("records", token.client, entity), canonical_id, partial(_by_ids, hub, token, entity))
    if found is None:
        raise NotFound(f"no {entity} record {canonical_id}")
    return _sent(found)


@router.get("/{entity}/systems/{system}/records/{vendor_id}", response_model=Record,
            response_model_exclude_none=True)
async def get_by_vendor_id(entity: Entity, system: Annotated[str, Path(max_length=100)],
                           vendor_id: Annotated[str, Path(max_length=200)], request: Request,
                           token: Reader) -> JSONResponse:
    """The record a system holds under its own id."""
    hub: Hub = request.app.state.hub
    found = await hub.batcher.ask(("vendor", token.client, entity, system), vendor_id,
                                  partial(_by_vendor_ids, hub, token, entity, system))
    if found is None:
        raise NotFound(f"{system} has no {entity} {vendor_id} in the hub", system=system)
    return _sent(found)


def _by_ids(hub: Hub, token: ApiToken, entity: str, ids: list[str]) -> dict[str, dict[str, Any]]:
    """A batch of lookups by id (:mod:`officehub.serve.batching`): one transaction, one audit entry."""
    with acting(hub.store, token.actor) as ctx:
        return hub_api.get_many(ctx, hub.plans, token.client, entity, ids, requests=len(ids))


def _by_vendor_ids(hub: Hub, token: ApiToken, entity: str, system: str, ids: list[str]) -> dict[str, dict[str, Any]]:
    """A batch of lookups by a system's own id: one transaction, one audit entry."""
    with acting(hub.store, token.actor) as ctx:
        return hub_api.by_vendor_ids(ctx, hub.plans, token.client, entity, system, ids, requests=len(ids))


@router.get("/{entity}/search", response_model=Found, response_model_exclude_none=True)
async def search(entity: Entity, hub: HubDep, token: Searcher, email: Text = None, phone: Text = None,
                 tax_id: Text = None, registration_number: Text = None,
                 limit: Annotated[int, Query(ge=1, le=100)] = 20) -> JSONResponse:
    """Active records whose e-mail, phone, tax number or registration number equal those given (all of them)."""
    criteria = {"email": email, "phone": phone, "tax_id": tax_id, "registration_number": registration_number}
    found = await audited_read(hub.store, hub.audits, hub.turns, token.actor, lambda ctx: hub_api.search(
        ctx, hub.plans, token.client, entity, {k: v for k, v in criteria.items() if v}, limit))
    return _sent({"records": found})


@router.get("/{entity}/changes", response_model=ChangesPage, response_model_exclude_none=True)
async def changes(entity: Entity, hub: HubDep, token: Follower,
                  after: Annotated[int, Query(ge=0, le=2**62, description="the last change number already seen")] = 0,
                  limit: Annotated[int, Query(ge=1, le=hub_api.MAX_PAGE)] = 500) -> JSONResponse:
    """Records changed after change number ``after``, oldest first: keep a local copy up to date."""
    page = await audited_read(hub.store, hub.audits, hub.turns, token.actor,
                              lambda ctx: hub_api.changes(ctx, hub.plans, token.client, entity, after, limit))
    return _sent(page)
