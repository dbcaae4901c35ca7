"""Mappings: vendor stream fields ↔ canonical fields, with named transforms."""

from officehub.mapping.compiled import InboundMapping, MappedBatch, MappingError, OutboundMapping
from officehub.mapping.spec import FieldSpec, MappingSpec
from officehub.mapping.transforms import TRANSFORMS, Transform, build_transform

__all__ = ["TRANSFORMS", "FieldSpec", "InboundMapping", "MappedBatch", "MappingError", "MappingSpec", "OutboundMapping",
           "Transform", "build_transform"]
