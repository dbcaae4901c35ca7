"""Fuzzy search for the hub API: the records that may be the person or company an application describes.

An application sends what it knows (a name, a birth date, an address, an e-mail…); the
identity matcher the ingest uses — the same keys, blocks and scores (model or fuzzy
rules) — finds the candidates and ranks them. The records go out under the client's
plan like any other API read, audited as ``api.match`` with ids and counts. As with the
exact search, a client may search only by fields its plan releases to it as they are.
"""

from __future__ import annotations

from typing import Any

from officehub.canonical_model import layout
from officehub.canonical_model.errors import FatalError
from officehub.config import Project
from officehub.engine.context import RunContext
from officehub.identity import Candidate, Matcher
from officehub.services.hub_api import ClientRefused, Plans, release
from officehub.store import golden

#: Search parameters and the fields they describe.
MATCH_FIELDS = {
    "first_name": "name.first",
    "last_name": "name.last",
    "birth_date": "birth_date",
    "email": "contact.email",
    "phone": "contact.phone",
    "street": "address.street",
    "postal_code": "address.postal_code",
    "city": "address.city",
    "country": "address.country",
    "legal_name": "organisation.legal_name",
    "registration_number": "organisation.registration_number",
}
MAX_MATCHES = 50


class Matchers:
    """Each entity's matcher, compiled once from the project's identity rules (and trained model)."""

    def __init__(self, project: Project) -> None:
        self.project = project
        self._matchers: dict[str, Matcher] = {}

    def of(self, entity: str) -> Matcher:
        """The matcher of ``entity``; FatalError when the project gives it no matching rules."""
        if entity not in self._matchers:
            rules = self.project.config.identity.for_entity(entity).match
            if not rules.matches:
                raise FatalError(f"{entity} records have no matching rules (identity.{entity}.match): "
                                 "search them by exact values instead")
            self._matchers[entity] = Matcher(entity, rules, self.project.match_model(entity))
        return self._matchers[entity]


def match(ctx: RunContext, plans: Plans, matchers: Matchers, client: str, entity: str, query: dict[str, Any], *,
          limit: int = 10, min_score: float = 0.5) -> list[dict[str, Any]]:
    """Active records that may be what ``query`` describes, best first, each with its score and how it was found.

    ``query`` maps parameters of :data:`MATCH_FIELDS` to values (a birth date as a date).
    """
    who = plans.client(client)
    plan = plans.plan(who, entity)
    matcher = matchers.of(entity)
    lay = layout(entity)
    given = {name: value for name, value in query.items() if value not in (None, "")}
    if not given:
        raise FatalError(f"say what to look for: {', '.join(MATCH_FIELDS)}")
    record: dict[str, Any] = {}
    for name, value in given.items():
        path = MATCH_FIELDS[name]
        try:
            column = lay.field(path).column
        except KeyError:
            raise FatalError(f"{entity} records have no field {path} to search by {name}") from None
        if plan.decision(path).action != "allow":
            raise ClientRefused(f"API client '{client}' may not search by {name}: its policy does not let it "
                                f"receive {path} as it is")
        record[column] = value.strip() if isinstance(value, str) else value
    # Only the columns the matcher reads, of active records: most candidates are ranked out.
    rows = golden.sharing_keys(ctx.conn, entity, matcher.index_keys(record), matcher.columns)
    ranked = matcher.rank(record, [Candidate(cid, row) for cid, row in rows.items()], min_score=min_score,
                          limit=min(limit, MAX_MATCHES))
    released = release(ctx, plan, who, [r.canonical_id for r in ranked], "api.match")
    scores = {r.canonical_id: r for r in ranked}
    return [{**rec, "match": {"score": round(scores[rec["canonical_id"]].score, 4),
                              "method": scores[rec["canonical_id"]].method,
                              "fields": scores[rec["canonical_id"]].fields}} for rec in released]
