"""Identity resolution: matching records new to the hub to golden records, and survivorship.

Pure and database-free; the hub store and the ingest engine call into it, never the reverse.
The names below are imported from their submodules on first use (PEP 562).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from officehub.identity.matching import (
        NORMALISERS,
        Candidate,
        Decision,
        Matcher,
        date_similarity,
        name_similarity,
        normalise_date,
        normalise_email,
        normalise_id,
        normalise_none,
        normalise_phone,
        normalise_text,
        text_similarity,
    )
    from officehub.identity.rules import (
        MOST_RECENT,
        EntityIdentity,
        FuzzyField,
        FuzzyRule,
        IdentityConfig,
        KeyRule,
        MatchRules,
        Survivorship,
        SurvivorshipRule,
        column_groups,
        field_groups,
        rule_problems,
    )
    from officehub.identity.survivorship import SourceRecord, Survived, survive

__all__ = [
    "MOST_RECENT", "NORMALISERS",
    "Candidate", "Decision", "EntityIdentity", "FuzzyField", "FuzzyRule", "IdentityConfig", "KeyRule", "MatchRules",
    "Matcher", "SourceRecord", "Survived", "Survivorship", "SurvivorshipRule",
    "column_groups", "date_similarity", "field_groups", "name_similarity", "normalise_date", "normalise_email",
    "normalise_id", "normalise_none", "normalise_phone", "normalise_text", "rule_problems", "survive",
    "text_similarity",
]

#: The submodule defining each public name.
_EXPORTS: dict[str, str] = {
    **dict.fromkeys(("NORMALISERS", "Candidate", "Decision", "Matcher", "date_similarity", "name_similarity",
                     "normalise_date", "normalise_email", "normalise_id", "normalise_none", "normalise_phone",
                     "normalise_text", "text_similarity"), "officehub.identity.matching"),
    **dict.fromkeys(("MOST_RECENT", "EntityIdentity", "FuzzyField", "FuzzyRule", "IdentityConfig", "KeyRule",
                     "MatchRules", "Survivorship", "SurvivorshipRule", "column_groups", "field_groups",
                     "rule_problems"), "officehub.identity.rules"),
    **dict.fromkeys(("SourceRecord", "Survived", "survive"), "officehub.identity.survivorship"),
}


def __getattr__(name: str) -> Any:
    """Import a public name from its submodule the first time it is asked for (PEP 562)."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    """The package's names, the ones not imported yet included."""
    return sorted({*globals(), *__all__})
