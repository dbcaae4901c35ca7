"""Accounts and API tokens, for administrators."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from officehub.serve.console import back_to, render
from officehub.serve.deps import CheckedForm, HubDep, Visitor, allowed
from officehub.serve.rights import Right
from officehub.services import accounts, api_tokens

router = APIRouter(include_in_schema=False)
Admin = Annotated[Visitor, Depends(allowed(Right.ADMINISTER))]


def _page(request: Request, hub: Any, visitor: Visitor, notice: str | None = None,
          secret: dict[str, str] | None = None) -> Response:
    response = render(request, hub, visitor, "users.html", users=accounts.listed(hub.store),
                      tokens=api_tokens.listed(hub.store), roles=accounts.ROLES, scopes=api_tokens.SCOPES,
                      clients=hub.project.config.serve.client_names(), notice=notice, secret=secret)
    if secret:
        response.headers["Cache-Control"] = "no-store"
    return response


@router.get("/users", response_class=HTMLResponse)
def listing(request: Request, hub: HubDep, visitor: Admin, notice: str | None = None) -> Response:
    """Every account and token."""
    return _page(request, hub, visitor, notice)


@router.post("/users", response_class=HTMLResponse)
def add(request: Request, hub: HubDep, visitor: Admin, form: CheckedForm) -> Response:
    """A new account with a one-time password, shown once."""
    user, made = accounts.add(hub.store, visitor.actor, str(form.get("login", "")),
                              [str(r) for r in form.getlist("roles")],
                              display_name=str(form.get("display_name") or "") or None,
                              email=str(form.get("email") or "") or None)
    return _page(request, hub, visitor, secret={"label": f"One-time password of {user.login}", "value": str(made)})


@router.post("/users/{login}/disable")
def disable(login: str, hub: HubDep, visitor: Admin, form: CheckedForm) -> Response:
    """Disable an account: its sessions end at once."""
    accounts.set_status(hub.store, visitor.actor, login, active=False)
    return back_to("/users", f"{login} is disabled")


@router.post("/users/{login}/enable")
def enable(login: str, hub: HubDep, visitor: Admin, form: CheckedForm) -> Response:
    """Enable a disabled account again."""
    accounts.set_status(hub.store, visitor.actor, login, active=True)
    return back_to("/users", f"{login} is enabled")


@router.post("/users/{login}/reset", response_class=HTMLResponse)
def reset(request: Request, login: str, hub: HubDep, visitor: Admin, form: CheckedForm) -> Response:
    """A new one-time password for an account, shown once; its sessions end."""
    made = accounts.set_password(hub.store, visitor.actor, login)
    return _page(request, hub, visitor, secret={"label": f"New one-time password of {login}", "value": str(made)})


@router.post("/tokens", response_class=HTMLResponse)
def issue(request: Request, hub: HubDep, visitor: Admin, form: CheckedForm) -> Response:
    """A new API token for a configured client, shown once."""
    days = str(form.get("expires_days") or "").strip()
    found, token = api_tokens.issue(hub.store, visitor.actor, str(form.get("client", "")), str(form.get("name", "")),
                                    [str(s) for s in form.getlist("scopes")],
                                    expires_days=int(days) if days.isdigit() else 365,
                                    known_clients=hub.project.config.serve.client_names())
    return _page(request, hub, visitor, secret={"label": f"Token {found.id} of {found.client}", "value": token})


@router.post("/tokens/{token_id}/revoke")
def revoke(token_id: int, hub: HubDep, visitor: Admin, form: CheckedForm) -> Response:
    """Revoke a token: the application's requests with it are refused from now on."""
    api_tokens.revoke(hub.store, visitor.actor, token_id)
    return back_to("/users", f"Token {token_id} is revoked")
