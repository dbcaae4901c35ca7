"""``officehub serve`` and the accounts it signs people and applications in with: ``officehub user …``.

The accounts themselves (and their audit entries) are :mod:`officehub.services.accounts`
and :mod:`officehub.services.api_tokens`, imported inside the commands that use them.
"""

from __future__ import annotations

from typing import Annotated

import typer

from officehub.cli.commands_identity import actor
from officehub.cli.options import JsonOption, ProjectOption, project_dir
from officehub.cli.output import console, emit_json, table
from officehub.cli.session import hub_session

user_app = typer.Typer(help="Console users and applications' API tokens.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens of applications (each a configured serve.clients entry).",
                        no_args_is_help=True)

Roles = Annotated[list[str], typer.Option("--role", "-r", help="A role (repeat for several): viewer, operator, "
                                                               "steward, compliance, admin.")]


def serve(project: ProjectOption = None,
          host: Annotated[str, typer.Option(help="Address to listen on (0.0.0.0 for every interface).")] = "127.0.0.1",
          port: Annotated[int, typer.Option(help="Port to listen on.")] = 8080,
          workers: Annotated[int, typer.Option(help="Server processes (more than one needs a PostgreSQL hub "
                                                    "store).")] = 1,
          proxy: Annotated[bool, typer.Option("--behind-proxy", help="Trust X-Forwarded-For/-Proto from a reverse "
                                                                     "proxy on this host (for HTTPS cookies).")] = False,
          debug: Annotated[bool, typer.Option("--debug", help="Log tracebacks of internal errors.")] = False) -> None:
    """Serve the web console and the hub API (FastAPI on uvicorn) until stopped."""
    import os

    import uvicorn

    from officehub.canonical_model.errors import FatalError
    from officehub.config import load_project

    folder = project_dir(project).resolve()
    loaded = load_project(folder)  # fail here, with the configuration's own message, before the server starts
    if workers > 1 and loaded.config.hub.store.startswith("sqlite"):
        raise FatalError("several workers need a PostgreSQL hub store (hub.store); SQLite serves one worker")
    os.environ["OFFICEHUB_PROJECT"] = str(folder)
    if debug:
        os.environ["OFFICEHUB_DEBUG"] = "1"
    console.print(f"officehub console and hub API on http://{host}:{port}/ (API description: /openapi.json)",
                  highlight=False)
    uvicorn.run("officehub.serve.asgi:app", host=host, port=port, workers=workers, proxy_headers=proxy,
                forwarded_allow_ips="127.0.0.1" if proxy else None, server_header=False, log_level="info")


def add(login: Annotated[str, typer.Argument(help="The login name.")], role: Roles,
        name: Annotated[str | None, typer.Option(help="The person's name, as the console shows it.")] = None,
        email: Annotated[str | None, typer.Option(help="The person's e-mail address.")] = None,
        or_reset: Annotated[bool, typer.Option("--or-reset", help="If the user exists, give them a new one-time "
                                                                 "password instead of failing.")] = False,
        project: ProjectOption = None, as_json: JsonOption = False) -> None:
    """Add a console user with a one-time password (printed once; changed at the first sign-in)."""
    from officehub.canonical_model.errors import NotFound
    from officehub.services import accounts

    with hub_session(project) as (_, store):
        try:
            existing = accounts.by_login(store, login) if or_reset else None
        except NotFound:
            existing = None
        if existing is not None:
            user, made = existing, accounts.set_password(store, actor(), login)
        else:
            user, made = accounts.add(store, actor(), login, role, display_name=name, email=email)
    if as_json:
        emit_json({**user.as_dict(), "one_time_password": made})
        return
    done = "exists; its new" if existing is not None else "added; its"
    console.print(f"{user.login} ({', '.join(user.roles)}) {done} one-time password, shown this once "
                  "(changed at the first sign-in):", highlight=False)
    console.print(str(made), highlight=False, soft_wrap=True)


def listing(project: ProjectOption = None, as_json: JsonOption = False) -> None:
    """Every console user, with roles, status and last sign-in."""
    from officehub.services import accounts

    with hub_session(project) as (_, store):
        users = accounts.listed(store)
    if as_json:
        emit_json([u.as_dict() for u in users])
        return
    console.print(table("users", ["login", "name", "roles", "status", "sign-in", "last sign-in"],
                        [(u.login, u.display_name or "", ", ".join(u.roles), u.status,
                          "single sign-on" if u.single_sign_on else "password",
                          u.last_login_at.strftime("%Y-%m-%d %H:%M") if u.last_login_at else "never") for u in users]))


def disable(login: Annotated[str, typer.Argument(help="The login name.")], project: ProjectOption = None) -> None:
    """Disable a user: their sessions end at once and they cannot sign in."""
    from officehub.services import accounts

    with hub_session(project) as (_, store):
        accounts.set_status(store, actor(), login, active=False)
    console.print(f"{login} is disabled.", highlight=False)


def enable(login: Annotated[str, typer.Argument(help="The login name.")], project: ProjectOption = None) -> None:
    """Enable a disabled user again."""
    from officehub.services import accounts

    with hub_session(project) as (_, store):
        accounts.set_status(store, actor(), login, active=True)
    console.print(f"{login} is enabled.", highlight=False)


def roles(login: Annotated[str, typer.Argument(help="The login name.")], role: Roles,
          project: ProjectOption = None) -> None:
    """Replace a user's roles."""
    from officehub.services import accounts

    with hub_session(project) as (_, store):
        user = accounts.set_roles(store, actor(), login, role)
    console.print(f"{login}: {', '.join(user.roles)}.", highlight=False)


def password(login: Annotated[str, typer.Argument(help="The login name.")], project: ProjectOption = None) -> None:
    """Give a user a new one-time password (printed once); their sessions end."""
    from officehub.services import accounts

    with hub_session(project) as (_, store):
        made = accounts.set_password(store, actor(), login)
    console.print(f"New one-time password of {login}, shown this once:", highlight=False)
    console.print(str(made), highlight=False, soft_wrap=True)


def token_issue(client: Annotated[str, typer.Argument(help="The API client (serve.clients in officehub.yaml).")],
                name: Annotated[str, typer.Option(help="Where the token is used, e.g. billing-prod.")],
                scope: Annotated[list[str], typer.Option("--scope", "-s", help="read, search, changes, submit "
                                                                              "(repeat for several).")],
                days: Annotated[int | None, typer.Option(help="Days until it expires.")] = 365,
                never: Annotated[bool, typer.Option("--no-expiry", help="A token that never expires.")] = False,
                project: ProjectOption = None, as_json: JsonOption = False) -> None:
    """Issue an API token for an application (printed once; the hub keeps only its digest)."""
    from officehub.services import api_tokens

    with hub_session(project) as (loaded, store):
        found, token = api_tokens.issue(store, actor(), client, name, scope, expires_days=None if never else days,
                                        known_clients=loaded.config.serve.client_names())
    if as_json:
        emit_json({**found.as_dict(), "token": token})
        return
    console.print(f"Token {found.id} for {client} ({', '.join(found.scopes)}), shown this once:", highlight=False)
    console.print(token, highlight=False, soft_wrap=True)


def token_list(client: Annotated[str | None, typer.Option(help="Only this client's tokens.")] = None,
               project: ProjectOption = None, as_json: JsonOption = False) -> None:
    """Every API token, newest first (never the token itself)."""
    from officehub.services import api_tokens

    with hub_session(project) as (_, store):
        tokens = api_tokens.listed(store, client)
    if as_json:
        emit_json([t.as_dict() for t in tokens])
        return
    console.print(table("API tokens", ["id", "client", "name", "starts", "scopes", "expires", "revoked", "last used"],
                        [(t.id, t.client, t.name, f"{t.prefix}…", ", ".join(t.scopes),
                          t.expires_at.strftime("%Y-%m-%d") if t.expires_at else "never",
                          t.revoked_at.strftime("%Y-%m-%d") if t.revoked_at else "",
                          t.last_used_at.strftime("%Y-%m-%d %H:%M") if t.last_used_at else "never") for t in tokens]))


def token_revoke(token_id: Annotated[int, typer.Argument(help="The token's number (see 'officehub user token list').")],
                 project: ProjectOption = None) -> None:
    """Revoke an API token: requests with it are refused from now on."""
    from officehub.services import api_tokens

    with hub_session(project) as (_, store):
        found = api_tokens.revoke(store, actor(), token_id)
    console.print(f"Token {found.id} of {found.client} is revoked.", highlight=False)


def register(app: typer.Typer) -> None:
    """Add ``serve`` and the ``user`` commands to the CLI."""
    app.command("serve")(serve)
    for name, command in (("add", add), ("list", listing), ("disable", disable), ("enable", enable),
                          ("roles", roles), ("password", password)):
        user_app.command(name)(command)
    for name, command in (("issue", token_issue), ("list", token_list), ("revoke", token_revoke)):
        token_app.command(name)(command)
    user_app.add_typer(token_app, name="token")
    app.add_typer(user_app, name="user")
