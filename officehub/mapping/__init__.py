"""Mappings: vendor stream fields ↔ canonical fields, with named transforms.

The names below are imported from their submodules on first use (PEP 562).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from officehub.mapping.compiled import InboundMapping, MappedBatch, MappingError, OutboundMapping
    from officehub.mapping.spec import FieldSpec, MappingSpec
    from officehub.mapping.transforms import TRANSFORMS, Transform, build_transform

__all__ = ["TRANSFORMS", "FieldSpec", "InboundMapping", "MappedBatch", "MappingError", "MappingSpec", "OutboundMapping",
           "Transform", "build_transform"]

#: The submodule defining each public name.
_EXPORTS: dict[str, str] = {
    **dict.fromkeys(("InboundMapping", "MappedBatch", "MappingError", "OutboundMapping"), "officehub.mapping.compiled"),
    **dict.fromkeys(("FieldSpec", "MappingSpec"), "officehub.mapping.spec"),
    **dict.fromkeys(("TRANSFORMS", "Transform", "build_transform"), "officehub.mapping.transforms"),
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
