"""Settings of the SQL connector."""

from __future__ import annotations

from pydantic import ConfigDict, field_validator

from connectors.base import ConnectorConfig
from connectors.secrets import SecretRef
from connectors.urls import database_url_problem


def url_without_password(url: str) -> str:
    """Validator: a parseable database URL that carries no credential in any form."""
    problem = database_url_problem(url)
    if problem:
        raise ValueError(problem)
    return url


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

    _url_without_password = field_validator("url")(url_without_password)
