"""Every refusal and failure as the right status code and one line: JSON for the API, a page for the console.

No traceback reaches a client, and no exception text that is not ours: a database or
library error may quote the values it choked on, so it becomes "internal error" with a
reference the server's log repeats (with the traceback only under ``--debug``).
"""

from __future__ import annotations

import html
import logging
import secrets
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException

from officehub.canonical_model.errors import FatalError, NotFound, OfficehubError, RetriableError
from officehub.serve.deps import ApiRefused, FormExpired, NotAllowed, PasswordChangeNeeded, SignInNeeded, Visitor
from officehub.serve.state import Hub
from officehub.services.accounts import LoginRefused
from officehub.services.hub_api import ClientRefused

log = logging.getLogger("officehub.serve")


def is_api(request: Request) -> bool:
    """Whether the request is for the hub API (answered in JSON) rather than a console page."""
    return request.url.path.startswith("/api/")


def refusal(request: Request, status: int, message: str) -> Response:
    """``message`` with ``status``: JSON for the API and htmx, a page for the console."""
    if is_api(request):
        return JSONResponse({"error": message}, status_code=status)
    if request.headers.get("hx-request"):  # htmx swaps it where the action was
        return HTMLResponse(f'<p class="problem" role="alert">{html.escape(message)}</p>', status_code=status)
    hub: Hub = request.app.state.hub
    visitor = Visitor(getattr(request.state, "session", None) or hub.sessions.new(), None)
    page: Response = hub.templates.TemplateResponse(
        request, "error.html", {"status": status, "message": message, "visitor": visitor,
                                "hub_name": hub.project.config.hub.name}, status_code=status)
    return page


def _status_of(exc: OfficehubError) -> int:
    if isinstance(exc, NotFound):
        return 404
    if isinstance(exc, LoginRefused):
        return 401
    if isinstance(exc, ClientRefused):
        return 403
    if isinstance(exc, RetriableError):
        return 503
    if isinstance(exc, FatalError):
        return 400
    return 500


def install(app: FastAPI) -> None:
    """Register the handlers on ``app``."""

    @app.exception_handler(SignInNeeded)
    async def _sign_in(request: Request, exc: SignInNeeded) -> Response:
        if is_api(request) or request.method != "GET" or request.headers.get("hx-request"):
            return refusal(request, 401, "sign in first (the session may have ended)")
        return RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)

    @app.exception_handler(PasswordChangeNeeded)
    async def _password(request: Request, exc: PasswordChangeNeeded) -> Response:
        if request.method != "GET":
            return refusal(request, 403, "choose your own password first")
        return RedirectResponse("/account/password", status_code=303)

    @app.exception_handler(NotAllowed)
    async def _not_allowed(request: Request, exc: NotAllowed) -> Response:
        return refusal(request, 403, str(exc))

    @app.exception_handler(FormExpired)
    async def _expired(request: Request, exc: FormExpired) -> Response:
        return refusal(request, 403, "the form has expired or did not come from this console; reload the page "
                                     "and try again")

    @app.exception_handler(ApiRefused)
    async def _api(request: Request, exc: ApiRefused) -> Response:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return JSONResponse({"error": str(exc)}, status_code=exc.status, headers=headers)

    @app.exception_handler(OfficehubError)
    async def _ours(request: Request, exc: OfficehubError) -> Response:
        return refusal(request, _status_of(exc), exc.describe())

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        return refusal(request, 422, _one_line(exc))

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> Response:
        message = exc.detail if isinstance(exc.detail, str) else "the request was refused"
        response = refusal(request, exc.status_code, message)
        for name, value in (exc.headers or {}).items():
            response.headers[name] = value
        return response

    @app.exception_handler(Exception)
    async def _internal(request: Request, exc: Exception) -> Response:
        ref = secrets.token_hex(4)
        # The type only: the message of a database or library error may quote values.
        log.error("internal error %s on %s %s: %s", ref, request.method, request.url.path, type(exc).__name__,
                  exc_info=exc if request.app.state.hub.debug else None)
        return refusal(request, 500, f"internal error (reference {ref}); the server's log has the details")


def _one_line(exc: RequestValidationError) -> str:
    """The first problem of a request that did not validate: where, and what (never the value sent)."""
    problems = exc.errors()
    if not problems:
        return "the request is not valid"
    first = problems[0]
    where = ".".join(str(part) for part in first.get("loc", ()) if part != "body") or "body"
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return f"{where}: {first.get('msg', 'not valid')}{more}"
