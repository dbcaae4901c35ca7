"""Policy documents as compliance officers write them: agreements and rules, in YAML."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Collection, Mapping
from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from officehub.canonical_model import Sensitivity
from officehub.policies.legal_bases import BASIS_ID, LegalBasis
from officehub.policies.operators import operators
from officehub.policies.operators.base import Operator

#: Rank of a rule by its most specific selector: field path > entity > class.
RANK_FIELD, RANK_ENTITY, RANK_CLASS = 3, 2, 1

#: ISO 3166-1 alpha-2 in upper case, as systems declare their ``country``.
COUNTRY_CODE = re.compile(r"[A-Z]{2}")


def _register_id(value: str | None) -> str | None:
    if value is not None and not re.fullmatch(BASIS_ID, value):
        raise ValueError("must be the id of a basis in the register of legal bases (e.g. gdpr-9-2-h, "
                         "hipaa-164-506-treatment, or one declared under legal_bases:); keep free wording in 'note'")
    return value


class SpecialCategory(BaseModel):
    """One special category an agreement accepts, and the register basis it is accepted under."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    category: Sensitivity = Field(alias="class")
    basis: str

    @field_validator("basis")
    @classmethod
    def _basis_is_an_id(cls, value: str) -> str | None:
        return _register_id(value)

    @field_validator("category")
    @classmethod
    def _special(cls, value: Sensitivity) -> Sensitivity:
        if not value.is_special_category:
            raise ValueError(f"'{value.value}' is not a special category (medical, criminal, legal): the "
                             "agreement's legal_basis already covers it")
        return value


class Agreement(BaseModel):
    """A data-sharing agreement: who may receive data, why, on what legal basis, until when."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[A-Za-z0-9_.:-]+$")
    destination: str
    purpose: str = Field(min_length=3)
    legal_basis: str = Field(min_length=3, description="the ground for the sharing itself (GDPR Art. 6)")
    special_categories: list[SpecialCategory] = Field(
        [], description="medical, criminal or legal data the destination may receive, each under a register basis")
    valid_from: date
    valid_until: date | None = None

    def in_force(self, today: date) -> bool:
        """True while the agreement is valid on ``today``."""
        return self.valid_from <= today and (self.valid_until is None or today <= self.valid_until)

    def permits(self, sensitivity: Sensitivity, basis: str | None) -> bool:
        """Does this agreement accept data of class ``sensitivity`` released under register basis ``basis``?"""
        return any(p.category == sensitivity and p.basis == basis for p in self.special_categories)


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

    def names(self, entity: str, path: str, sensitivity: Sensitivity | None) -> bool:
        """Does this selector name the field on purpose: its class, its path or its group under the entity?

        ``employee.sick_leave.*`` names the sick-leave fields; ``*``, ``employee.*`` and
        ``entity: employee`` pick them only by being broad.
        """
        if not self.matches(entity, path, sensitivity):
            return False
        if self.classes and sensitivity in self.classes:
            return True
        head, _, rest = (self.field or "").partition(".")
        group = rest.split(".")[0]
        return head == entity and bool(group) and not any(c in group for c in "*?[")


#: Where an entry of a rule's ``when`` sits under it, e.g. ("destinations", 1), and why it never matches.
Unmatchable = tuple[tuple[str | int, ...], str]


class Conditions(BaseModel):
    """When a rule applies: to which destinations, purposes and jurisdictions (site countries)."""

    model_config = ConfigDict(extra="forbid")

    destinations: list[str] | None = None
    purposes: list[str] | None = None
    jurisdictions: list[str] | None = None

    @field_validator("jurisdictions")
    @classmethod
    def _country_codes(cls, codes: list[str] | None) -> list[str] | None:
        # Systems declare their country in upper case: "ua" would never match "UA" and the rule would never apply.
        for code in codes or []:
            if not COUNTRY_CODE.fullmatch(code):
                raise ValueError(f"jurisdiction '{code}' is not an ISO 3166-1 alpha-2 code in upper case (e.g. UA)")
        return codes

    def hold(self, destination: str, purpose: str | None, country: str | None) -> bool:
        """True when every condition that is set holds."""
        return ((self.destinations is None or destination in self.destinations)
                and (self.purposes is None or purpose in self.purposes)
                and (self.jurisdictions is None or country in self.jurisdictions))

    def unmatchable(self, countries: Mapping[str, str | None] | None = None,
                    purposes: Collection[str] | None = None) -> list[Unmatchable]:
        """Every entry that can never match: a rule limited by it silently stops applying.

        ``countries`` maps the project's systems to their country and ``purposes`` holds the
        agreements' purposes; where either is unknown (None), the entries it would check pass.
        """
        found: list[Unmatchable] = [
            ((name,), f"when.{name} is empty: the rule never applies (leave it out to apply everywhere)")
            for name in ("destinations", "purposes", "jurisdictions") if getattr(self, name) == []]
        if countries is not None:
            found += self._unknown_destinations(countries) + self._unreachable_jurisdictions(countries)
        if purposes is not None:
            found += [(("purposes", i), f"when.purposes: no agreement has the purpose '{p}', so this entry "
                                        "never matches") for i, p in enumerate(self.purposes or []) if p not in purposes]
        return found

    def _unknown_destinations(self, countries: Mapping[str, str | None]) -> list[Unmatchable]:
        return [(("destinations", i), f"when.destinations: '{d}' is no system of the project, so this entry "
                                      "never matches") for i, d in enumerate(self.destinations or []) if d not in countries]

    def _unreachable_jurisdictions(self, countries: Mapping[str, str | None]) -> list[Unmatchable]:
        if not self.jurisdictions:
            return []
        found: list[Unmatchable] = []
        if self.destinations is None:
            reachable = set(countries.values())
        else:
            reachable = {countries.get(d) for d in self.destinations}
            found = [(("destinations", i), f"when.jurisdictions can never hold for '{d}': that system has no country")
                     for i, d in enumerate(self.destinations) if d in countries and countries[d] is None]
        return found + [(("jurisdictions", i), f"when.jurisdictions: no system the rule applies to is in {code}, so this entry never matches")
                        for i, code in enumerate(self.jurisdictions) if code not in reachable]


class Rule(BaseModel):
    """Fields a selector picks get an operator, under conditions, with a recorded legal basis."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[A-Za-z0-9_.:/-]+$")
    description: str | None = None
    select: Selector
    when: Conditions = Conditions()
    action: str
    params: dict[str, Any] = {}
    legal_basis: str | None = Field(None, description="a register id, e.g. gdpr-9-2-h")
    note: str | None = Field(None, description="free wording of the legal basis (national law, contract clause)")
    consent: str | None = Field(None, description="field path of a yes/no consent flag on the same record")

    #: Destinations whose agreement sits in the rule's own document (None: not scoped by a PolicySet).
    _home: frozenset[str] | None = PrivateAttr(None)

    @field_validator("legal_basis")
    @classmethod
    def _basis_is_an_id(cls, value: str | None) -> str | None:
        return _register_id(value)

    @model_validator(mode="after")
    def _known_action(self) -> Rule:
        known = operators()
        if self.action not in known:
            raise ValueError(f"unknown action '{self.action}' (known: {', '.join(sorted(known))})")
        known[self.action].Params.model_validate(self.params)
        return self

    @property
    def operator_class(self) -> type[Operator]:
        """The operator class this rule's action names."""
        return operators()[self.action]

    def homed(self, destinations: frozenset[str]) -> Rule:
        """This rule, knowing which destinations' agreements share its document."""
        copy = self.model_copy()
        copy._home = destinations
        return copy

    def may_release_to(self, destination: str | None) -> bool:
        """A rule releases only to destinations whose agreement is in its own document; it restricts anywhere."""
        return self._home is None or destination in self._home


class PolicyDocument(BaseModel):
    """One policy file: agreements, rules, and library templates it uses."""

    model_config = ConfigDict(extra="forbid")

    name: str
    description: str | None = None
    uses: list[str] = Field([], description="templates from the policy library, e.g. hipaa-safe-harbor")
    legal_bases: list[LegalBasis] = Field([], description="the project's own grounds, joining the register")
    agreements: list[Agreement] = []
    rules: list[Rule] = []
