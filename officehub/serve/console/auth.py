"""Signing in and out, and choosing one's own password."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from officehub.canonical_model.errors import FatalError
from officehub.serve.console import render
from officehub.serve.deps import CheckedForm, HubDep, Visitor, VisitorDep, anyone_signed_in
from officehub.services import accounts
from officehub.services.accounts import LoginRefused

router = APIRouter(include_in_schema=False)


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a path of this console only (never another site)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, hub: HubDep, visitor: VisitorDep, next: str = "/") -> Response:
    """The sign-in form (straight on to ``next`` for someone signed in already)."""
    if visitor.user is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    oidc = hub.project.config.serve.oidc
    return render(request, hub, visitor, "login.html", next=safe_next(next), sso_label=oidc.label if oidc else None)


@router.post("/login")
def login(request: Request, hub: HubDep, visitor: VisitorDep, form: CheckedForm) -> Response:
    """Check the login and password; on success a new session (new CSRF token) for the user."""
    login_name, password = str(form.get("login", "")), str(form.get("password", ""))
    next_path = safe_next(str(form.get("next", "/")))
    oidc = hub.project.config.serve.oidc
    again = {"next": next_path, "login": login_name, "sso_label": oidc.label if oidc else None}
    if not hub.logins.allow(_client(request)):
        return render(request, hub, visitor, "login.html", status=429,
                      problem="too many sign-in attempts from this address; wait a minute", **again)
    try:
        user = accounts.authenticate(hub.store, login_name, password)
    except LoginRefused as exc:
        return render(request, hub, visitor, "login.html", status=401, problem=exc.message, **again)
    request.state.send_session = visitor.session.signed_in(user.id, user.session_version)
    return RedirectResponse("/account/password" if user.must_change_password else next_path, status_code=303)


@router.post("/logout")
def logout(request: Request, hub: HubDep, form: CheckedForm) -> Response:
    """End the session (a new visitor session replaces it)."""
    request.state.send_session = hub.sessions.new()
    return RedirectResponse("/login", status_code=303)


SignedInAny = Annotated[Visitor, Depends(anyone_signed_in)]


@router.get("/account/password", response_class=HTMLResponse)
def password_page(request: Request, hub: HubDep, visitor: SignedInAny) -> Response:
    """The form to choose a new password."""
    return render(request, hub, visitor, "password.html", min_length=accounts.MIN_PASSWORD)


@router.post("/account/password")
def change_password(request: Request, hub: HubDep, visitor: SignedInAny, form: CheckedForm) -> Response:
    """Replace the password; the session goes on under the account's new session version."""
    assert visitor.user is not None
    try:
        user = accounts.change_own_password(hub.store, visitor.user.id, str(form.get("current", "")),
                                            str(form.get("new", "")))
    except FatalError as exc:
        return render(request, hub, visitor, "password.html", status=400, problem=exc.message,
                      min_length=accounts.MIN_PASSWORD)
    request.state.send_session = visitor.session.signed_in(user.id, user.session_version)
    return RedirectResponse("/?notice=Your+password+is+changed", status_code=303)
