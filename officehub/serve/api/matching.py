"""Fuzzy search: records that may be the person or company described, ranked by the identity matcher."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from officehub.serve.api.models import REFUSALS, Record
from officehub.serve.batching import audited_read
from officehub.serve.deps import HubDep, api_client
from officehub.services import hub_api_match
from officehub.services.api_tokens import ApiToken

router = APIRouter(prefix="/api/v1", tags=["records"], responses=REFUSALS)

Entity = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_]*$", max_length=50, description="customer, employee, …")]
Searcher = Annotated[ApiToken, Depends(api_client("search"))]
Text = Annotated[str | None, Query(max_length=320)]


class MatchScore(BaseModel):
    """How a record was found and how well it matches what was asked."""

    score: float = Field(description="1.0 for a shared key (e-mail, phone, …); else the match probability or "
                                     "similarity, from the project's identity rules")
    method: str = Field(description="key, probabilistic or fuzzy")
    fields: dict[str, Any] = Field(description="per comparison: its weight or similarity")


class Matched(Record):
    """A record found by a fuzzy search, with its score."""

    match: MatchScore


class MatchFound(BaseModel):
    """The records a fuzzy search found, best first."""

    records: list[Matched]


@router.get("/{entity}/match", response_model=MatchFound, response_model_exclude_none=True)
async def match(entity: Entity, hub: HubDep, token: Searcher, first_name: Text = None, last_name: Text = None,
                birth_date: date | None = None, email: Text = None, phone: Text = None, street: Text = None,
                postal_code: Text = None, city: Text = None, country: Text = None, legal_name: Text = None,
                registration_number: Text = None,
                limit: Annotated[int, Query(ge=1, le=hub_api_match.MAX_MATCHES)] = 10,
                min_score: Annotated[float, Query(ge=0, le=1)] = 0.5) -> JSONResponse:
    """Records that may be what the parameters describe (typos, initials and other spellings found too), best first."""
    query = {"first_name": first_name, "last_name": last_name, "birth_date": birth_date, "email": email,
             "phone": phone, "street": street, "postal_code": postal_code, "city": city, "country": country,
             "legal_name": legal_name, "registration_number": registration_number}
    found = await audited_read(hub.store, hub.audits, hub.turns, token.actor, lambda ctx: hub_api_match.match(
        ctx, hub.plans, hub.matchers, token.client, entity, query, limit=limit, min_score=min_score))
    # Built in the published shape by the service: the response model documents it without validating it again.
    return JSONResponse({"records": found})
