"""A small but real OpenID Connect provider on loopback, for the console's single sign-on tests.

It speaks the authorization code flow with PKCE as Keycloak or Entra ID do: a discovery
document, a JWKS with an RSA key made at start, ``/authorize`` (no form: it signs in the
person the test chose with :meth:`OidcProvider.sign_in_as`) and ``/token`` (client secret,
single-use code, redirect URI and PKCE verifier checked; an RS256 ID token back). ID tokens are
signed here with ``cryptography`` alone, so the console's checks are tried against tokens
its own JOSE library did not make. :meth:`OidcProvider.misbehave` spoils the next ID token
(a claim changed, a foreign key, no signature) to see the console refuse it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from tests.leak_scan import register_secret


def b64url(data: bytes) -> str:
    """Base64url without padding, as JOSE writes it."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _int_b64(number: int) -> str:
    return b64url(number.to_bytes((number.bit_length() + 7) // 8, "big"))


@dataclass
class Person:
    """Who the provider signs in next, and the claims it states about them."""

    subject: str
    login: str
    name: str | None = None
    email: str | None = None
    roles: list[str] | None = None


@dataclass
class _Grant:
    client_id: str
    redirect_uri: str
    challenge: str
    nonce: str | None
    person: Person
    issued: float = field(default_factory=time.monotonic)


class OidcProvider:
    """An OpenID provider for one client, served from a thread on a loopback port."""

    CODE_SECONDS = 60

    def __init__(self, client_id: str, client_secret: str, *, port: int = 0) -> None:
        self.client_id, self.client_secret = client_id, register_secret(client_secret, "OIDC client secret")
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = secrets.token_hex(8)
        self.person: Person | None = None
        self.spoil: dict[str, Any] = {}
        self.issued_tokens: list[str] = []
        self.issued_codes: list[str] = []
        self.authorize_queries: list[dict[str, str]] = []
        self._grants: dict[str, _Grant] = {}
        self._lock = threading.Lock()
        self._port = port
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- the test's controls -------------------------------------------------------------------------------

    @property
    def issuer(self) -> str:
        """The issuer URL (also the base of every endpoint)."""
        return f"http://127.0.0.1:{self._port}"

    def sign_in_as(self, person: Person | None) -> None:
        """The person ``/authorize`` signs in from now on (None: it answers ``access_denied``)."""
        self.person = person

    def misbehave(self, *, claims: dict[str, Any] | None = None, sign: str | None = None) -> None:
        """Spoil the next ID token only: ``claims`` override its claims; ``sign`` is ``"foreign"`` (another
        key under this key's id) or ``"none"`` (no signature at all)."""
        self.spoil = {"claims": claims or {}, "sign": sign}

    def start(self) -> OidcProvider:
        """Listen (on the port given, or a free one) and answer from a thread."""
        provider = self

        class Handler(_Handler):
            owner = provider

        self._server = ThreadingHTTPServer(("127.0.0.1", self._port), Handler)
        self._port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name="oidc-provider", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop answering (the port is closed: a provider that is down)."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    # -- the protocol ---------------------------------------------------------------------------------------

    def discovery(self) -> dict[str, Any]:
        """The document at ``/.well-known/openid-configuration``."""
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "jwks_uri": f"{self.issuer}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "scopes_supported": ["openid", "profile", "email"],
            "grant_types_supported": ["authorization_code"],
        }

    def jwks(self) -> dict[str, Any]:
        """The public signing key as a JWK set."""
        numbers = self.key.public_key().public_numbers()
        return {"keys": [{"kty": "RSA", "use": "sig", "alg": "RS256", "kid": self.kid,
                          "n": _int_b64(numbers.n), "e": _int_b64(numbers.e)}]}

    def authorize(self, query: dict[str, str]) -> tuple[int, dict[str, str], dict[str, Any] | None]:
        """``/authorize``: (status, headers, JSON body) — a redirect back with a code when all is in order."""
        self.authorize_queries.append(query)
        redirect_uri, state = query.get("redirect_uri", ""), query.get("state")
        if query.get("client_id") != self.client_id or not redirect_uri.startswith(("http://", "https://")):
            return 400, {}, {"error": "invalid_request", "error_description": "unknown client or redirect_uri"}
        back = {"state": state} if state else {}
        if query.get("response_type") != "code" or "openid" not in query.get("scope", "").split():
            return 302, {"Location": _with(redirect_uri, error="invalid_request", **back)}, None
        if query.get("code_challenge_method") != "S256" or not query.get("code_challenge"):
            return 302, {"Location": _with(redirect_uri, error="invalid_request", **back)}, None
        if self.person is None:
            return 302, {"Location": _with(redirect_uri, error="access_denied", **back)}, None
        code = secrets.token_urlsafe(24)
        with self._lock:
            self._grants[code] = _Grant(self.client_id, redirect_uri, query["code_challenge"], query.get("nonce"),
                                        self.person)
        self.issued_codes.append(code)
        return 302, {"Location": _with(redirect_uri, code=code, **back)}, None

    def token(self, form: dict[str, str], authorization: str | None) -> tuple[int, dict[str, Any]]:
        """``/token``: (status, JSON body) for an authorization code exchange."""
        client_id, secret = _client_credentials(form, authorization)
        if client_id != self.client_id or not hmac.compare_digest(secret.encode(), self.client_secret.encode()):
            return 401, {"error": "invalid_client"}
        if form.get("grant_type") != "authorization_code":
            return 400, {"error": "unsupported_grant_type"}
        with self._lock:
            grant = self._grants.pop(form.get("code", ""), None)  # a code is good once
        if grant is None or time.monotonic() - grant.issued > self.CODE_SECONDS:
            return 400, {"error": "invalid_grant"}
        if form.get("redirect_uri") != grant.redirect_uri:
            return 400, {"error": "invalid_grant", "error_description": "redirect_uri differs"}
        verifier = form.get("code_verifier", "")
        if not verifier or b64url(hashlib.sha256(verifier.encode()).digest()) != grant.challenge:
            return 400, {"error": "invalid_grant", "error_description": "PKCE verification failed"}
        id_token = self._id_token(grant)
        self.issued_tokens.append(id_token)
        return 200, {"access_token": secrets.token_urlsafe(24), "token_type": "Bearer", "expires_in": 300,
                     "id_token": id_token, "scope": "openid profile email"}

    def _id_token(self, grant: _Grant) -> str:
        now = int(time.time())
        person = grant.person
        claims: dict[str, Any] = {"iss": self.issuer, "aud": grant.client_id, "sub": person.subject, "iat": now,
                                  "exp": now + 300, "auth_time": now, "preferred_username": person.login}
        if grant.nonce:
            claims["nonce"] = grant.nonce
        claims.update({k: v for k, v in (("name", person.name), ("email", person.email),
                                         ("roles", person.roles)) if v is not None})
        spoil, self.spoil = self.spoil, {}
        claims.update(spoil.get("claims", {}))
        return self.signed(claims, sign=spoil.get("sign"))

    def signed(self, claims: dict[str, Any], *, sign: str | None = None) -> str:
        """``claims`` as a compact JWS: RS256 with this provider's key, another key (``"foreign"``) or none."""
        header = {"alg": "none" if sign == "none" else "RS256", "typ": "JWT", "kid": self.kid}
        signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims).encode())}"
        if sign == "none":
            return f"{signing_input}."
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048) if sign == "foreign" else self.key
        signature = key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input}.{b64url(signature)}"


def _with(url: str, **params: str) -> str:
    return f"{url}{'&' if urlsplit(url).query else '?'}{urlencode(params)}"


def _client_credentials(form: dict[str, str], authorization: str | None) -> tuple[str, str]:
    """The client's id and secret: HTTP Basic (client_secret_basic) or the form (client_secret_post)."""
    from urllib.parse import unquote

    if authorization and authorization.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(authorization[6:].strip()).decode()
        except ValueError:
            return "", ""
        client_id, _, secret = decoded.partition(":")
        return unquote(client_id), unquote(secret)
    return form.get("client_id", ""), form.get("client_secret", "")


class _Handler(BaseHTTPRequestHandler):
    owner: OidcProvider

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the tests read the provider's state, not its access log

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        if url.path == "/.well-known/openid-configuration":
            self._json(200, self.owner.discovery())
        elif url.path == "/jwks":
            self._json(200, self.owner.jwks())
        elif url.path == "/authorize":
            status, headers, body = self.owner.authorize(query)
            if body is None:
                self._empty(status, headers)
            else:
                self._json(status, body, headers)
        else:
            self._json(404, {"error": "not_found"})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
        if urlsplit(self.path).path == "/token":
            status, body = self.owner.token(form, self.headers.get("Authorization"))
            self._json(status, body, {"Cache-Control": "no-store"})
        else:
            self._json(404, {"error": "not_found"})

    def _json(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _empty(self, status: int, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", "0")
        self.end_headers()
