"""The ``lineage:`` and ``telemetry:`` sections of officehub.yaml: where runs report their lineage and traces.

Lineage goes to an OpenLineage backend (Marquez, or any receiver of OpenLineage's HTTP API) as run
events; traces of a run's stages go to an OpenTelemetry collector over OTLP/HTTP. Both may instead come
from the standard environment variables (``OPENLINEAGE_URL``, ``OPENLINEAGE_API_KEY``,
``OTEL_EXPORTER_OTLP_ENDPOINT``), which is how an Airflow deployment usually sets them; the section in
officehub.yaml wins where both are given. Neither configured: nothing is sent and nothing is set up.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from officehub.connectors.secrets import SecretRef
from officehub.connectors.urls import http_address


def _http_url(url: str | None) -> str | None:
    # A URL that carries a password would end up in logs and in the events' producer fields.
    return http_address(url, "the address")


class LineageSettings(BaseModel):
    """Where OpenLineage run events of every ingest and publish go, and under which namespace."""

    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(None, description=(
        "the OpenLineage backend's address, e.g. http://marquez:5000 (else the OPENLINEAGE_URL variable)"))
    endpoint: str = Field("api/v1/lineage", description="the path events are POSTed to, relative to url")
    namespace: str = Field("officehub", min_length=1, description=(
        "the namespace of the jobs (pipelines): one per hub, so two hubs' pipelines of one name stay apart"))
    api_key: SecretRef | None = Field(None, description="a bearer token the backend asks for, by reference")
    timeout_s: float = Field(5, gt=0, le=60, description=(
        "seconds to wait for the backend; a backend that does not answer costs a run at most this once"))

    _url = field_validator("url")(_http_url)


class TelemetrySettings(BaseModel):
    """Where OpenTelemetry traces of a run's stages go (an OTLP/HTTP collector)."""

    model_config = ConfigDict(extra="forbid")

    endpoint: str | None = Field(None, description=(
        "the collector's OTLP/HTTP address, e.g. http://otel-collector:4318 (traces go to its /v1/traces); "
        "else the OTEL_EXPORTER_OTLP_ENDPOINT variable"))
    service_name: str = Field("officehub", min_length=1, description="the service.name resource attribute")
    timeout_s: float = Field(5, gt=0, le=60, description="seconds to wait for the collector at each export")

    _endpoint = field_validator("endpoint")(_http_url)
