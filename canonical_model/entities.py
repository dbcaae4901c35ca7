"""The built-in canonical entities: customer, product, employee.

They are declared in YAML (``canonical_model/builtin/*.yaml``), in the same form as a
project's own entities, and built into pydantic models by :mod:`canonical_model.declared`.
Every leaf field is classified (see :mod:`canonical_model.sensitivity`). Repeating groups
become child tables in the hub store; single nested values are flattened into columns
of the entity's own table.
"""

from __future__ import annotations

from canonical_model.builtin import builtin_files
from canonical_model.declared import build_entities, merge
from canonical_model.record import SCHEMA_VERSION, CanonicalRecord

#: Every canonical entity by its name.
ENTITIES: dict[str, type[CanonicalRecord]] = build_entities(merge(list(builtin_files())))

Customer = ENTITIES["customer"]
Product = ENTITIES["product"]
Employee = ENTITIES["employee"]

__all__ = ["ENTITIES", "SCHEMA_VERSION", "CanonicalRecord", "Customer", "Employee", "Product"]
