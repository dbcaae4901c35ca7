"""JSON Schema of the canonical entities, with each field's sensitivity class."""

from __future__ import annotations

from typing import Any

from officehub.canonical_model.entities import ENTITIES, SCHEMA_VERSION


def json_schema(entity: str) -> dict[str, Any]:
    """JSON Schema of one entity; fields carry ``x-sensitivity``."""
    schema = ENTITIES[entity].model_json_schema()
    schema["x-schema-version"] = SCHEMA_VERSION
    return schema


def json_schemas() -> dict[str, dict[str, Any]]:
    """JSON Schemas of every entity, by entity name."""
    return {name: json_schema(name) for name in ENTITIES}
