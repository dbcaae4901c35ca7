"""Settings of the SQL connector."""

from __future__ import annotations

from pydantic import field_validator
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from connectors.base import ConnectorConfig
from connectors.secrets import SecretRef


def url_without_password(url: str) -> str:
    """Validator: a parseable database URL that carries no password."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ValueError("not a database URL (expected e.g. postgresql+psycopg://user@host/db)") from None
    if parsed.password is not None:
        raise ValueError("the URL contains a password; give it by reference ({env: NAME}, {file: PATH} or {airflow: CONN_ID}) instead")
    return url


class SqlConfig(ConnectorConfig):
    """Any database SQLAlchemy can reach, by URL; the password only by reference."""

    type: str = "sql"
    url: str
    password: SecretRef | None = None
    schema_name: str | None = None
    connect_timeout_s: int = 30
    #: Use the Arrow-native readers (ADBC, connectorx) and PostgreSQL COPY where installed and fitting.
    #: Off, every stream goes through SQLAlchemy; results are the same, only slower.
    fast_paths: bool = True

    _url_without_password = field_validator("url")(url_without_password)
