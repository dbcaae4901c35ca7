"""Settings of the REST connector: one vendor API, its credentials and its streams (endpoints).

A new vendor is usually just one of these in YAML; see docs/connectors/rest.md.
"""

from __future__ import annotations

import re
import string
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from officehub.connectors.base import ConnectorConfig
from officehub.connectors.secrets import SecretRef
from officehub.connectors.urls import http_url_problem, is_secret_name

# Headers that carry credentials: they must come from `auth` (by reference), never as plain YAML.
_CREDENTIAL_HEADERS = {"authorization", "proxy-authorization", "cookie", "x-api-key", "api-key"}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _plain_headers(headers: dict[str, str]) -> dict[str, str]:
    """Validator: extra headers may not smuggle a credential into the YAML."""
    bad = sorted(h for h in headers if h.lower() in _CREDENTIAL_HEADERS or is_secret_name(h))
    if bad:
        raise ValueError(f"header(s) {', '.join(bad)} carry credentials; configure them under 'auth' by reference")
    return headers


def _plain_params(params: dict[str, str]) -> dict[str, str]:
    """Validator: query parameters may not carry a credential (URLs end up in logs and proxies)."""
    bad = sorted(p for p in params if is_secret_name(p))
    if bad:
        raise ValueError(f"parameter(s) {', '.join(bad)} carry credentials; configure them under 'auth' by reference")
    return params


def _no_credentials(url: str | None) -> str | None:
    """Validator: a URL or path with no user, password or secret query option in it."""
    problem = http_url_problem(url) if url is not None else None
    if problem:
        raise ValueError(problem)
    return url


# -- authentication --------------------------------------------------------------------------

class ApiKeyAuth(_Model):
    """A static key sent in a request header (never in the URL, where logs and proxies keep it)."""

    type: Literal["api_key"]
    header: str = "X-Api-Key"
    prefix: str = Field("", description="text before the key, e.g. 'Token '")
    key: SecretRef


class BearerAuth(_Model):
    """A long-lived token sent as ``Authorization: Bearer …``."""

    type: Literal["bearer"]
    token: SecretRef


class BasicAuth(_Model):
    """HTTP basic authentication."""

    type: Literal["basic"]
    username: str
    password: SecretRef


class OAuth2ClientCredentials(_Model):
    """OAuth2 client-credentials grant: a short-lived token fetched from ``token_url`` and cached."""

    type: Literal["oauth2_client_credentials"]
    token_url: str = Field(description="absolute, or relative to base_url")
    client_id: str
    client_secret: SecretRef
    scope: str | None = None
    client_auth: Literal["basic", "body"] = Field("basic", description="how the client id/secret are sent")
    refresh_margin_s: float = Field(60, ge=0, description="renew this long before the token expires")

    _no_credentials = field_validator("token_url")(_no_credentials)


Auth = Annotated[ApiKeyAuth | BearerAuth | BasicAuth | OAuth2ClientCredentials, Field(discriminator="type")]


# -- transport -------------------------------------------------------------------------------

class Timeouts(_Model):
    """How long to wait to connect and for each read; always set, so nothing hangs forever."""

    connect_s: float = Field(10, gt=0, le=300)
    read_s: float = Field(60, gt=0, le=3600)


class Retries(_Model):
    """Retries of connection errors, 429 and 5xx, with exponential backoff and ``Retry-After``."""

    max_attempts: int = Field(5, ge=1, le=20, description="tries per request, the first included")
    backoff_s: float = Field(0.5, ge=0, description="backoff factor: waits 2×, 4×, 8×… this")
    backoff_max_s: float = Field(60, ge=0)
    retry_after_max_s: int = Field(300, ge=0, description="longest Retry-After honoured")


# -- pagination ------------------------------------------------------------------------------

class NoPagination(_Model):
    """The whole stream comes in one answer."""

    style: Literal["none"]


class PageNumberPagination(_Model):
    """``?page=1&per_page=100``, ``?page=2…``: stops at an empty or short page."""

    style: Literal["page_number"]
    page_param: str = "page"
    size_param: str | None = "per_page"
    page_size: int = Field(100, ge=1)
    first_page: int = Field(1, ge=0)


class OffsetPagination(_Model):
    """``?offset=0&limit=100``, ``?offset=100…``: stops at an empty or short page."""

    style: Literal["offset"]
    offset_param: str = "offset"
    limit_param: str = "limit"
    page_size: int = Field(100, ge=1)


class CursorPagination(_Model):
    """The answer names the next page by an opaque token at ``token_path``; absent means done."""

    style: Literal["cursor"]
    token_path: str = Field(description="dotted path of the next token in the JSON body, e.g. meta.next_cursor")
    token_param: str = "cursor"
    size_param: str | None = None
    page_size: int = Field(100, ge=1)


class LinkHeaderPagination(_Model):
    """RFC 8288 (ex-5988) ``Link: <…>; rel="next"`` header; absent means done."""

    style: Literal["link_header"]
    size_param: str | None = None
    page_size: int = Field(100, ge=1)


Pagination = Annotated[
    NoPagination | PageNumberPagination | OffsetPagination | CursorPagination | LinkHeaderPagination,
    Field(discriminator="style"),
]


# -- streams ---------------------------------------------------------------------------------

class Incremental(_Model):
    """Ask only for records changed since the last run, by a query parameter."""

    param: str = Field(description="query parameter, e.g. updated_since; must mean 'at or after'")
    cursor_field: str = Field(description="record field holding the change time, e.g. updated_at")


class Bulk(_Model):
    """An endpoint that takes many records in one request."""

    method: Literal["POST", "PUT", "PATCH"] = "POST"
    path: str
    body_key: str | None = Field(None, description="wrap the list as {body_key: [...]}; none sends a bare list")
    size: int = Field(100, ge=1, le=10_000)

    _no_credentials = field_validator("path")(_no_credentials)


class Endpoint(_Model):
    """Where one record is written; ``{field}`` placeholders in ``path`` take the record's values."""

    method: Literal["POST", "PUT", "PATCH", "DELETE"]
    path: str
    body_key: str | None = Field(None, description="wrap the record as {body_key: {...}}")
    bulk: Bulk | None = None

    _no_credentials = field_validator("path")(_no_credentials)

    @model_validator(mode="after")
    def _addresses_one_record(self) -> Endpoint:
        if self.method != "POST" and not placeholders(self.path):
            raise ValueError(f"a {self.method} path names the record, e.g. /contacts/{{id}}")
        if self.method == "DELETE" and self.bulk is not None:
            raise ValueError("bulk writes are for POST, PUT or PATCH endpoints")
        return self


class WriteEndpoints(_Model):
    """The endpoint for each write mode the vendor supports; a missing one refuses that mode."""

    append: Endpoint | None = None
    upsert: Endpoint | None = None
    delete: Endpoint | None = None


class StreamSpec(_Model):
    """One vendor endpoint read (and maybe written) as a stream."""

    path: str = Field(description="relative to base_url, e.g. /contacts")
    record_path: str = Field("", description="dotted path of the record list in the JSON body; '' = the body")
    primary_key: list[str] = []
    pagination: Pagination = NoPagination(style="none")
    incremental: Incremental | None = None
    params: dict[str, str] = {}
    headers: dict[str, str] = {}
    write: WriteEndpoints | None = None

    _plain_headers = field_validator("headers")(_plain_headers)
    _plain_params = field_validator("params")(_plain_params)
    _no_credentials = field_validator("path")(_no_credentials)


class RestConfig(ConnectorConfig):
    """A vendor's REST/JSON API: where it is, how to sign in, and its streams."""

    # A refused URL may hold a password: pydantic's own error text must not quote it.
    model_config = ConfigDict(hide_input_in_errors=True)

    type: str = "rest"
    base_url: str
    auth: Auth | None = None
    timeouts: Timeouts = Timeouts()
    retries: Retries = Retries()
    headers: dict[str, str] = {}
    idempotency_header: str | None = Field(
        "Idempotency-Key", description="header carrying each write's idempotency key; null if the vendor has none")
    flatten_separator: str = Field(".", min_length=1, description="joins nested object keys into column names")
    check_path: str | None = Field(None, description="endpoint for `check`; default: the first stream's")
    streams: dict[str, StreamSpec] = Field(min_length=1)

    _plain_headers = field_validator("headers")(_plain_headers)
    _no_credentials = field_validator("check_path")(_no_credentials)

    @field_validator("base_url")
    @classmethod
    def _plain_http_url(cls, url: str) -> str:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("base_url must be an http(s) URL, e.g. https://api.vendor.example/v2")
        if parts.username is not None or parts.password is not None or parts.query or parts.fragment:
            # Credentials in a URL end up in logs and proxies; they belong under `auth`.
            raise ValueError("base_url must not carry a user, password, query string or fragment; use 'auth'")
        return url.rstrip("/")


def placeholders(path: str) -> list[str]:
    """The ``{field}`` names in a write path."""
    return [name for _, name, _, _ in string.Formatter().parse(path) if name]


def is_absolute(url: str) -> bool:
    """Whether ``url`` names its own scheme and host."""
    return re.match(r"^https?://", url) is not None
