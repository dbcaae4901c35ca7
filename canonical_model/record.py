"""The base of every canonical entity, built-in or declared."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict

#: Version of the canonical model as a whole; bumped on any change to a field.
SCHEMA_VERSION = 1


class CanonicalRecord(BaseModel):
    """Base of the canonical entities."""

    model_config = ConfigDict(extra="forbid")

    entity_name: ClassVar[str]
    schema_version: ClassVar[int] = SCHEMA_VERSION
