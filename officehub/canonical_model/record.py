"""The base of every canonical entity, built-in or declared."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, model_validator

#: Version of the canonical model as a whole; bumped on any change to a field.
SCHEMA_VERSION = 1


def _one_of_in_schema(schema: dict[str, Any], model: type[Any]) -> None:
    """JSON Schema's own way to say "at least one of these": anyOf over required."""
    if model.required_one_of:
        schema["anyOf"] = [{"required": [name]} for name in model.required_one_of]


class CanonicalRecord(BaseModel):
    """Base of the canonical entities."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_one_of_in_schema)

    entity_name: ClassVar[str]
    schema_version: ClassVar[int] = SCHEMA_VERSION
    #: A record needs at least one of these fields (declared ``required_one_of``).
    required_one_of: ClassVar[tuple[str, ...]] = ()

    @model_validator(mode="after")
    def _one_of_is_given(self) -> CanonicalRecord:
        if self.required_one_of and all(getattr(self, name) in (None, []) for name in self.required_one_of):
            raise ValueError(f"needs {' or '.join(self.required_one_of)}")
        return self
