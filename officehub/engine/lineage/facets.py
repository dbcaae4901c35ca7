"""officehub's own OpenLineage facets: the hub run behind an event, and what a publish shared under.

Custom facets follow OpenLineage's conventions: a prefixed name in the event (``officehub_run``,
``officehub_sharing``), a ``_producer`` naming officehub, and a ``_schemaURL`` of their JSON Schema
(in docs/lineage/ of the project). They carry ids, versions and counts, never a record's value.
"""

from __future__ import annotations

import attr
from openlineage.client.generated.base import RunFacet

#: Where the facets' JSON Schemas are published (their ``_schemaURL``), beside the project's docs.
_SCHEMAS = "https://github.com/officehub/officehub/blob/main/docs/lineage"


@attr.define
class OfficehubRunFacet(RunFacet):
    """The hub's own run behind an OpenLineage run: its number in the hub store, pipeline and kind."""

    # Fields in camelCase, as OpenLineage's own facets name theirs.

    hubRunId: int
    pipeline: str
    kind: str

    @staticmethod
    def _get_schema() -> str:
        return f"{_SCHEMAS}/OfficehubRunFacet.json#/$defs/OfficehubRunFacet"


@attr.define
class SharingRunFacet(RunFacet):
    """What a publish shared under: the policy version and plan, and the agreement with its purpose and
    legal basis (all null when no agreement applies, and only non-sensitive fields may then leave)."""

    policyVersion: str
    plan: str
    agreementId: str | None = attr.field(default=None)
    purpose: str | None = attr.field(default=None)
    legalBasis: str | None = attr.field(default=None)

    @staticmethod
    def _get_schema() -> str:
        return f"{_SCHEMAS}/SharingRunFacet.json#/$defs/SharingRunFacet"
