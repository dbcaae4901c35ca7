"""Mappings: vendor stream fields ↔ canonical fields, with named transforms."""

from officehub.mapping.compiled import InboundMapping, MappedBatch, OutboundMapping
from officehub.mapping.spec import FieldSpec, MappingSpec
from officehub.mapping.transforms import TRANSFORMS, Transform, build_transform

__all__ = ["TRANSFORMS", "FieldSpec", "InboundMapping", "MappedBatch", "MappingSpec", "OutboundMapping",
           "Transform", "build_transform"]
