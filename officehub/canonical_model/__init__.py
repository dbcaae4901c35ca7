"""The canonical model: what customer, product and employee mean across all systems.

Imports nothing else of officehub's. The names below are imported from their submodules
on first use (PEP 562): ``officehub.canonical_model.errors`` and ``.sensitivity`` stay free
of pydantic, SQLAlchemy and pyarrow, which the command line's start-up depends on.
"""

from __future__ import annotations

import sys
import types
from typing import TYPE_CHECKING, Any

from officehub.lazy import lazy_exports

if TYPE_CHECKING:
    from officehub.canonical_model.entities import (
        ENTITIES,
        SCHEMA_VERSION,
        CanonicalRecord,
        Customer,
        Employee,
        Product,
        install,
        model_cache,
    )
    from officehub.canonical_model.layout import (
        Collection,
        EntityLayout,
        Group,
        LeafField,
        layout,
        unknown_leaf_sensitivity,
    )
    from officehub.canonical_model.schema import json_schema, json_schemas
    from officehub.canonical_model.sensitivity import (
        SPECIAL_CATEGORIES,
        Classified,
        Criminal,
        Financial,
        FreeText,
        Internal,
        Legal,
        Medical,
        Personal,
        Public,
        Sensitivity,
    )
    from officehub.canonical_model.values import Address, ContactPoint, DateRange, Money, PersonName

__all__ = [
    "ENTITIES", "SCHEMA_VERSION", "SPECIAL_CATEGORIES",
    "Address", "CanonicalRecord", "Classified", "Collection", "ContactPoint",
    "Criminal", "Customer", "DateRange", "Employee", "EntityLayout", "Financial",
    "FreeText", "Group", "Internal", "LeafField", "Legal", "Medical", "Money",
    "PersonName", "Personal", "Product", "Public", "Sensitivity",
    "install", "json_schema", "json_schemas", "layout", "model_cache", "unknown_leaf_sensitivity",
]

#: The submodule defining each public name.
_EXPORTS: dict[str, str] = {
    **dict.fromkeys(("ENTITIES", "SCHEMA_VERSION", "CanonicalRecord", "Customer", "Employee", "Product", "install",
                     "model_cache"), "officehub.canonical_model.entities"),
    **dict.fromkeys(("Collection", "EntityLayout", "Group", "LeafField", "layout", "unknown_leaf_sensitivity"),
                    "officehub.canonical_model.layout"),
    **dict.fromkeys(("json_schema", "json_schemas"), "officehub.canonical_model.schema"),
    **dict.fromkeys(("SPECIAL_CATEGORIES", "Classified", "Criminal", "Financial", "FreeText", "Internal", "Legal",
                     "Medical", "Personal", "Public", "Sensitivity"), "officehub.canonical_model.sensitivity"),
    **dict.fromkeys(("Address", "ContactPoint", "DateRange", "Money", "PersonName"),
                    "officehub.canonical_model.values"),
}


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)


class _Package(types.ModuleType):
    """This package's module type: ``layout`` stays the function when the submodule ``layout`` is imported."""

    def __setattr__(self, name: str, value: Any) -> None:
        # Importing a submodule sets it as an attribute of its package. The function `layout` shares its
        # submodule's name, and `from officehub.canonical_model import layout` must keep giving the function.
        if name == "layout" and isinstance(value, types.ModuleType):
            value = value.layout
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
