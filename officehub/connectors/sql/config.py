"""Settings of the SQL connector."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from officehub.connectors.base import ConnectorConfig
from officehub.connectors.secrets import SecretRef
from officehub.connectors.urls import database_url_problem


def url_without_password(url: str) -> str:
    """Validator: a parseable database URL that carries no credential in any form."""
    problem = database_url_problem(url)
    if problem:
        raise ValueError(problem)
    return url


#: What a publish does with a column the destination table lacks: add it, or fail naming it.
#: Unset, tables the hub created evolve and the others do not.
SchemaChanges = Literal["evolve", "freeze"]


class SqlStream(BaseModel):
    """Settings of one destination table (stream) that differ from the system's."""

    model_config = ConfigDict(extra="forbid")

    schema_changes: SchemaChanges | None = None


class SqlConfig(ConnectorConfig):
    """Any database SQLAlchemy can reach, by URL; the password only by reference."""

    # A refused URL may hold a password: pydantic's own error text must not quote it.
    model_config = ConfigDict(hide_input_in_errors=True)

    type: str = "sql"
    url: str
    password: SecretRef | None = None
    schema_name: str | None = None
    connect_timeout_s: int = 30
    #: Use the Arrow-native readers (ADBC, connectorx) and PostgreSQL COPY where installed and fitting.
    #: Off, every stream goes through SQLAlchemy; results are the same, only slower.
    fast_paths: bool = True
    schema_changes: SchemaChanges | None = Field(
        None, description="evolve: add columns the mapping publishes to any table; freeze: to none; "
                          "unset: only to tables the hub created")
    streams: dict[str, SqlStream] = Field(default_factory=dict, description="per-table settings")

    def schema_changes_of(self, stream: str) -> SchemaChanges | None:
        """The schema-change policy for ``stream``: its own, else the system's."""
        own = self.streams.get(stream)
        return own.schema_changes if own is not None and own.schema_changes else self.schema_changes

    _url_without_password = field_validator("url")(url_without_password)
