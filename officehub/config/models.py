"""The project configuration as validated pydantic models."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from officehub.config.alert_settings import AlertSettings
from officehub.config.lineage_settings import LineageSettings, TelemetrySettings
from officehub.config.metrics_settings import MetricsSettings
from officehub.config.serve_settings import ServeSettings
from officehub.config.site_settings import SiteSettings
from officehub.connectors import SecretRef, WriteMode
from officehub.connectors.sql.config import url_without_password
from officehub.identity import IdentityConfig
from officehub.mapping import MappingSpec
from officehub.store.audit_anchor import public_key_from_text


class HubSettings(BaseModel):
    """The hub itself: its name and where its store lives."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field("hub", pattern=r"^[a-z][a-z0-9_-]*$")
    store: str = Field("sqlite:///.officehub/hub.db", description="SQLAlchemy URL of the hub store")
    store_password: SecretRef | None = Field(None, description="the store's password, by reference")
    batch_size: int = Field(10_000, ge=1, le=1_000_000)
    keys: dict[str, SecretRef] = Field({}, description="pseudonymisation/tokenisation keys by key id")
    delete_grace_days: int = Field(30, ge=0, le=3650, description=(
        "days a record every source deleted stays soft-deleted (restored if it comes back) before it is "
        "purged and the deletion is published"))
    active_key: str | None = Field(None, description="key id new pseudonyms and tokens are made with")
    audit_key: SecretRef | None = Field(None, description=(
        "Ed25519 private key that signs checkpoints of the audit chain, by reference; kept outside the hub "
        "store, so whoever can write to the store cannot sign (create one with 'officehub audit keygen')"))
    audit_verify_keys: list[str] = Field([], description=(
        "further Ed25519 public keys (base64) whose checkpoints are trusted: earlier signing keys, or, on a "
        "verifier that must not sign, the signer's public key"))
    metrics: MetricsSettings | None = Field(None, description=(
        "after each pipeline run, write the hub's metrics to a textfile and/or push them to a Pushgateway"))

    @field_validator("audit_verify_keys")
    @classmethod
    def _public_keys(cls, keys: list[str]) -> list[str]:
        for text in keys:
            public_key_from_text(text)  # ValueError, reported with the file and line
        return keys

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
    create_missing: bool = Field(True, description=(
        "publish with a vendor_id key (write-back): also create records the system does not hold yet, under "
        "their canonical id; false sends only updates of records it already holds (systems that number their "
        "own records)"))
    deletes: Literal["reported", "snapshot"] = Field("reported", description=(
        "ingest: 'reported' — only records the source flags as deleted (the mapping's deleted_when) are; "
        "'snapshot' — every run reads the whole stream, and records missing from a complete read are deleted"))
    max_delete_fraction: float = Field(0.5, gt=0, le=1, description=(
        "snapshot deletes: refuse a run that would delete more than this share of the system's records "
        "(an export cut short looks like mass deletion)"))
    max_quarantine_fraction: float = Field(0.5, ge=0, le=1, description=(
        "fail the run when more than this share of the records it read went to the quarantine (a wrong "
        "encoding or layout quarantines everything; such a run must not look like a success)"))
    site: str | None = Field(None, pattern=r"^[a-z][a-z0-9_-]*$",
                             description="the site whose workers run it (its Celery queue on Airflow)")
    schema_changes: Literal["evolve", "freeze", "quarantine"] = Field("evolve", description=(
        "ingest: when the source's columns change since the last run — 'evolve' carries on and reports, 'freeze' "
        "fails the run before anything is stored, 'quarantine' sends the rows of the new shape to the quarantine"))
    description: str | None = None


class ProjectConfig(BaseModel):
    """Everything in ``officehub.yaml`` and the files it includes."""

    model_config = ConfigDict(extra="forbid")

    hub: HubSettings = HubSettings()
    include: list[str] = []
    systems: dict[str, SystemConfig] = {}
    mappings: dict[str, MappingSpec] = {}
    pipelines: dict[str, PipelineConfig] = {}
    identity: IdentityConfig = IdentityConfig()
    policies: list[str] = []
    sites: SiteSettings = SiteSettings()
    serve: ServeSettings = ServeSettings()
    alerts: AlertSettings = AlertSettings()
    lineage: LineageSettings = LineageSettings()
    telemetry: TelemetrySettings = TelemetrySettings()
    #: The project's own entities and extensions of the built-ins (checked by officehub.config.model_files).
    entities: dict[str, Any] = {}
    extend: dict[str, Any] = {}
