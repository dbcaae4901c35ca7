"""What each role may do in the console.

Rights are kept apart on purpose: an administrator manages accounts but does not see
revealed values or settle matches unless also given that role; a compliance officer
reveals and signs off but does not run pipelines. A user holds the union of their roles'
rights.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class Right(StrEnum):
    """One thing the console lets a user do."""

    VIEW = "view"              # overview, runs, the quarantine list (no values), sites, agreements, the policy matrix
    RUN = "run"                # run a pipeline now, replay quarantined records
    STEWARD = "steward"        # the review queue (accept, reject, undo), golden records and their history
    REVEAL = "reveal"          # show withheld values, with a stated reason (audited)
    COMPLY = "comply"          # the audit trail, policy changes and their sign-off, data-subject requests
    ADMINISTER = "administer"  # users and API tokens


ROLE_RIGHTS: dict[str, frozenset[Right]] = {
    "viewer": frozenset({Right.VIEW}),
    "operator": frozenset({Right.VIEW, Right.RUN}),
    "steward": frozenset({Right.VIEW, Right.STEWARD}),
    "compliance": frozenset({Right.VIEW, Right.REVEAL, Right.COMPLY}),
    "admin": frozenset({Right.VIEW, Right.ADMINISTER}),
}


def rights_of(roles: Iterable[str]) -> frozenset[Right]:
    """Every right the roles give together."""
    return frozenset().union(*(ROLE_RIGHTS.get(role, frozenset()) for role in roles))
