"""Reading golden records: by canonical id, by a system's own id, by exact search, and the changes feed."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query

from officehub.serve.api.models import REFUSALS, ChangesPage, Found, Record
from officehub.serve.deps import HubDep, api_client
from officehub.services import hub_api
from officehub.services.api_tokens import ApiToken
from officehub.services.session import acting

router = APIRouter(prefix="/api/v1", tags=["records"], responses=REFUSALS)

Entity = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_]*$", max_length=50, description="customer, employee, …")]
Reader = Annotated[ApiToken, Depends(api_client("read"))]
Searcher = Annotated[ApiToken, Depends(api_client("search"))]
Follower = Annotated[ApiToken, Depends(api_client("changes"))]
Text = Annotated[str | None, Query(max_length=320)]


@router.get("/{entity}/records/{canonical_id}", response_model=Record, response_model_exclude_none=True)
def get_record(entity: Entity, canonical_id: Annotated[str, Path(max_length=36)], hub: HubDep,
               token: Reader) -> dict[str, Any]:
    """One record by the hub's id."""
    with acting(hub.store, token.actor) as ctx:
        return hub_api.get(ctx, hub.plans, token.client, entity, canonical_id)


@router.get("/{entity}/systems/{system}/records/{vendor_id}", response_model=Record,
            response_model_exclude_none=True)
def get_by_vendor_id(entity: Entity, system: Annotated[str, Path(max_length=100)],
                     vendor_id: Annotated[str, Path(max_length=200)], hub: HubDep, token: Reader) -> dict[str, Any]:
    """The record a system holds under its own id."""
    with acting(hub.store, token.actor) as ctx:
        return hub_api.by_vendor_id(ctx, hub.plans, token.client, entity, system, vendor_id)


@router.get("/{entity}/search", response_model=Found, response_model_exclude_none=True)
def search(entity: Entity, hub: HubDep, token: Searcher, email: Text = None, phone: Text = None,
           tax_id: Text = None, registration_number: Text = None,
           limit: Annotated[int, Query(ge=1, le=100)] = 20) -> dict[str, Any]:
    """Active records whose e-mail, phone, tax number or registration number equal those given (all of them)."""
    criteria = {"email": email, "phone": phone, "tax_id": tax_id, "registration_number": registration_number}
    with acting(hub.store, token.actor) as ctx:
        return {"records": hub_api.search(ctx, hub.plans, token.client, entity,
                                          {k: v for k, v in criteria.items() if v}, limit)}


@router.get("/{entity}/changes", response_model=ChangesPage, response_model_exclude_none=True)
def changes(entity: Entity, hub: HubDep, token: Follower,
            after: Annotated[int, Query(ge=0, le=2**62, description="the last change number already seen")] = 0,
            limit: Annotated[int, Query(ge=1, le=hub_api.MAX_PAGE)] = 500) -> dict[str, Any]:
    """Records changed after change number ``after``, oldest first: keep a local copy up to date."""
    with acting(hub.store, token.actor) as ctx:
        return hub_api.changes(ctx, hub.plans, token.client, entity, after, limit)
