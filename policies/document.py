"""Policy documents as compliance officers write them: agreements and rules, in YAML."""

from __future__ import annotations

import fnmatch
from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from canonical_model import Sensitivity
from policies.operators import operators

#: Rank of a rule by its most specific selector: field path > entity > class.
RANK_FIELD, RANK_ENTITY, RANK_CLASS = 3, 2, 1


class Agreement(BaseModel):
    """A data-sharing agreement: who may receive data, why, on what legal basis, until when."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[A-Za-z0-9_.:-]+$")
    destination: str
    purpose: str = Field(min_length=3)
    legal_basis: str = Field(min_length=3)
    valid_from: date
    valid_until: date | None = None

    def in_force(self, today: date) -> bool:
        """True while the agreement is valid on ``today``."""
        return self.valid_from <= today and (self.valid_until is None or today <= self.valid_until)


class Selector(BaseModel):
    """Which fields a rule applies to: a field path (glob), an entity, sensitivity classes."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    field: str | None = Field(None, description="entity.path, globs allowed: employee.sick_leave.*")
    entity: str | None = None
    classes: list[Sensitivity] | None = Field(None, alias="class")

    @field_validator("classes", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @model_validator(mode="after")
    def _something(self) -> Selector:
        if not (self.field or self.entity or self.classes):
            raise ValueError("a selector needs at least one of 'field', 'entity', 'class'")
        return self

    @property
    def rank(self) -> int:
        """How specific the selector is; the most specific matching rule decides."""
        return RANK_FIELD if self.field else RANK_ENTITY if self.entity else RANK_CLASS

    def matches(self, entity: str, path: str, sensitivity: Sensitivity | None) -> bool:
        """Does this selector pick field ``path`` (without the entity) of ``entity``?"""
        if self.entity and self.entity != entity:
            return False
        if self.classes and sensitivity not in self.classes:
            return False
        return not self.field or fnmatch.fnmatchcase(f"{entity}.{path}", self.field)


class Conditions(BaseModel):
    """When a rule applies: to which destinations, purposes and jurisdictions (site countries)."""

    model_config = ConfigDict(extra="forbid")

    destinations: list[str] | None = None
    purposes: list[str] | None = None
    jurisdictions: list[str] | None = None

    def hold(self, destination: str, purpose: str | None, country: str | None) -> bool:
        """True when every condition that is set holds."""
        return ((self.destinations is None or destination in self.destinations)
                and (self.purposes is None or purpose in self.purposes)
                and (self.jurisdictions is None or country in self.jurisdictions))


class Rule(BaseModel):
    """Fields a selector picks get an operator, under conditions, with a recorded legal basis."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[A-Za-z0-9_.:/-]+$")
    description: str | None = None
    select: Selector
    when: Conditions = Conditions()
    action: str
    params: dict[str, Any] = {}
    legal_basis: str | None = Field(None, min_length=3)
    consent: str | None = Field(None, description="field path of a yes/no consent flag on the same record")

    @model_validator(mode="after")
    def _known_action(self) -> Rule:
        known = operators()
        if self.action not in known:
            raise ValueError(f"unknown action '{self.action}' (known: {', '.join(sorted(known))})")
        known[self.action].Params.model_validate(self.params)
        return self

    @property
    def operator_class(self):  # type: ignore[no-untyped-def]
        """The operator class this rule's action names."""
        return operators()[self.action]


class PolicyDocument(BaseModel):
    """One policy file: agreements, rules, and library templates it uses."""

    model_config = ConfigDict(extra="forbid")

    name: str
    description: str | None = None
    uses: list[str] = Field([], description="templates from the policy library, e.g. hipaa-safe-harbor")
    agreements: list[Agreement] = []
    rules: list[Rule] = []
