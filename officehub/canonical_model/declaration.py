"""The YAML form of the canonical model: entities and fields as an IT team declares them.

A model file declares new entities and extends existing ones::

    entities:
      supplier:
        description: A company we buy from (accounting)
        fields:
          legal_name: {type: string, class: public, required: true, max_length: 200}
          registration_number: {type: string, class: public, validator: ua.edrpou}
    extend:
      employee:
        fields:
          tax_id: {type: string, class: financial, validator: ua.rntrkp}

Every top-level field names its sensitivity class (there is no default: an unclassified
field would be fail-closed everywhere, which is never what its author meant). Members
of a group inherit the group's class and may name a stricter one. ``required`` on a
group member means "required whenever the group is present" (an employment without a
hire date is refused, no employment at all is fine).

This module only describes and checks the declarations; :mod:`officehub.canonical_model.declared`
turns them into the pydantic models every other part of the hub is built from.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from officehub.canonical_model.sensitivity import Sensitivity

#: Scalar types, and the value types the model already has (their inner fields are fixed).
SCALAR_TYPES = ("string", "integer", "decimal", "boolean", "date", "datetime", "enum")
VALUE_TYPES = ("money", "person_name", "address", "contact_point", "phone", "email", "iban", "country",
               "subdivision", "gtin", "date_range")
FieldType = Literal["string", "integer", "decimal", "boolean", "date", "datetime", "enum",
                    "money", "person_name", "address", "contact_point", "phone", "email", "iban", "country",
                    "subdivision", "gtin", "date_range", "group", "reference"]

#: Field and entity names become SQL columns and tables: lower-case identifiers, no "__" (the flattening separator).
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_LENGTH_TYPES = ("string",)
_RANGE_TYPES = ("integer", "decimal")


def check_name(name: str, what: str) -> str:
    """``name`` if it can be a column or table name, else a ValueError naming ``what``."""
    if not _NAME.match(name) or "__" in name or name.endswith("_"):
        raise ValueError(f"{what} {name!r} must be lower-case letters, digits and single underscores, "
                         "starting with a letter (at most 63 characters)")
    return name


#: Columns the hub store keeps beside the fields (golden, source, history and child tables).
#: A field of the same name would collide with one of them, so it is refused here, by name.
RESERVED_FIELD_NAMES = frozenset({
    "id", "canonical_id", "version", "content_hash", "change_seq", "schema_version", "updated_at",
    "status", "merged_into", "deleted_at", "purge_after", "changed_by", "run_id", "lineage",
    "system", "vendor_id", "changed_at", "seen_run",
    "sole_system", "sole_vendor_id", "sole_changed_at", "sole_seen_run", "sole_sent_hash",
})


def _named(what: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """A validator that checks every key of a mapping with :func:`check_name`."""
    def check(value: dict[str, Any]) -> dict[str, Any]:
        for name in value:
            check_name(name, what)
            if what == "field" and name in RESERVED_FIELD_NAMES:
                raise ValueError(f"field {name!r} is a name the hub store keeps for itself; "
                                 f"choose another (reserved: {', '.join(sorted(RESERVED_FIELD_NAMES))})")
        return value
    return check


#: Fields by name; the names become columns.
FieldMap = Annotated[dict[str, "FieldDecl"], AfterValidator(_named("field"))]


class ValidatorByCountry(BaseModel):
    """Identifier checks chosen per record by a sibling country field.

    A registration or tax number's format depends on the country that issued it::

        registration_number:
          type: string
          validator: {country: registration_country, formats: {UA: ua.edrpou, PL: pl.regon}}

    A number is checked against its country's format (or formats: ``UA: [ua.edrpou, ua.rntrc]``
    for a company code or a sole trader's tax number); a number without its country is
    refused (it cannot be checked); a country with no format listed is taken as given.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: The sibling field (same entity or group) that says which country issued the number.
    country: str
    #: ISO 3166-1 alpha-2 country → python-stdnum module name, or names of which one must accept it.
    formats: dict[Annotated[str, Field(pattern=r"^[A-Z]{2}$")], str | list[str]] = Field(min_length=1)


class FieldDecl(BaseModel):
    """One field: its type, sensitivity class, constraints and (for groups) its members."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)

    type: FieldType
    sensitivity: Sensitivity | None = Field(None, alias="class")
    description: str | None = None
    required: bool = False
    #: People type anything here (notes): it may carry content of a stricter class than its own.
    free_text: bool = False
    default: Any = None

    # -- constraints ---------------------------------------------------------------------
    min_length: int | None = Field(None, ge=0)
    max_length: int | None = Field(None, ge=1)
    pattern: str | None = None
    minimum: int | float | None = None
    maximum: int | float | None = None
    precision: int | None = Field(None, ge=1, le=38)
    scale: int | None = Field(None, ge=0, le=38)
    #: enum: the values, or value → label.
    values: list[str] | dict[str, str] | None = None
    #: A named identifier check: a python-stdnum module (``ua.edrpou``, ``eu.vat``, ``de.idnr``),
    #: or one per country, chosen by a sibling field of type country (:class:`ValidatorByCountry`).
    validator: str | ValidatorByCountry | None = None

    # -- structure -----------------------------------------------------------------------
    #: group: the members; a repeating group (``repeated: true``) is stored in a child table.
    fields: FieldMap | None = None
    repeated: bool = False
    #: reference: the entity the value points at.
    entity: str | None = None

    @field_validator("pattern")
    @classmethod
    def _pattern_compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"pattern does not compile ({exc.msg})") from None
        return value

    @model_validator(mode="after")
    def _constraints_fit_the_type(self) -> FieldDecl:
        wrong = [name for name, types in (("min_length", _LENGTH_TYPES), ("max_length", _LENGTH_TYPES),
                                          ("pattern", _LENGTH_TYPES), ("minimum", _RANGE_TYPES),
                                          ("maximum", _RANGE_TYPES), ("precision", ("decimal",)),
                                          ("scale", ("decimal",)), ("values", ("enum",)),
                                          ("validator", ("string",)), ("fields", ("group",)),
                                          ("entity", ("reference",)))
                 if getattr(self, name) is not None and self.type not in types]
        if wrong:
            raise ValueError(f"{', '.join(wrong)} does not apply to a field of type {self.type}")
        if self.repeated and self.type != "group":
            raise ValueError("only a group can be repeated")
        if self.type == "group" and not self.fields:
            raise ValueError("a group needs its fields")
        if self.type == "enum" and not self.values:
            raise ValueError("an enum needs its values")
        if self.type == "reference" and not self.entity:
            raise ValueError("a reference needs the entity it points at")
        if self.free_text and self.type != "string":
            raise ValueError("only a string can be free text")
        self._bounds_are_ordered()
        return self

    def _bounds_are_ordered(self) -> None:
        if self.min_length is not None and self.max_length is not None and self.min_length > self.max_length:
            raise ValueError("min_length is greater than max_length")
        if self.minimum is not None and self.maximum is not None and self.minimum > self.maximum:
            raise ValueError("minimum is greater than maximum")
        if self.precision is not None and self.scale is not None and self.scale > self.precision:
            raise ValueError("scale is greater than precision")

    @property
    def enum_values(self) -> tuple[str, ...]:
        """An enum's values in their declared order."""
        return tuple(self.values or ())

    @property
    def enum_labels(self) -> dict[str, str]:
        """An enum's labels by value (the value itself where none is given)."""
        if isinstance(self.values, dict):
            return dict(self.values)
        return {v: v for v in self.values or ()}


class EntityDecl(BaseModel):
    """An entity: what it is, and its fields."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    description: str | None = None
    fields: FieldMap
    #: A record needs at least one of these fields (a customer is a person with a name, or an
    #: organisation); each may be a group, which counts when any of its members is given.
    required_one_of: list[str] = []

    @model_validator(mode="after")
    def _alternatives_are_fields(self) -> EntityDecl:
        unknown = [name for name in self.required_one_of if name not in self.fields]
        if unknown:
            raise ValueError(f"required_one_of names {', '.join(unknown)}, which the entity does not have")
        if len(self.required_one_of) == 1:
            raise ValueError("required_one_of needs two fields or more (one alone is 'required: true')")
        return self


class ExtensionDecl(BaseModel):
    """Fields added to an entity declared elsewhere (a built-in one, usually)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    fields: FieldMap


class ModelFile(BaseModel):
    """One model file: new entities and extensions of existing ones."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    entities: Annotated[dict[str, EntityDecl], AfterValidator(_named("entity"))] = {}
    extend: dict[str, ExtensionDecl] = {}
