"""Who is asking, and may they: the dependencies every console route and API endpoint declares.

A console route names the right it needs (``Annotated[Visitor, Depends(allowed(Right.STEWARD))]``);
a form post also takes :func:`checked_form`, which refuses a post without the session's
CSRF token. An API endpoint takes :func:`api_client` with the scope it needs. The refusals
are exceptions that :mod:`officehub.serve.errors` turns into the right status and a one-line
message (a redirect to the sign-in page for a console page).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from officehub.serve.rights import Right, rights_of
from officehub.serve.sessions import COOKIE, CSRF_FIELD, CSRF_HEADER, Session
from officehub.serve.state import RELOAD_CHECK_SECONDS, Hub
from officehub.services import accounts
from officehub.services.accounts import User
from officehub.services.api_tokens import ApiToken


class SignInNeeded(Exception):
    """The console page needs a signed-in user (or the session ended)."""


class PasswordChangeNeeded(Exception):
    """The user signed in with a one-time password and must choose their own first."""


class NotAllowed(Exception):
    """The signed-in user's roles do not give the right this page or action needs."""

    def __init__(self, right: Right) -> None:
        super().__init__(f"your role does not allow this (it needs the right '{right.value}')")


class FormExpired(Exception):
    """A form post without this session's CSRF token: a stale page, or a post made by another site."""


class ApiRefused(Exception):
    """An API request without a usable token, or with one that lacks the scope."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


async def hub_of(request: Request) -> Hub:
    """The process's served project (reloaded when another process approved a policy change).

    Asynchronous so that a request does not take a worker thread just to be told its hub: the
    store is looked at (off the event loop) only every few seconds.
    """
    hub: Hub = request.app.state.hub
    if time.monotonic() - hub.checked_at >= RELOAD_CHECK_SECONDS:
        await run_in_threadpool(hub.fresh)
    return hub


HubDep = Annotated[Hub, Depends(hub_of)]


@dataclass(frozen=True)
class Visitor:
    """The person behind a console request: their session and, once signed in, their account and rights."""

    session: Session
    user: User | None

    @property
    def rights(self) -> frozenset[Right]:
        """What the user may do (nothing before signing in)."""
        return rights_of(self.user.roles) if self.user else frozenset()

    def may(self, right: Right | str) -> bool:
        """Whether the user has ``right`` (templates ask this to show or hide actions)."""
        return Right(right) in self.rights

    @property
    def actor(self) -> str:
        """How the audit trail names this person."""
        return self.user.actor if self.user else "anonymous"


def visitor(request: Request, hub: HubDep) -> Visitor:
    """The request's session (a new one for a first visit) and its user, if still valid.

    The session is kept on the request for the response to (re)send as a cookie.
    """
    session = hub.sessions.read(request.cookies.get(COOKIE))
    user = None
    if session is None:
        session = hub.sessions.new()
        request.state.send_session = session
    elif session.user_id is not None:
        user = accounts.get(hub.store, session.user_id)
        if user is None or not user.active or user.session_version != session.version:
            session, user = hub.sessions.new(), None  # signed out elsewhere, disabled, or the password changed
            request.state.send_session = session
        elif hub.sessions.due_for_renewal(session):
            session = hub.sessions.renewed(session)
            request.state.send_session = session
    request.state.session = session
    return Visitor(session, user)


VisitorDep = Annotated[Visitor, Depends(visitor)]


def anyone_signed_in(found: VisitorDep) -> Visitor:
    """The visitor, who must be signed in (even with a one-time password still to change)."""
    if found.user is None:
        raise SignInNeeded
    return found


def signed_in(found: VisitorDep) -> Visitor:
    """The visitor, who must be signed in (and past their one-time password)."""
    if found.user is None:
        raise SignInNeeded
    if found.user.must_change_password:
        raise PasswordChangeNeeded
    return found


def allowed(right: Right) -> Callable[[Visitor], Visitor]:
    """A dependency: the signed-in visitor, who must have ``right``."""

    def check(found: Annotated[Visitor, Depends(signed_in)]) -> Visitor:
        if right not in found.rights:
            raise NotAllowed(right)
        return found

    return check


def csrf_checked() -> Callable[[Request, VisitorDep], Coroutine[Any, Any, FormData]]:
    """A dependency: the posted form, which must carry the session's CSRF token (field or header)."""

    async def check(request: Request, found: VisitorDep) -> FormData:
        form = await request.form()
        given = request.headers.get(CSRF_HEADER) or form.get(CSRF_FIELD)
        if not found.session.csrf_matches(given if isinstance(given, str) else None):
            raise FormExpired
        return form

    return check


CheckedForm = Annotated[FormData, Depends(csrf_checked())]


#: Declares the bearer token in the OpenAPI description; the check itself (and its one-line 401) is ours.
_BEARER = HTTPBearer(auto_error=False, scheme_name="token", description="an API token: officehub user token issue")


def api_client(scope: str) -> Callable[[Request, HTTPAuthorizationCredentials | None], Coroutine[Any, Any, ApiToken]]:
    """A dependency: the API token of the request (``Authorization: Bearer …``), which must have ``scope``.

    Tokens are remembered for a few seconds per process (:class:`officehub.services.api_tokens.Holders`):
    a revoked token is refused by every process within that time.
    """

    async def check(request: Request,
                    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(_BEARER)]) -> ApiToken:
        hub: Hub = request.app.state.hub
        if time.monotonic() - hub.checked_at >= RELOAD_CHECK_SECONDS:  # read the store off the event loop
            await run_in_threadpool(hub.fresh)
        token = credentials.credentials.strip() if credentials is not None else ""
        if not token:
            raise ApiRefused(401, "send an API token as 'Authorization: Bearer <token>'")
        # A token seen in the last few seconds is known without the store; else it is looked up off the event loop.
        known, found = hub.tokens.cached(token)
        if not known:
            found = await run_in_threadpool(hub.tokens.of, hub.store, token)
        if found is None:
            raise ApiRefused(401, "the API token is unknown, revoked or expired")
        if scope not in found.scopes:
            raise ApiRefused(403, f"the API token lacks the scope '{scope}'")
        if found.client not in hub.project.config.serve.clients:
            raise ApiRefused(403, f"API client '{found.client}' is no longer in the configuration")
        request.state.api_token = found
        return found

    return check
