"""The ``alerts:`` section of officehub.yaml: where alerts go (channels) and when they are raised (rules).

Each rule watches one kind of trouble; an incident opens when its condition appears for a subject (a
pipeline, an agreement, a site link, the audit trail), is sent once to the rule's channels, and closes
when the condition clears (see :mod:`officehub.services.alerts`).
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from officehub.connectors.secrets import SecretRef

_NAME = r"^[a-z][a-z0-9_-]*$"
_ADDRESS = r"^[^@\s]+@[^@\s]+$"


class WebhookChannel(BaseModel):
    """An HTTP endpoint that receives each alert as a JSON body by POST (a chat or ticketing system's hook)."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["webhook"]
    url: str = Field(description="where the JSON is posted: https://, or http:// on this machine's loopback")
    headers: dict[str, SecretRef] = Field({}, description=(
        "request headers (an Authorization token…), each value by reference like every secret"))
    timeout_s: float = Field(10, gt=0, le=120, description="seconds to connect and to wait for the answer")

    @field_validator("url")
    @classmethod
    def _https(cls, url: str) -> str:
        # Alert bodies name pipelines and agreements: in clear only where nobody else listens.
        if url.startswith("https://") or re.match(r"^http://(127\.0\.0\.1|localhost|\[::1\])(:\d+)?(/|$)", url):
            return url
        raise ValueError("a webhook url must be https:// (http:// only on this machine's loopback)")


class EmailChannel(BaseModel):
    """An SMTP server that sends each alert as a plain-text e-mail with its JSON attached."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    type: Literal["email"]
    host: str
    port: int = Field(587, ge=1, le=65535)
    security: Literal["starttls", "ssl", "none"] = Field("starttls", description=(
        "starttls: plain connection upgraded to TLS (port 587); ssl: TLS from the start (port 465); "
        "none: no encryption (a relay on this machine or the local network only)"))
    user: str | None = Field(None, description="the login, when the server asks for one")
    password: SecretRef | None = Field(None, description="the login's password, by reference")
    sender: str = Field(alias="from", pattern=_ADDRESS, description="the From address")
    to: list[Annotated[str, Field(pattern=_ADDRESS)]] = Field(min_length=1, description="the recipients")
    timeout_s: float = Field(30, gt=0, le=300, description="seconds to wait for the server at each step")

    @model_validator(mode="after")
    def _login_complete(self) -> EmailChannel:
        if (self.user is None) != (self.password is None):
            raise ValueError("an e-mail channel needs both 'user' and 'password', or neither")
        return self


Channel = Annotated[WebhookChannel | EmailChannel, Field(discriminator="type")]


class _Rule(BaseModel):
    """What every rule has: its id and the channels its incidents are sent to."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=_NAME)
    channels: list[str] = Field(min_length=1, description="names of channels under alerts.channels")
    description: str | None = None


class _PipelineRule(_Rule):
    pipelines: list[str] | None = Field(None, description="only these pipelines (default: every one)")


class RunFailedRule(_PipelineRule):
    """A pipeline's latest run failed; clears when a later run of it succeeds."""

    kind: Literal["run_failed"]


class QuarantineFractionRule(_PipelineRule):
    """A pipeline's latest run quarantined more than ``threshold`` of the records it read."""

    kind: Literal["quarantine_fraction"]
    threshold: float = Field(0.05, ge=0, lt=1, description="the share of records read, 0.05 = 5 %")
    min_records: int = Field(1, ge=1, description="runs that read fewer records are not judged")


class RowCountRule(_PipelineRule):
    """An ingest's latest successful run read a number of records outside its usual range.

    The usual range comes from the ``history`` successful runs before it: from their smallest
    count × (1 − ``tolerance``) to their largest × (1 + ``tolerance``). A pipeline with fewer than
    ``min_history`` earlier successful runs has no usual range yet and is not judged.
    """

    kind: Literal["row_count"]
    history: int = Field(10, ge=1, le=1000, description="successful runs the usual range is taken from")
    min_history: int = Field(3, ge=1, description="earlier successful runs needed before a run is judged")
    tolerance: float = Field(0.5, ge=0, description="how far outside the range is still usual, 0.5 = 50 %")

    @model_validator(mode="after")
    def _history_covers_minimum(self) -> RowCountRule:
        if self.min_history > self.history:
            raise ValueError("min_history cannot be more than history")
        return self


class AgreementEndingRule(_Rule):
    """A data-sharing agreement ends within ``days`` days (or has ended): renew it, or its destination gets nothing."""

    kind: Literal["agreement_ending"]
    days: int = Field(30, ge=0, le=3650)
    agreements: list[str] | None = Field(None, description="only these agreement ids (default: every one)")


class SiteLagRule(_Rule):
    """A link with a peer site has bundles waiting longer than ``minutes``, or a gap in what it received."""

    kind: Literal["site_lag"]
    minutes: float = Field(60, gt=0)
    sites: list[str] | None = Field(None, description="only links with these peer sites (default: every one)")


class AuditVerifyRule(_Rule):
    """The audit trail does not verify (an entry or a checkpoint was changed, removed or reordered)."""

    kind: Literal["audit_verify"]


Rule = Annotated[RunFailedRule | QuarantineFractionRule | RowCountRule | AgreementEndingRule | SiteLagRule
                 | AuditVerifyRule, Field(discriminator="kind")]


class AlertSettings(BaseModel):
    """The ``alerts:`` section: channels by name, the rules, and whether clearing is announced."""

    model_config = ConfigDict(extra="forbid")

    channels: dict[str, Channel] = {}
    rules: list[Rule] = []
    send_resolved: bool = Field(True, description="also send a message when an incident's condition clears")
    schedule: str = Field("*/5 * * * *", description=(
        "when the Airflow deployment checks alerts (cron); 'officehub sync' also checks after its runs"))

    @field_validator("channels")
    @classmethod
    def _channel_names(cls, channels: dict[str, Channel]) -> dict[str, Channel]:
        bad = [name for name in channels if not re.match(_NAME, name)]
        if bad:
            raise ValueError(f"channel names are lower-case letters, digits, '-' and '_': {', '.join(bad)}")
        return channels

    @field_validator("rules")
    @classmethod
    def _rules_known(cls, rules: list[Rule], info: ValidationInfo) -> list[Rule]:
        # Reported at ``alerts.rules``: the channels were validated first (fields in order). When they
        # failed, that is the error to fix; naming their channels unknown here too would mislead.
        if "channels" not in info.data:
            return rules
        channels = info.data["channels"]
        ids = [rule.id for rule in rules]
        twice = sorted({i for i in ids if ids.count(i) > 1})
        if twice:
            raise ValueError(f"rule ids must be unique: {', '.join(twice)}")
        for rule in rules:
            unknown = [name for name in rule.channels if name not in channels]
            if unknown:
                raise ValueError(f"rule '{rule.id}' sends to unknown channel(s) {', '.join(unknown)} "
                                 f"(configured: {', '.join(channels) or 'none'})")
        return rules

    @property
    def configured(self) -> bool:
        """Whether any rule is set."""
        return bool(self.rules)

    def rule(self, rule_id: str) -> Rule | None:
        """The rule with id ``rule_id``, if configured."""
        return next((rule for rule in self.rules if rule.id == rule_id), None)
