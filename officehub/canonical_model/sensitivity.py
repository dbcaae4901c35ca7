"""Sensitivity classes: every canonical field carries exactly one.

A class is attached with an ``Annotated`` marker, e.g. ``Personal[str]`` or
``Medical[list[SickLeave]]``. A marker on a nested value applies to every leaf
inside it; where a leaf carries its own marker too, the stricter class wins.
A leaf that ends up with no class at all is *unclassified*, and policies treat
it as forbidden until someone classifies it (fail closed).

Beside its class, a text field may be marked ``FreeText``: whatever staff type
into it (a customer's notes) can carry content of any class, health or court
matters included, so policy checks point out every destination that can read it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

if TYPE_CHECKING:
    from pydantic import GetJsonSchemaHandler
    from pydantic.json_schema import JsonSchemaValue
    from pydantic_core import CoreSchema

T = TypeVar("T")


class Sensitivity(StrEnum):
    """The closed set of sensitivity classes, from least to most restricted."""

    PUBLIC = "public"
    INTERNAL = "internal"
    PERSONAL = "personal"
    FINANCIAL = "financial"
    LEGAL = "legal"
    CRIMINAL = "criminal"
    MEDICAL = "medical"

    @property
    def rank(self) -> int:
        """Position in the order of restriction (higher is stricter)."""
        return _ORDER.index(self)

    @property
    def is_special_category(self) -> bool:
        """True for classes that law shields specially (medical, criminal, legal)."""
        return self in SPECIAL_CATEGORIES


_ORDER = list(Sensitivity)

#: Classes denied to every destination unless a rule allows them with a legal basis.
SPECIAL_CATEGORIES = frozenset({Sensitivity.MEDICAL, Sensitivity.CRIMINAL, Sensitivity.LEGAL})


def stricter(a: Sensitivity | None, b: Sensitivity | None) -> Sensitivity | None:
    """The more restricted of two classes; ``None`` (unclassified) yields to the other."""
    if a is None or b is None:
        return a or b
    return a if a.rank >= b.rank else b


@dataclass(frozen=True)
class Classified:
    """``Annotated`` marker carrying a field's sensitivity class."""

    sensitivity: Sensitivity

    def __get_pydantic_json_schema__(self, core_schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        schema = handler(core_schema)
        schema["x-sensitivity"] = self.sensitivity.value
        return schema


def sensitivity_of(metadata: list[Any]) -> Sensitivity | None:
    """The class named by the markers in a field's metadata, if any."""
    found: Sensitivity | None = None
    for item in metadata:
        if isinstance(item, Classified):
            found = stricter(found, item.sensitivity)
    return found


@dataclass(frozen=True)
class FreeTextMarker:
    """``Annotated`` marker of a field people type anything into (notes, comments)."""

    def __get_pydantic_json_schema__(self, core_schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        schema = handler(core_schema)
        schema["x-free-text"] = True
        return schema


def is_free_text(metadata: list[Any]) -> bool:
    """True when a field's metadata marks it as free text."""
    return any(isinstance(item, FreeTextMarker) for item in metadata)


FreeText = Annotated[T, FreeTextMarker()]
Public = Annotated[T, Classified(Sensitivity.PUBLIC)]
Internal = Annotated[T, Classified(Sensitivity.INTERNAL)]
Personal = Annotated[T, Classified(Sensitivity.PERSONAL)]
Financial = Annotated[T, Classified(Sensitivity.FINANCIAL)]
Legal = Annotated[T, Classified(Sensitivity.LEGAL)]
Criminal = Annotated[T, Classified(Sensitivity.CRIMINAL)]
Medical = Annotated[T, Classified(Sensitivity.MEDICAL)]
