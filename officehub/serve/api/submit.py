"""Submitting records: an application's new and changed records, taken in like any ingest."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, Field

from officehub.serve.api.models import REFUSALS
from officehub.serve.deps import HubDep, api_client
from officehub.services import submissions
from officehub.services.api_tokens import ApiToken

router = APIRouter(prefix="/api/v1", tags=["submit"], responses=REFUSALS)

Entity = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_]*$", max_length=50, description="customer, employee, …")]
Submitter = Annotated[ApiToken, Depends(api_client("submit"))]


class Submission(BaseModel):
    """Records in the application's own columns (as its mapping reads them), each with the application's id."""

    records: list[dict[str, Any]] = Field(min_length=1, max_length=submissions.MAX_RECORDS)


class Outcome(BaseModel):
    """What became of one submitted record."""

    id: str = Field(description="the application's id of the record")
    status: str = Field(description="stored, quarantined or not stored")
    canonical_id: str | None = Field(None, description="the hub's id of the record it is stored as")
    review: bool | None = Field(None, description="it waits in the review queue as a likely duplicate")
    reason: str | None = Field(None, description="why it was quarantined (names fields, never values)")
    quarantine: int | None = Field(None, description="its quarantine entry")


class Submitted(BaseModel):
    """The ingest run a submission went through, and each record's outcome."""

    run: int
    records: list[Outcome]


@router.post("/{entity}/records", response_model=Submitted, response_model_exclude_none=True)
def submit(entity: Entity, body: Submission, hub: HubDep, token: Submitter) -> dict[str, Any]:
    """New or changed records from the application: mapped, checked, matched and stored, or quarantined with
    the reason — exactly as an ingest from any system."""
    return submissions.submit(hub.project, hub.store, token.client, entity, body.records)
