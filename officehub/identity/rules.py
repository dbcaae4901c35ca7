"""Identity rules as users write them under ``identity:`` in officehub.yaml.

Per entity: how a record new to the hub is matched to an existing golden record
(deterministic keys, then weighted fuzzy fields within blocks) and how the golden
record's fields are chosen from the systems that supply it (survivorship).
Columns are the entity's flat golden columns (``name__first``, ``address__city``).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from officehub.canonical_model import ENTITIES, layout, model_cache
from officehub.canonical_model.layout import COLUMN_SEPARATOR

Normaliser = Literal["email", "phone", "text", "id", "date", "none"]
FuzzyMethod = Literal["name", "text", "exact", "date"]
RuleName = Literal["trust", "most_recent", "most_complete", "source"]

_NAME = r"^[a-z][a-z0-9_]*$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class KeyRule(_Strict):
    """A deterministic key: records whose columns are all equal after normalisation are the same."""

    name: str = Field(pattern=_NAME, description="name of the key, shown in match evidence (e.g. 'email')")
    columns: list[str] = Field(min_length=1, description="golden columns that together form the key")
    normalise: Normaliser = Field(
        "text", description="how each column is normalised before comparing: email, phone, text, id, date or none")


class FuzzyField(_Strict):
    """One field compared by similarity, with its share of the fuzzy score."""

    columns: list[str] = Field(min_length=1, description="golden columns compared together")
    weight: float = Field(gt=0, description="relative weight; weights are renormalised over comparable fields")
    method: FuzzyMethod = Field(
        "text", description="name (token-aligned name similarity), text (token set), exact (1/0) "
                            "or date (1 equal, 0.8 day and month swapped, else 0)")

    @model_validator(mode="after")
    def _date_is_one_column(self) -> FuzzyField:
        if self.method == "date" and len(self.columns) != 1:
            raise ValueError("method 'date' compares exactly one column")
        return self


class FuzzyRule(_Strict):
    """Weighted similarity over fields, for candidates that share a block."""

    blocks: list[list[str]] = Field(
        min_length=1, description="a candidate must share all values of at least one block (list of columns)")
    fields: dict[str, FuzzyField] = Field(min_length=1, description="compared fields by a name of your choice")
    link_at: float = Field(0.92, gt=0, le=1, description="score at or above which a record is linked automatically")
    review_at: float = Field(0.75, gt=0, le=1, description="score at or above which a match goes to the review queue")

    @field_validator("blocks")
    @classmethod
    def _blocks_not_empty(cls, blocks: list[list[str]]) -> list[list[str]]:
        if any(not block for block in blocks):
            raise ValueError("a block names at least one column")
        return blocks

    @model_validator(mode="after")
    def _review_below_link(self) -> FuzzyRule:
        if self.review_at > self.link_at:
            raise ValueError(f"review_at ({self.review_at}) must not be above link_at ({self.link_at})")
        return self

    @property
    def total_weight(self) -> float:
        """Sum of all field weights."""
        return sum(f.weight for f in self.fields.values())


class ProbabilisticRule(_Strict):
    """Fellegi–Sunter matching with a trained model file, for candidates that share a block."""

    model: str = Field(description="the model file, relative to the project (written by officehub match train)")
    link_at: float = Field(0.99, gt=0, lt=1, description="match probability at or above which a record is linked")
    review_at: float = Field(0.5, gt=0, lt=1, description="match probability at or above which a pair is queued")

    @model_validator(mode="after")
    def _review_below_link(self) -> ProbabilisticRule:
        if self.review_at > self.link_at:
            raise ValueError(f"review_at ({self.review_at}) must not be above link_at ({self.link_at})")
        return self


class MatchRules(_Strict):
    """How a record new to the hub finds its golden record."""

    within_system: bool = Field(
        False, description="also match against records only the same system supplied (dedupe inside a system)")
    keys: list[KeyRule] = Field([], description="deterministic keys, any one of which links")
    fuzzy: FuzzyRule | None = Field(None, description="weighted similarity when no key links")
    probabilistic: ProbabilisticRule | None = Field(
        None, description="a trained Fellegi–Sunter model when no key links (instead of fuzzy)")

    @model_validator(mode="after")
    def _one_similarity(self) -> MatchRules:
        if self.fuzzy is not None and self.probabilistic is not None:
            raise ValueError("choose fuzzy or probabilistic matching, not both")
        return self

    @property
    def matches(self) -> bool:
        """Whether any rule can link a record to another."""
        return bool(self.keys or self.fuzzy or self.probabilistic)

    @field_validator("keys")
    @classmethod
    def _unique_key_names(cls, keys: list[KeyRule]) -> list[KeyRule]:
        names = [k.name for k in keys]
        if dupes := sorted({n for n in names if names.count(n) > 1}):
            raise ValueError(f"key names must be unique: {', '.join(dupes)}")
        return keys


class SurvivorshipRule(_Strict):
    """How one field group's value is chosen among the systems that supply it."""

    rule: RuleName = Field(description="trust, most_recent, most_complete or source")
    order: list[str] | None = Field(None, description="trust: systems from most to least trusted")
    system: str | None = Field(None, description="source: the one system that supplies the field")

    @model_validator(mode="after")
    def _parameters_fit_rule(self) -> SurvivorshipRule:
        if self.rule == "trust" and not self.order:
            raise ValueError("rule 'trust' needs 'order' (systems from most to least trusted)")
        if self.rule == "source" and not self.system:
            raise ValueError("rule 'source' needs 'system'")
        if self.order is not None and self.rule != "trust":
            raise ValueError("'order' belongs to rule 'trust' only")
        if self.system is not None and self.rule != "source":
            raise ValueError("'system' belongs to rule 'source' only")
        if self.order and len(set(self.order)) != len(self.order):
            raise ValueError("'order' names a system twice")
        return self


MOST_RECENT = SurvivorshipRule(rule="most_recent")


class Survivorship(_Strict):
    """Which source supplies each top-level field of the golden record."""

    default: SurvivorshipRule = Field(MOST_RECENT, description="rule for fields not listed under 'fields'")
    fields: dict[str, SurvivorshipRule] = Field(
        {}, description="rule per top-level field; a nested field's columns always come from one source")

    def rule_for(self, field: str) -> SurvivorshipRule:
        """The rule that applies to the top-level field ``field``."""
        return self.fields.get(field, self.default)


class EntityIdentity(_Strict):
    """Matching and survivorship rules of one entity."""

    match: MatchRules = Field(MatchRules(), description="how new records are matched to golden records")
    survivorship: Survivorship = Field(Survivorship(), description="how golden field values are chosen")

    def systems_named(self) -> set[str]:
        """Systems the survivorship rules name (for checking against the project's systems)."""
        rules = [self.survivorship.default, *self.survivorship.fields.values()]
        return {s for r in rules for s in (r.order or [])} | {r.system for r in rules if r.system}


class IdentityConfig(_Strict):
    """The ``identity:`` section: rules per entity; an entity left out matches nothing (xref only).

    The built-ins are named fields; a project's own entities are further keys, checked the same way.
    """

    model_config = ConfigDict(extra="allow")

    customer: EntityIdentity | None = None
    employee: EntityIdentity | None = None
    product: EntityIdentity | None = None

    @field_validator("customer", "employee", "product")
    @classmethod
    def _columns_exist(cls, value: EntityIdentity | None, info) -> EntityIdentity | None:  # type: ignore[no-untyped-def]
        if value is not None and (problems := rule_problems(info.field_name, value)):
            raise ValueError("; ".join(problems))
        return value

    @model_validator(mode="after")
    def _declared_entities(self) -> IdentityConfig:
        extra = self.__pydantic_extra__ or {}
        for name, value in extra.items():
            if name not in ENTITIES:
                raise ValueError(f"unknown entity '{name}' (known: {', '.join(sorted(ENTITIES))})")
            rules = EntityIdentity.model_validate(value)
            if problems := rule_problems(name, rules):
                raise ValueError(f"{name}: " + "; ".join(problems))
            extra[name] = rules
        return self

    def for_entity(self, entity: str) -> EntityIdentity:
        """The rules of ``entity``; the defaults (no matching, most recent wins) when not configured."""
        if entity not in ENTITIES:
            raise KeyError(entity)
        return getattr(self, entity, None) or EntityIdentity()

    def items(self) -> Iterator[tuple[str, EntityIdentity]]:
        """(entity, rules) for the configured entities."""
        return ((name, rules) for name in ENTITIES if (rules := getattr(self, name, None)) is not None)


@model_cache
def column_groups(entity: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Like :func:`field_groups`, immutable and cached (for hot paths)."""
    groups: dict[str, list[str]] = {}
    for leaf in layout(entity).fields:
        groups.setdefault(leaf.column.split(COLUMN_SEPARATOR, 1)[0], []).append(leaf.column)
    return tuple((name, tuple(cols)) for name, cols in groups.items())


def field_groups(entity: str) -> dict[str, list[str]]:
    """Top-level field name → its leaf columns (``address`` → ``address__street``, …), in layout order."""
    return {name: list(cols) for name, cols in column_groups(entity)}


def _unknown(entity: str, where: str, names: list[str], known: list[str], what: str) -> list[str]:
    problems = []
    for name in names:
        if name not in known:
            hint = difflib.get_close_matches(name, known, n=1)
            suggestion = f" (did you mean '{hint[0]}'?)" if hint else ""
            problems.append(f"{where}: '{name}' is not a {what} of {entity}{suggestion}")
    return problems


def rule_problems(entity: str, rules: EntityIdentity) -> list[str]:
    """Every column or field the rules name that ``entity`` does not have, as messages."""
    columns = [leaf.column for leaf in layout(entity).fields]
    match = rules.match
    problems = []
    for i, key in enumerate(match.keys):
        problems += _unknown(entity, f"match.keys[{i}] ({key.name})", key.columns, columns, "column")
    if match.fuzzy is not None:
        for i, block in enumerate(match.fuzzy.blocks):
            problems += _unknown(entity, f"match.fuzzy.blocks[{i}]", block, columns, "column")
        for name, fuzzy_field in match.fuzzy.fields.items():
            problems += _unknown(entity, f"match.fuzzy.fields.{name}", fuzzy_field.columns, columns, "column")
    top = list(field_groups(entity))
    problems += _unknown(entity, "survivorship.fields", list(rules.survivorship.fields), top, "top-level field")
    return problems


__all__ = [
    "MOST_RECENT",
    "EntityIdentity",
    "FuzzyField",
    "FuzzyRule",
    "IdentityConfig",
    "KeyRule",
    "MatchRules",
    "ProbabilisticRule",
    "Survivorship",
    "SurvivorshipRule",
    "column_groups",
    "field_groups",
    "rule_problems",
]
