"""Identity resolution: matching records new to the hub to golden records, and survivorship.

Pure and database-free; the hub store and the ingest engine call into it, never the reverse.
"""

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
