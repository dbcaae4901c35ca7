"""Identity resolution: matching records new to the hub to golden records, and survivorship.

Pure and database-free; the hub store and the ingest engine call into it, never the reverse.
The names below are imported from their submodules on first use (PEP 562).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from officehub.lazy import lazy_exports

if TYPE_CHECKING:
    from officehub.identity.matching import (
        Candidate,
        Decision,
        Matcher,
        Ranked,
        date_similarity,
        name_similarity,
        text_similarity,
    )
    from officehub.identity.normalise import (
        NORMALISERS,
        normalise_date,
        normalise_email,
        normalise_id,
        normalise_none,
        normalise_phone,
        normalise_text,
    )
    from officehub.identity.rules import (
        MOST_RECENT,
        EntityIdentity,
        FuzzyField,
        FuzzyRule,
        IdentityConfig,
        KeyRule,
        MatchRules,
        ProbabilisticRule,
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
    "Matcher", "ProbabilisticRule", "Ranked", "SourceRecord", "Survived", "Survivorship", "SurvivorshipRule",
    "column_groups", "date_similarity", "field_groups", "name_similarity", "normalise_date", "normalise_email",
    "normalise_id", "normalise_none", "normalise_phone", "normalise_text", "rule_problems", "survive",
    "text_similarity",
]

#: The submodule defining each public name.
_EXPORTS: dict[str, str] = {
    **dict.fromkeys(("Candidate", "Decision", "Matcher", "Ranked", "date_similarity", "name_similarity", "text_similarity"),
                    "officehub.identity.matching"),
    **dict.fromkeys(("NORMALISERS", "normalise_date", "normalise_email", "normalise_id", "normalise_none",
                     "normalise_phone", "normalise_text"), "officehub.identity.normalise"),
    **dict.fromkeys(("MOST_RECENT", "EntityIdentity", "FuzzyField", "FuzzyRule", "IdentityConfig", "KeyRule",
                     "MatchRules", "ProbabilisticRule", "Survivorship", "SurvivorshipRule", "column_groups", "field_groups",
                     "rule_problems"), "officehub.identity.rules"),
    **dict.fromkeys(("SourceRecord", "Survived", "survive"), "officehub.identity.survivorship"),
}


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
