"""The canonical model: what customer, product and employee mean across all systems.

Imports nothing else of officehub's.
"""

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
