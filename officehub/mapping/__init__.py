"""Mappings: vendor stream fields ↔ canonical fields, with named transforms.

The names below are imported from their submodules on first use (PEP 562).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from officehub.lazy import lazy_exports

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


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
