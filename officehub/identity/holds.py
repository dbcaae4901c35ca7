"""Legal holds: legal-class values that forbid deleting a record anywhere."""

from __future__ import annotations

from typing import Any

from officehub.canonical_model import Sensitivity, layout, model_cache


@model_cache
def _hold_groups(entity: str) -> tuple[str, ...]:
    """Top-level legal-class fields that carry an ``active`` flag (a hold such as a litigation hold)."""
    groups = []
    for leaf in layout(entity).fields:
        parts = leaf.path.split(".")
        if leaf.sensitivity is Sensitivity.LEGAL and len(parts) == 2 and parts[1] == "active":
            groups.append(parts[0])
    return tuple(groups)


def legal_holds(entity: str, values: dict[str, Any] | None) -> list[str]:
    """Why this record may not be deleted: one line per active hold (empty when none).

    A hold is named by its field path and class only ("employee.litigation_hold (legal)"):
    the reasons go into erasure reports and the append-only audit trail, so they must never
    carry the hold's values (a matter reference is itself legal-class data).
    """
    if not values:
        return []
    reasons = []
    for group in _hold_groups(entity):
        active = values.get(f"{group}__active")
        if active is True or (active is None and values.get(f"{group}__matter_ref")):
            reasons.append(f"{entity}.{group} ({Sensitivity.LEGAL.value})")
    return reasons
