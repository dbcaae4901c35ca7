"""Legal holds: legal-class values that forbid deleting a record anywhere."""

from __future__ import annotations

from functools import cache
from typing import Any

from canonical_model import Sensitivity, layout


@cache
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

    A hold is named by its field and, where present, its matter reference and start date:
    the reasons go into erasure reports for the compliance officer, never into logs.
    """
    if not values:
        return []
    reasons = []
    for group in _hold_groups(entity):
        if values.get(f"{group}__active") is True or (values.get(f"{group}__active") is None
                                                       and values.get(f"{group}__matter_ref")):
            matter = values.get(f"{group}__matter_ref")
            since = values.get(f"{group}__since")
            reasons.append(" ".join(p for p in (group.replace("_", " "), f"matter {matter}" if matter else "",
                                                f"since {since}" if since else "") if p))
    return reasons
