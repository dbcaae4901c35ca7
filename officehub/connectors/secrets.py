"""Secrets by reference: a connector's config names an env var, a file or an Airflow connection, never the value."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, SecretStr, model_validator

from officehub.canonical_model.errors import FatalError, RetriableError


class SecretRef(BaseModel):
    """Where a secret lives: ``{env: NAME}``, ``{file: PATH}`` or ``{airflow: CONN_ID}``.

    ``airflow`` takes the password of an Airflow connection, looked up when the secret is
    used (on the worker, at run time), so the value is in neither the YAML nor the DAG file.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    env: str | None = None
    file: Path | None = None
    airflow: str | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> SecretRef:
        if sum(ref is not None for ref in (self.env, self.file, self.airflow)) != 1:
            raise ValueError("a secret reference names exactly one of 'env', 'file' or 'airflow'")
        return self

    def resolve(self, base_dir: Path) -> SecretStr:
        """The secret's value; FatalError naming the reference (not the value) if missing."""
        if self.env is not None:
            value = os.environ.get(self.env)
            if value is None:
                raise FatalError(f"environment variable {self.env} is not set")
            return SecretStr(value)
        if self.airflow is not None:
            return _airflow_password(self.airflow)
        path = self.file if self.file.is_absolute() else base_dir / self.file
        try:
            return SecretStr(path.read_text(encoding="utf-8").rstrip("\r\n"))
        except OSError as exc:
            raise FatalError(f"cannot read secret file {path}: {exc.strerror}") from None


def _airflow_password(conn_id: str) -> SecretStr:
    """The password of Airflow connection ``conn_id``, through the Task SDK (its secrets backends)."""
    try:
        # Imported here: officehub runs without Airflow, and only this kind of reference needs it.
        from airflow.sdk import Connection
        from airflow.sdk.exceptions import AirflowNotFoundException
    except ImportError:
        raise FatalError(f"secret 'airflow: {conn_id}' needs Airflow: pip install 'officehub[airflow]'") from None
    try:
        conn = Connection.get(conn_id)
    except AirflowNotFoundException:
        raise FatalError(f"Airflow connection {conn_id} is not defined") from None
    except Exception as exc:  # noqa: BLE001 - see below
        # The API server or a secrets backend may be briefly unreachable; the message of such an
        # error may quote the connection, so only its type is kept.
        raise RetriableError(f"cannot read Airflow connection {conn_id} ({type(exc).__name__})") from None
    if not conn.password:
        raise FatalError(f"Airflow connection {conn_id} has no password")
    return SecretStr(conn.password)
