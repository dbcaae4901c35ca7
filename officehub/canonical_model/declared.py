"""Declared entities built into the pydantic models the rest of the hub works from.

The layout, the vectorised checks, the store's tables, the policies and the mappings
all read pydantic models with ``Annotated`` markers (:mod:`officehub.canonical_model.layout`);
a declaration (:mod:`officehub.canonical_model.declaration`) becomes exactly such a model, so a
declared entity is handled like a built-in one everywhere downstream.
"""

from __future__ import annotations

import importlib
import re
import types
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypedDict

from pydantic import AfterValidator, EmailStr, Field, create_model

from officehub.canonical_model.declaration import EntityDecl, ExtensionDecl, FieldDecl, ModelFile, ValidatorByCountry
from officehub.canonical_model.record import CanonicalRecord
from officehub.canonical_model.sensitivity import Classified, FreeTextMarker
from officehub.canonical_model.values import (
    Address,
    ContactPoint,
    CountryCode,
    DateRange,
    E164Phone,
    Gtin,
    Iban,
    Money,
    PersonName,
    SubdivisionCode,
    ValueModel,
)

if TYPE_CHECKING:
    from pydantic import GetJsonSchemaHandler
    from pydantic.json_schema import JsonSchemaValue
    from pydantic_core import CoreSchema

_SCALARS: dict[str, Any] = {"string": str, "integer": int, "decimal": Decimal, "boolean": bool,
                            "date": date, "datetime": datetime}
_VALUE_TYPES: dict[str, Any] = {"money": Money, "person_name": PersonName, "address": Address,
                                "contact_point": ContactPoint, "phone": E164Phone, "email": EmailStr,
                                "iban": Iban, "country": CountryCode, "subdivision": SubdivisionCode, "gtin": Gtin,
                                "date_range": DateRange}
#: A python-stdnum module name: a country code and a number type (``ua.edrpou``), or a global one (``iban``).
_VALIDATOR_NAME = re.compile(r"^[a-z]{2,6}(\.[a-z0-9_]+)?$")


class DeclarationError(ValueError):
    """A declaration that cannot become a model; ``where`` is the path of the entity and field."""

    def __init__(self, where: str, message: str) -> None:
        self.where = where
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True)
class Reference:
    """``Annotated`` marker of a field that points at a record of another entity."""

    entity: str

    def __get_pydantic_json_schema__(self, core_schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        schema = handler(core_schema)
        schema["x-reference"] = self.entity
        return schema


@dataclass(frozen=True)
class IdentifierByCountry:
    """``Annotated`` marker of a number whose format depends on a sibling country field.

    The vectorised checks (:mod:`officehub.canonical_model.checks`) apply it once per distinct
    (country, number) pair and store the compact form.
    """

    country: str
    formats: tuple[tuple[str, tuple[str, ...]], ...]

    @property
    def rule_text(self) -> str:
        """How ``model fields`` shows the rule."""
        listed = ", ".join(f"{code} {' or '.join(names)}" for code, names in self.formats)
        return f"valid for its {self.country} (python-stdnum: {listed}; other countries as given)"

    def validators(self) -> dict[str, Callable[[str], str]]:
        """The check of each listed country's format(s)."""
        return {code: _any_of([identifier_validator(name) for name in names]) for code, names in self.formats}


def _any_of(checks: list[Callable[[str], str]]) -> Callable[[str], str]:
    """A check that passes when one of ``checks`` does; else every one's reason."""
    if len(checks) == 1:
        return checks[0]

    def check(value: str) -> str:
        reasons = []
        for one in checks:
            try:
                return one(value)
            except ValueError as exc:
                reasons.append(str(exc))
        raise ValueError("; ".join(reasons))
    return check


@dataclass(frozen=True)
class EnumLabels:
    """``Annotated`` marker carrying an enum's labels, for ``model fields`` and forms."""

    labels: tuple[tuple[str, str], ...]


def identifier_validator(name: str) -> Callable[[str], str]:
    """A check of ``name``'s identifier (python-stdnum module) that returns the compact form.

    Its errors give python-stdnum's reason (wrong length, checksum, format), never the value.
    """
    if not _VALIDATOR_NAME.match(name):
        raise ValueError(f"unknown identifier validator {name!r}")
    try:
        module = importlib.import_module(f"stdnum.{name}")
    except ImportError:
        raise ValueError(f"unknown identifier validator {name!r} (see python-stdnum's list of formats)") from None
    if not callable(getattr(module, "validate", None)):
        raise ValueError(f"unknown identifier validator {name!r} (see python-stdnum's list of formats)")
    from stdnum.exceptions import ValidationError

    def check(value: str) -> str:
        try:
            return str(module.validate(value))
        except ValidationError as exc:
            # python-stdnum's messages ("The number has an invalid check digit.") quote no value.
            # Each error it raises (InvalidFormat, InvalidChecksum, …) has a message; its types declare
            # the attribute on those subclasses only, not on the ValidationError they share.
            raise ValueError(f"not a valid {name}: {exc.message.rstrip('.')}") from None  # type: ignore[attr-defined]

    check.__name__ = f"valid_{name.replace('.', '_')}"
    # A function takes attributes at run time; the type checker's function type declares none.
    check.label = f"valid {name} (python-stdnum)"  # type: ignore[attr-defined]
    return check


class _Limits(TypedDict, total=False):
    """The arguments of pydantic's ``Field`` a declaration sets: only those it gives."""

    min_length: int
    max_length: int
    pattern: str
    ge: int | float | Decimal
    le: int | float | Decimal
    max_digits: int
    decimal_places: int


def _limits(decl: FieldDecl) -> _Limits:
    def bound(value: int | float) -> int | float | Decimal:
        # A fractional bound of a decimal as a Decimal, so that 0.1 means exactly 0.1.
        return Decimal(str(value)) if decl.type == "decimal" and isinstance(value, float) else value

    limits: _Limits = {}
    if decl.min_length is not None:
        limits["min_length"] = decl.min_length
    if decl.max_length is not None:
        limits["max_length"] = decl.max_length
    if decl.pattern is not None:
        limits["pattern"] = decl.pattern
    if decl.minimum is not None:
        limits["ge"] = bound(decl.minimum)
    if decl.maximum is not None:
        limits["le"] = bound(decl.maximum)
    if decl.precision is not None:
        limits["max_digits"] = decl.precision
    if decl.scale is not None:
        limits["decimal_places"] = decl.scale
    return limits


def _constraints(decl: FieldDecl) -> list[Any]:
    limits = _limits(decl)
    found: list[Any] = [Field(**limits)] if limits else []
    if isinstance(decl.validator, ValidatorByCountry):
        formats = {code: (names,) if isinstance(names, str) else tuple(names)
                   for code, names in decl.validator.formats.items()}
        marker = IdentifierByCountry(decl.validator.country, tuple(sorted(formats.items())))
        marker.validators()  # every format name must be a known validator
        found.append(marker)
    elif decl.validator:
        found.append(AfterValidator(identifier_validator(decl.validator)))
    if decl.type == "enum" and isinstance(decl.values, dict):
        found.append(EnumLabels(tuple(decl.values.items())))
    if decl.type == "reference":
        found.append(Reference(decl.entity or ""))
    return found


def _value_type(decl: FieldDecl, owner: str, where: str) -> Any:
    if decl.type == "group":
        _countries_are_siblings(where, decl.fields or {})
        members = {name: _field(member, owner, f"{where}.{name}") for name, member in (decl.fields or {}).items()}
        # pydantic's create_model takes the fields only as keyword arguments: the checker matches a
        # dict unpacked into them against its other parameters (__config__, __doc__…) as well.
        group: type[ValueModel] = create_model(  # type: ignore[call-overload]
            _class_name(owner, where), __base__=ValueModel, **members)
        group.__doc__ = decl.description or f"The {where} of a {owner}."
        # list[group], spelled so that a type checker takes a class made at run time as its item.
        return types.GenericAlias(list, (group,)) if decl.repeated else group
    if decl.type == "enum":
        return Literal[decl.enum_values]
    if decl.type == "reference":
        return str
    return _SCALARS.get(decl.type) or _VALUE_TYPES[decl.type]


def _field(decl: FieldDecl, owner: str, where: str) -> tuple[Any, Any]:
    """The (annotation, default) pydantic's create_model takes for one declared field."""
    try:
        base = _value_type(decl, owner, where)
        constraints = _constraints(decl)
    except ValueError as exc:
        if isinstance(exc, DeclarationError):
            raise
        raise DeclarationError(where, str(exc)) from None
    if constraints:
        base = Annotated[base, *constraints]
    if decl.repeated:
        default: Any = []
    elif decl.required:
        default = ...
    elif decl.default is not None:
        default = decl.default
    else:
        base, default = base | None, None
    markers = ([Classified(decl.sensitivity)] if decl.sensitivity else []) + ([FreeTextMarker()] if decl.free_text else [])
    annotation = Annotated[base, *markers] if markers else base
    return annotation, default


def _countries_are_siblings(where: str, fields: Mapping[str, FieldDecl]) -> None:
    """Every per-country validator names a sibling field of type country."""
    for name, decl in fields.items():
        if isinstance(decl.validator, ValidatorByCountry):
            country = fields.get(decl.validator.country)
            if country is None or country.type != "country":
                raise DeclarationError(f"{where}.{name}",
                                       f"validator.country must name a field of type country beside it, "
                                       f"not {decl.validator.country!r}")


def _class_name(owner: str, where: str) -> str:
    return "".join(part.capitalize() for part in re.split(r"[._]", f"{owner}.{where}"))


def build_entity(name: str, decl: EntityDecl) -> type[CanonicalRecord]:
    """The pydantic model of the entity ``name`` as declared; DeclarationError naming the field if not."""
    for field_name, field_decl in decl.fields.items():
        if field_decl.sensitivity is None:
            raise DeclarationError(f"{name}.{field_name}", "a sensitivity class ('class') is required")
    _countries_are_siblings(name, decl.fields)
    fields = {field_name: _field(field_decl, name, field_name) for field_name, field_decl in decl.fields.items()}
    # As for groups: pydantic's create_model takes the fields only as keyword arguments.
    model: type[CanonicalRecord] = create_model(  # type: ignore[call-overload]
        _class_name(name, ""), __base__=CanonicalRecord, **fields)
    model.__doc__ = decl.description or f"A {name}."
    model.entity_name = name
    model.required_one_of = tuple(decl.required_one_of)
    return model


def merge(files: list[ModelFile]) -> dict[str, EntityDecl]:
    """The entities of ``files`` with every extension applied, in declaration order.

    An entity declared twice, an extension of an unknown entity, or an extension that
    redeclares an existing field is a DeclarationError.
    """
    entities: dict[str, EntityDecl] = {}
    for file in files:
        for name, entity in file.entities.items():
            if name in entities:
                raise DeclarationError(name, "entity declared twice (extend it instead)")
            entities[name] = entity
    for file in files:
        for name, extension in file.extend.items():
            entities[name] = _extended(name, entities.get(name), extension)
    return entities


def _extended(name: str, entity: EntityDecl | None, extension: ExtensionDecl) -> EntityDecl:
    if entity is None:
        raise DeclarationError(name, "extends an entity that is not declared")
    again = sorted(set(entity.fields) & set(extension.fields))
    if again:
        raise DeclarationError(f"{name}.{again[0]}", "the entity already has this field")
    return entity.model_copy(update={"fields": {**entity.fields, **extension.fields}})


def build_entities(declarations: Mapping[str, EntityDecl]) -> dict[str, type[CanonicalRecord]]:
    """Models for every declared entity; references must point at one of them."""
    known = set(declarations)
    for name, decl in declarations.items():
        for where, field_decl in _all_fields(name, decl.fields):
            if field_decl.type == "reference" and field_decl.entity not in known:
                raise DeclarationError(where, f"refers to entity {field_decl.entity!r}, which is not declared")
    return {name: build_entity(name, decl) for name, decl in declarations.items()}


def _all_fields(prefix: str, fields: Mapping[str, FieldDecl]) -> list[tuple[str, FieldDecl]]:
    found = []
    for name, decl in fields.items():
        found.append((f"{prefix}.{name}", decl))
        found += _all_fields(f"{prefix}.{name}", decl.fields or {})
    return found
