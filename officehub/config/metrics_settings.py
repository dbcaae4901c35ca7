"""The ``hub.metrics:`` section of officehub.yaml: where runs under the CLI or Airflow leave the hub's metrics.

A server answers ``GET /metrics`` by itself; a run has no server to be scraped, so after each pipeline run
the figures are written as a node-exporter textfile or pushed to a Prometheus Pushgateway (see
:mod:`officehub.services.metrics_export`).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from officehub.connectors.secrets import SecretRef
from officehub.connectors.urls import http_address


class MetricsSettings(BaseModel):
    """After each pipeline run: write the hub's metrics to a textfile, push them to a Pushgateway, or both."""

    model_config = ConfigDict(extra="forbid")

    textfile: Path | None = Field(None, description=(
        "a .prom file in node-exporter's textfile-collector folder, replaced whole after each run "
        "(relative to the project folder)"))
    pushgateway: str | None = Field(None, description="the Pushgateway's address (https://, or http://)")
    job: str = Field("officehub", pattern=r"^[a-zA-Z_][a-zA-Z0-9_-]*$", description="the job label of pushed metrics")
    pushgateway_token: SecretRef | None = Field(None, description=(
        "a bearer token the Pushgateway (or the proxy before it) asks for, by reference"))
    timeout_s: float = Field(10, gt=0, le=120, description="seconds to wait for the Pushgateway")

    @field_validator("textfile")
    @classmethod
    def _prom_suffix(cls, path: Path | None) -> Path | None:
        # node-exporter reads only *.prom files: another name would be written and never scraped.
        if path is not None and path.suffix != ".prom":
            raise ValueError("the textfile must end in .prom (node-exporter reads no other name)")
        return path

    @field_validator("pushgateway")
    @classmethod
    def _http(cls, url: str | None) -> str | None:
        return http_address(url, "the pushgateway")

    @model_validator(mode="after")
    def _somewhere(self) -> MetricsSettings:
        if self.textfile is None and self.pushgateway is None:
            raise ValueError("hub.metrics needs a textfile, a pushgateway, or both")
        return self
