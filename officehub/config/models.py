"""The project configuration as validated pydantic models."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from connectors import SecretRef, WriteMode
from connectors.sql.config import url_without_password
from officehub.mapping import MappingSpec


class HubSettings(BaseModel):
    """The hub itself: its name and where its store lives."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field("hub", pattern=r"^[a-z][a-z0-9_-]*$")
    store: str = Field("sqlite:///.officehub/hub.db", description="SQLAlchemy URL of the hub store")
    store_password: SecretRef | None = Field(None, description="the store's password, by reference")
    batch_size: int = Field(10_000, ge=1, le=1_000_000)
    keys: dict[str, SecretRef] = Field({}, description="pseudonymisation/tokenisation keys by key id")
    active_key: str | None = Field(None, description="key id new pseudonyms and tokens are made with")

    @model_validator(mode="after")
    def _active_key_known(self) -> HubSettings:
        if self.active_key is not None and self.active_key not in self.keys:
            raise ValueError(f"active_key '{self.active_key}' is not one of hub.keys")
        if self.keys and self.active_key is None:
            raise ValueError("hub.keys needs an active_key")
        return self

    _store_url_without_password = field_validator("store")(url_without_password)


class SystemConfig(BaseModel):
    """A vendor system: its connector type plus that connector's own settings."""

    model_config = ConfigDict(extra="allow")

    type: str
    description: str | None = None
    max_connections: int = Field(4, ge=1, description="most concurrent connections it can take (Airflow pool size)")
    country: str | None = Field(None, pattern=r"^[A-Z]{2}$", description="where the system is (jurisdiction)")

    def connector_settings(self) -> dict[str, Any]:
        """The settings meant for the connector (everything but the hub's own keys)."""
        own = {"description", "max_connections", "country"}
        return {"type": self.type, **{k: v for k, v in (self.model_extra or {}).items() if k not in own}}


class PipelineConfig(BaseModel):
    """A scheduled movement of records: ingest (system → hub) or publish (hub → system)."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["ingest", "publish"]
    mapping: str
    write_mode: WriteMode = WriteMode.UPSERT
    batch_size: int | None = Field(None, ge=1, le=1_000_000)
    schedule: str | None = Field(None, description="cron expression for scheduled runs")
    purpose: str | None = Field(None, description="publish: the agreement purpose this sharing serves")
    site: str | None = Field(None, pattern=r"^[a-z][a-z0-9_-]*$",
                             description="the site whose workers run it (its Celery queue on Airflow)")
    description: str | None = None


class ProjectConfig(BaseModel):
    """Everything in ``officehub.yaml`` and the files it includes."""

    model_config = ConfigDict(extra="forbid")

    hub: HubSettings = HubSettings()
    include: list[str] = []
    systems: dict[str, SystemConfig] = {}
    mappings: dict[str, MappingSpec] = {}
    pipelines: dict[str, PipelineConfig] = {}
    policies: list[str] = []
