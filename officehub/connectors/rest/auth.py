"""Authenticators: they put credentials on each request and, for tokens, renew them.

Secrets are resolved on first use, not when the config is validated, so ``officehub
check`` works on a machine without the production secrets.
"""

from __future__ import annotations

import base64
import logging
import time
from collections.abc import Callable
from pathlib import Path

import requests
from requests.auth import AuthBase

from officehub.canonical_model.errors import FatalError, RetriableError
from officehub.connectors.rest.config import (
    ApiKeyAuth,
    Auth,
    BasicAuth,
    BearerAuth,
    OAuth2ClientCredentials,
)
from officehub.connectors.rest.errors import RETRIABLE_STATUSES
from officehub.connectors.secrets import SecretRef

log = logging.getLogger(__name__)

#: Sends the token request: (url, form data, headers) → response. Provided by the HTTP client.
TokenPost = Callable[[str, dict[str, str], dict[str, str]], requests.Response]


class Authenticator(AuthBase):
    """Adds credentials to a prepared request; subclass it for a vendor's own scheme."""

    def __init__(self, base_dir: Path) -> None:
        self.base_dir = base_dir

    def _secret(self, ref: SecretRef) -> str:
        return ref.resolve(self.base_dir).get_secret_value()

    def refresh(self) -> bool:
        """Renew the credentials after a 401; True if a retry of the request may now succeed."""
        return False


class HeaderAuth(Authenticator):
    """A fixed header value built from one secret (API key, bearer token)."""

    def __init__(self, base_dir: Path, header: str, prefix: str, secret: SecretRef) -> None:
        super().__init__(base_dir)
        self.header, self.prefix, self.ref = header, prefix, secret
        self._value: str | None = None

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        if self._value is None:
            self._value = self.prefix + self._secret(self.ref)
        request.headers[self.header] = self._value
        return request


class BasicAuthenticator(Authenticator):
    """HTTP basic: user name plus a password by reference."""

    def __init__(self, base_dir: Path, config: BasicAuth) -> None:
        super().__init__(base_dir)
        self.config = config

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = basic_header(self.config.username, self._secret(self.config.password))
        return request


class OAuth2Authenticator(Authenticator):
    """OAuth2 client credentials: a cached token, renewed before it expires and once after a 401."""

    def __init__(self, base_dir: Path, config: OAuth2ClientCredentials, token_url: str, post: TokenPost,
                 clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(base_dir)
        self.config, self.token_url, self.post, self.clock = config, token_url, post, clock
        self._token: str | None = None
        self._renew_at = 0.0

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        if self._token is None or self.clock() >= self._renew_at:
            self._fetch()
        request.headers["Authorization"] = f"Bearer {self._token}"
        return request

    def refresh(self) -> bool:
        self._fetch()
        return True

    def _fetch(self) -> None:
        issued = self.clock()
        response = self.post(self.token_url, self._form(), self._headers())
        if response.status_code != 200:
            raise self._refused(response.status_code)
        try:
            body = response.json()
            token, lifetime = str(body["access_token"]), float(body.get("expires_in") or 3600)
        except (ValueError, KeyError, TypeError):
            raise FatalError("the token endpoint answered without an access_token") from None
        # Renew early: by the margin, but never later than half-way through a short-lived token.
        self._token, self._renew_at = token, issued + lifetime - min(self.config.refresh_margin_s, lifetime / 2)
        log.info("fetched an OAuth2 access token valid for %.0f s", lifetime)

    def _form(self) -> dict[str, str]:
        form = {"grant_type": "client_credentials"}
        if self.config.scope:
            form["scope"] = self.config.scope
        if self.config.client_auth == "body":
            form.update(client_id=self.config.client_id, client_secret=self._secret(self.config.client_secret))
        return form

    def _headers(self) -> dict[str, str]:
        if self.config.client_auth != "basic":
            return {}
        return {"Authorization": basic_header(self.config.client_id, self._secret(self.config.client_secret))}

    @staticmethod
    def _refused(status: int) -> Exception:
        if status in RETRIABLE_STATUSES:
            return RetriableError(f"the token endpoint answered HTTP {status}; try again later")
        return FatalError(f"the token endpoint refused the client credentials (HTTP {status}); check 'auth'")


def basic_header(user: str, password: str) -> str:
    """An ``Authorization: Basic`` value (UTF-8, as RFC 7617 recommends)."""
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")


def build_authenticator(config: Auth | None, base_dir: Path, token_url: str | None,
                        post: TokenPost) -> Authenticator | None:
    """The authenticator for an ``auth`` setting (None: the API is open)."""
    if isinstance(config, ApiKeyAuth):
        return HeaderAuth(base_dir, config.header, config.prefix, config.key)
    if isinstance(config, BearerAuth):
        return HeaderAuth(base_dir, "Authorization", "Bearer ", config.token)
    if isinstance(config, BasicAuth):
        return BasicAuthenticator(base_dir, config)
    if isinstance(config, OAuth2ClientCredentials):
        assert token_url is not None
        return OAuth2Authenticator(base_dir, config, token_url, post)
    return None
