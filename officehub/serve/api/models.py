"""The hub API's response bodies, as published in its OpenAPI description."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class Record(BaseModel):
    """A golden record as the client may receive it."""

    canonical_id: str = Field(description="the hub's id of the record")
    status: str = Field(description="active, or why it is gone: merged, erased, purged (then without fields)")
    version: int
    change: int = Field(description="the change number of the record's last change (see the changes feed)")
    updated_at: str | None = None
    fields: dict[str, Any] | None = Field(None, description="the values the client's policy releases, by field")
    merged_into: str | None = Field(None, description="for a merged record: the record it became part of")


class Found(BaseModel):
    """Records a search found."""

    records: list[Record]


class ChangesPage(BaseModel):
    """One page of the changes feed."""

    changes: list[Record]
    next: int = Field(description="ask for changes after this number next")
    more: bool = Field(description="whether more changes are waiting now")


class Problem(BaseModel):
    """Why a request was refused or failed, in one line."""

    error: str


class Health(BaseModel):
    """Whether the server can reach its hub store."""

    status: str


#: The refusals every authenticated endpoint may answer with, for the OpenAPI description.
REFUSALS: dict[int | str, dict[str, Any]] = {
    400: {"model": Problem, "description": "the request cannot be answered as asked (e.g. a search by nothing, "
                                           "or by a field the entity does not have)"},
    401: {"model": Problem, "description": "no usable API token"},
    403: {"model": Problem, "description": "the token lacks the scope, or no agreement covers the client"},
    404: {"model": Problem, "description": "no such record or entity"},
    413: {"model": Problem, "description": "the request body is larger than serve.max_body_bytes"},
    422: {"model": Problem, "description": "a parameter is not valid"},
    503: {"model": Problem, "description": "the hub store is busy or out of reach for now: try again later"},
}
