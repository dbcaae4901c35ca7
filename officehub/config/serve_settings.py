"""The ``serve:`` section of officehub.yaml: the console's sessions and single sign-on, and the API's clients."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator

from officehub.connectors.secrets import SecretRef

_NAME = r"^[a-z][a-z0-9_-]*$"


class OidcSettings(BaseModel):
    """Single sign-on through an OpenID Connect provider (Keycloak, Entra ID, Authentik, Google, …)."""

    model_config = ConfigDict(extra="forbid")

    issuer: str = Field(description=(
        "the provider's issuer URL; its /.well-known/openid-configuration is read. HTTPS, or HTTP on "
        "this machine's loopback only"))
    client_id: str = Field(description="the console's client id at the provider")
    client_secret: SecretRef = Field(description="the client secret, by reference")
    label: str = Field("Single sign-on", description="the sign-in button's text")
    scopes: list[str] = Field(["openid", "profile", "email"], description="the scopes asked for; 'openid' is needed")
    login_claim: str = Field("preferred_username", description="the claim that becomes the user's login")
    roles_claim: str | None = Field("roles", description=(
        "a claim listing the user's officehub roles, which replace the account's at each sign-in; a dotted "
        "path reaches into nested claims (Keycloak: realm_access.roles); null keeps the roles an "
        "administrator gives"))
    redirect_url: str | None = Field(None, description=(
        "the console's callback address as registered at the provider "
        "(https://hub.example.org/login/sso/callback); by default made from the address each request came to"))

    @field_validator("issuer")
    @classmethod
    def _https(cls, issuer: str) -> str:
        # The client secret and the ID tokens travel to the issuer: in clear only where nobody else listens.
        if issuer.startswith("https://") or re.match(r"^http://(127\.0\.0\.1|localhost|\[::1\])(:\d+)?(/|$)", issuer):
            return issuer
        raise ValueError("the issuer must be an https:// address (http:// only on this machine's loopback)")

    @field_validator("scopes")
    @classmethod
    def _openid(cls, scopes: list[str]) -> list[str]:
        if "openid" not in scopes:
            raise ValueError("single sign-on needs the scope 'openid'")
        return scopes


class ApiClient(BaseModel):
    """An application that uses the hub API: a destination with its own agreement and policy."""

    model_config = ConfigDict(extra="forbid")

    description: str | None = None
    country: str | None = Field(None, pattern=r"^[A-Z]{2}$", description="where the application is (jurisdiction)")
    purpose: str | None = Field(None, description="the agreement purpose its reads serve")
    entities: list[str] = Field(["customer"], description="the entities it may read and search")
    submits: dict[str, str] = Field({}, description=(
        "entity → the ingest pipeline of an 'api' system that records the application submits go through "
        "(its mapping, checks, identity resolution and quarantine)"))


class ServeSettings(BaseModel):
    """``officehub serve``: sessions, limits, single sign-on and the hub API's clients."""

    model_config = ConfigDict(extra="forbid")

    session_key: SecretRef | None = Field(None, description=(
        "signs session cookies, by reference; without it a random key kept in the hub store is used, "
        "shared by every server process on that store"))
    session_hours: float = Field(8, gt=0, le=24 * 30, description="a session ends this long after its last request")
    max_body_bytes: int = Field(1_000_000, ge=1_000, description="larger request bodies are refused (413)")
    login_attempts_per_minute: int = Field(10, ge=1, description="sign-in attempts per client address and minute")
    oidc: OidcSettings | None = None
    clients: dict[str, ApiClient] = Field({}, description="applications using the hub API, by destination name")
    metrics_token: SecretRef | None = Field(None, description=(
        "a bearer token GET /metrics asks for, by reference; without it the metrics are open to whoever "
        "reaches the server's address (they carry counts and names, never a value)"))

    @field_validator("clients")
    @classmethod
    def _client_names(cls, clients: dict[str, ApiClient]) -> dict[str, ApiClient]:
        bad = [name for name in clients if not re.match(_NAME, name)]
        if bad:
            raise ValueError(f"client names are lower-case letters, digits, '-' and '_': {', '.join(bad)}")
        return clients

    def client_names(self) -> list[str]:
        """The configured API clients' names."""
        return sorted(self.clients)

