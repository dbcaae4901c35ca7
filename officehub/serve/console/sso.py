"""Single sign-on through an OpenID Connect provider (``serve.oidc``).

The authorization code flow with PKCE (OpenID Connect Core §3.1, RFC 7636). ``/login/sso``
sends the browser to the provider with a fresh state, nonce and code verifier, which wait
meanwhile in a cookie of their own: signed with the session key, good for ten minutes, sent
to these two paths only, and bound to the visitor's session so that nobody can slip their
own sign-in into someone else's browser. ``/login/sso/callback`` checks the state, exchanges
the code with the client secret and the verifier (Authlib's OAuth 2 requests, sent with
httpx), checks the ID token (joserfc: signed by a key of the provider's JWKS, issuer,
audience, nonce, expiry), and signs the person in through
:func:`officehub.services.accounts.single_sign_on`, as the password form does.

The discovery document and the keys are read at each sign-in: sign-ins are rare, and a key
the provider rotates is then picked up with no cache to go stale. No code, token or secret is
ever logged or shown (the access log writes the callback without its query, which holds the
code); a failure is the sign-in page with one line that says what to do.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
from dataclasses import asdict, dataclass, fields
from typing import Any, cast

import httpx
from authlib.oauth2.auth import ClientAuth  # type: ignore[import-untyped]
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri, prepare_token_request  # type: ignore[import-untyped]
from authlib.oauth2.rfc7636 import create_s256_code_challenge  # type: ignore[import-untyped]
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer
from joserfc import jwt
from joserfc.errors import ClaimError, JoseError
from joserfc.jwk import KeySet

from officehub.canonical_model.errors import OfficehubError
from officehub.config.serve_settings import OidcSettings
from officehub.serve.console import render
from officehub.serve.console.auth import safe_next
from officehub.serve.deps import HubDep, Visitor, VisitorDep
from officehub.serve.sessions import Session
from officehub.serve.state import Hub
from officehub.services import accounts
from officehub.services.accounts import LoginRefused, User

log = logging.getLogger("officehub.serve.sso")
router = APIRouter(include_in_schema=False)

FLOW_COOKIE = "officehub_sso"
_FLOW_PATH = "/login/sso"
#: Time to sign in at the provider (a second factor included) before the attempt expires.
_FLOW_SECONDS = 600
_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
#: Clock skew allowed between this server and the provider, in seconds.
_LEEWAY = 60
#: Public-key signatures only: "none" is no signature, and HMAC ones would be keyed with the client secret.
_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")

_UNREACHABLE = "the single sign-on provider cannot be reached; try again later, or sign in with a password"
_UNUSABLE = "the single sign-on provider gave an answer this console cannot use; tell your administrator"
_AGAIN = "the single sign-on attempt expired or did not start in this browser; try again"
_BAD_TOKEN = "the single sign-on provider's answer did not pass the checks; try again, or tell your administrator"


class SsoFailed(Exception):
    """A sign-in through the provider that did not succeed: a status, one line for the person, and for the log
    what went wrong (never a code, a token or a secret)."""

    def __init__(self, status: int, message: str, reason: str | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.reason = status, message, reason or message


@dataclass(frozen=True)
class Provider:
    """The provider's endpoints and signing algorithms, from its discovery document."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    algorithms: list[str]
    auth_method: str


@dataclass(frozen=True)
class Flow:
    """What one sign-in keeps between leaving for the provider and coming back."""

    state: str
    nonce: str
    verifier: str
    next: str
    bound: str


# -- the routes -------------------------------------------------------------------------------------------


@router.get("/login/sso")
def start(request: Request, hub: HubDep, visitor: VisitorDep, next: str = "/") -> Response:
    """Off to the provider's sign-in, with a new state, nonce and PKCE verifier kept in the flow cookie."""
    settings, next_path = _settings(hub), safe_next(next)
    if visitor.user is not None:
        return RedirectResponse(next_path, status_code=303)
    if not hub.logins.allow(request.client.host if request.client else "unknown"):
        # Each start costs a request to the provider: counted with the password form's attempts.
        return _refused(request, hub, visitor, SsoFailed(429, "too many sign-in attempts from this address; wait a "
                                                              "minute"), next_path)
    flow = Flow(state=secrets.token_urlsafe(24), nonce=secrets.token_urlsafe(24), verifier=secrets.token_urlsafe(48),
                next=next_path, bound=_binding(visitor.session))
    try:
        provider = _provider(settings)
        _client_secret(hub, settings)  # a missing secret shows now, not after the person has signed in
        url = _authorization_url(provider, settings, _redirect_uri(request, settings), flow)
    except SsoFailed as exc:
        return _refused(request, hub, visitor, exc, next_path)
    response = RedirectResponse(url, status_code=303)
    response.set_cookie(FLOW_COOKIE, _signer(hub).dumps(asdict(flow)), max_age=_FLOW_SECONDS, path=_FLOW_PATH,
                        httponly=True, samesite="lax", secure=request.url.scheme == "https")
    return response


@router.get("/login/sso/callback", name="sso_callback")
def callback(request: Request, hub: HubDep, visitor: VisitorDep, code: str | None = None, state: str | None = None,
             error: str | None = None) -> Response:
    """Back from the provider: check everything, then sign the person in as the password form does."""
    settings = _settings(hub)
    flow = _read_flow(request, hub)
    next_path = flow.next if flow else "/"
    try:
        user = _signed_in_user(request, hub, visitor, settings, flow, code=code, state=state, error=error)
    except SsoFailed as exc:
        response = _refused(request, hub, visitor, exc, next_path)
    else:
        log.info("single sign-on of user %s", user.id)
        request.state.send_session = visitor.session.signed_in(user.id, user.session_version)
        response = RedirectResponse(next_path, status_code=303)
    response.delete_cookie(FLOW_COOKIE, path=_FLOW_PATH, httponly=True, samesite="lax")  # one use only
    return response


def _signed_in_user(request: Request, hub: Hub, visitor: Visitor, settings: OidcSettings, flow: Flow | None, *,
                    code: str | None, state: str | None, error: str | None) -> User:
    """The account of the person the provider vouches for, once the answer has passed every check."""
    if flow is None:
        raise SsoFailed(401, _AGAIN, "no flow cookie, or an expired or forged one")
    if not state or not hmac.compare_digest(state.encode(), flow.state.encode()):
        raise SsoFailed(401, _AGAIN, "the state differs from the one sent")
    if not hmac.compare_digest(flow.bound, _binding(visitor.session)):
        raise SsoFailed(401, _AGAIN, "the flow began in another session")
    if error:
        code_name = error if re.fullmatch(r"[a-z_]{1,40}", error) else "error"
        raise SsoFailed(401, f"the single sign-on provider did not sign you in ({code_name})")
    if not code:
        raise SsoFailed(401, _AGAIN, "the provider sent no code")
    provider = _provider(settings)
    tokens = _exchange(provider, settings, _client_secret(hub, settings), _redirect_uri(request, settings), code,
                       flow.verifier)
    claims = _id_claims(provider, settings, tokens, flow.nonce)
    return _account(hub, settings, claims)


def _settings(hub: Hub) -> OidcSettings:
    settings = hub.project.config.serve.oidc
    if settings is None:
        raise HTTPException(404, "single sign-on is not configured on this console")
    return settings


def _refused(request: Request, hub: Hub, visitor: Visitor, exc: SsoFailed, next_path: str) -> Response:
    """The sign-in page again, with the one-line problem; the reason goes to the log."""
    log.warning("single sign-on refused (%d): %s", exc.status, exc.reason)
    oidc = hub.project.config.serve.oidc
    return render(request, hub, visitor, "login.html", status=exc.status, problem=exc.message, next=next_path,
                  sso_label=oidc.label if oidc else None)


# -- the flow cookie --------------------------------------------------------------------------------------


def _signer(hub: Hub) -> URLSafeTimedSerializer:
    """Signs flow cookies with the session key, under a salt of their own (one can never pass for the other)."""
    return URLSafeTimedSerializer(hub.session_key, salt="officehub-sso-flow")


def _binding(session: Session) -> str:
    """Ties a flow to the visitor's session without putting the session's CSRF token in the flow cookie."""
    return hashlib.sha256(f"officehub-sso {session.csrf}".encode()).hexdigest()


def _read_flow(request: Request, hub: Hub) -> Flow | None:
    """The flow in the request's cookie; None when it is missing, forged or older than ten minutes."""
    cookie = request.cookies.get(FLOW_COOKIE)
    if not cookie:
        return None
    try:
        data = _signer(hub).loads(cookie, max_age=_FLOW_SECONDS)
        return Flow(**{name: str(data[name]) for name in (f.name for f in fields(Flow))})
    except (BadSignature, KeyError, TypeError):
        return None


# -- talking to the provider ------------------------------------------------------------------------------


def _redirect_uri(request: Request, settings: OidcSettings) -> str:
    return settings.redirect_url or str(request.url_for("sso_callback"))


def _client_secret(hub: Hub, settings: OidcSettings) -> str:
    try:
        return settings.client_secret.resolve(hub.project.base_dir).get_secret_value()
    except OfficehubError as exc:
        raise SsoFailed(500, "single sign-on is not fully set up on this server (its client secret cannot be "
                             "read); tell your administrator", f"client secret: {exc.describe()}") from None


def _get_json(url: str, what: str) -> dict[str, Any]:
    """The JSON object at ``url`` (the discovery document or the key set)."""
    try:
        response = httpx.get(url, timeout=_TIMEOUT, headers={"Accept": "application/json"})
        response.raise_for_status()
        data = response.json()
    except httpx.TransportError as exc:
        raise SsoFailed(502, _UNREACHABLE, f"{what}: {type(exc).__name__}") from None
    except httpx.HTTPStatusError as exc:
        raise SsoFailed(502, _UNUSABLE, f"{what}: HTTP {exc.response.status_code}") from None
    except ValueError:
        raise SsoFailed(502, _UNUSABLE, f"{what}: not JSON") from None
    if not isinstance(data, dict):
        raise SsoFailed(502, _UNUSABLE, f"{what}: not a JSON object")
    return data


def _provider(settings: OidcSettings) -> Provider:
    """The provider's discovery document, which must name the configured issuer."""
    doc = _get_json(f"{settings.issuer.rstrip('/')}/.well-known/openid-configuration", "discovery document")
    issuer = doc.get("issuer")
    if not isinstance(issuer, str) or issuer.rstrip("/") != settings.issuer.rstrip("/"):
        raise SsoFailed(502, _UNUSABLE, "the discovery document names another issuer than serve.oidc.issuer")
    endpoints = [doc.get(name) for name in ("authorization_endpoint", "token_endpoint", "jwks_uri")]
    if not all(isinstance(url, str) and url.startswith(("https://", "http://")) for url in endpoints):
        raise SsoFailed(502, _UNUSABLE, "the discovery document lacks an endpoint")
    offered = doc.get("id_token_signing_alg_values_supported") or ["RS256"]
    algorithms = [alg for alg in _ALGORITHMS if alg in offered]
    if not algorithms:
        raise SsoFailed(502, _UNUSABLE, "the provider signs ID tokens with no public-key algorithm")
    methods = doc.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
    auth_method = "client_secret_post" if "client_secret_basic" not in methods else "client_secret_basic"
    authorize, token, jwks = cast(list[str], endpoints)
    return Provider(issuer, authorize, token, jwks, algorithms, auth_method)


def _authorization_url(provider: Provider, settings: OidcSettings, redirect_uri: str, flow: Flow) -> str:
    """The provider's sign-in address for this flow (code flow, PKCE S256, state and nonce)."""
    return str(prepare_grant_uri(provider.authorization_endpoint, settings.client_id, "code", redirect_uri=redirect_uri,
                                 scope=" ".join(settings.scopes), state=flow.state, nonce=flow.nonce,
                                 code_challenge=create_s256_code_challenge(flow.verifier),
                                 code_challenge_method="S256"))


def _exchange(provider: Provider, settings: OidcSettings, secret: str, redirect_uri: str, code: str,
              verifier: str) -> dict[str, Any]:
    """The provider's tokens for ``code``, asked with the client secret and the PKCE verifier."""
    body = prepare_token_request("authorization_code", code=code, redirect_uri=redirect_uri, code_verifier=verifier)
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
    url, headers, body = ClientAuth(settings.client_id, secret, provider.auth_method).prepare(
        "POST", provider.token_endpoint, headers, body)
    try:
        response = httpx.post(url, content=body, headers=headers, timeout=_TIMEOUT)
        tokens = response.json()
    except httpx.TransportError as exc:
        raise SsoFailed(502, _UNREACHABLE, f"token endpoint: {type(exc).__name__}") from None
    except ValueError:
        raise SsoFailed(502, _UNUSABLE, f"token endpoint: HTTP {response.status_code}, not JSON") from None
    if not isinstance(tokens, dict) or response.status_code >= 500:
        raise SsoFailed(502, _UNUSABLE, f"token endpoint: HTTP {response.status_code}")
    if response.status_code != 200 or "error" in tokens:
        # The error code only: its description is the provider's free text.
        error = str(tokens.get("error", ""))[:40] or f"HTTP {response.status_code}"
        raise SsoFailed(401, _AGAIN if error == "invalid_grant" else _BAD_TOKEN,
                        f"token endpoint refused the code: {error}")
    return tokens


def _id_claims(provider: Provider, settings: OidcSettings, tokens: dict[str, Any], nonce: str) -> dict[str, Any]:
    """The ID token's claims, once its signature, issuer, audience, nonce and times have passed."""
    id_token = tokens.get("id_token")
    if not isinstance(id_token, str):
        raise SsoFailed(502, _UNUSABLE, "the token endpoint sent no ID token (is the scope 'openid' allowed?)")
    keys = _get_json(provider.jwks_uri, "key set")
    try:
        token = jwt.decode(id_token, KeySet.import_key_set(cast(Any, keys)), algorithms=provider.algorithms)
        jwt.JWTClaimsRegistry(
            leeway=_LEEWAY, iss={"essential": True, "value": provider.issuer},
            aud={"essential": True, "value": settings.client_id}, sub={"essential": True},
            exp={"essential": True}, iat={"essential": True}, nonce={"essential": True, "value": nonce},
        ).validate(token.claims)
    except ClaimError as exc:
        raise SsoFailed(401, _BAD_TOKEN, f"ID token: {exc.error} '{exc.claim}'") from None
    except (JoseError, ValueError, KeyError, TypeError) as exc:
        raise SsoFailed(401, _BAD_TOKEN, f"ID token: {getattr(exc, 'error', '') or type(exc).__name__}") from None
    claims = token.claims
    audience = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    # OpenID Connect Core §3.1.3.7: with other audiences too, the token must name this client as its party.
    if claims.get("azp", settings.client_id if len(audience) == 1 else None) != settings.client_id:
        raise SsoFailed(401, _BAD_TOKEN, "ID token: another authorized party (azp)")
    return claims


# -- the account ------------------------------------------------------------------------------------------


def _account(hub: Hub, settings: OidcSettings, claims: dict[str, Any]) -> User:
    """The person's account (made on their first sign-in), with the roles the provider gives."""
    login = _claim(claims, settings.login_claim)
    if not isinstance(login, str) or not login.strip():
        raise SsoFailed(401, f"the single sign-on provider sent no '{settings.login_claim}' to use as your login; "
                             "tell your administrator")
    try:
        return accounts.single_sign_on(hub.store, str(claims["iss"]), str(claims["sub"]), login=login.strip(),
                                       display_name=_text(claims.get("name")), email=_text(claims.get("email")),
                                       roles=_roles(settings, claims))
    except LoginRefused as exc:
        raise SsoFailed(401, exc.message, f"account refused: {exc.message}") from None


def _roles(settings: OidcSettings, claims: dict[str, Any]) -> list[str] | None:
    """The officehub roles in the roles claim; None when no roles claim is configured.

    With a roles claim configured, the provider decides: a person it gives none of officehub's
    roles (the claim missing, empty, or naming only other roles) is refused, never left with
    roles an earlier sign-in gave.
    """
    if settings.roles_claim is None:
        return None
    given = _claim(claims, settings.roles_claim)
    listed = given.split() if isinstance(given, str) else given if isinstance(given, list) else []
    roles = [role for role in listed if isinstance(role, str) and role in accounts.ROLES]
    if not roles:
        raise SsoFailed(403, f"the single sign-on provider gives you none of officehub's roles "
                             f"({', '.join(accounts.ROLES)}); ask your administrator for one",
                        f"no officehub role in the claim '{settings.roles_claim}'")
    return roles


def _claim(claims: dict[str, Any], path: str) -> Any:
    """The claim ``path`` names: a claim of that very name, or a dotted path into nested claims."""
    if path in claims:
        return claims[path]
    value: Any = claims
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _text(value: Any) -> str | None:
    return (value.strip() or None) if isinstance(value, str) else None
