"""The ASGI application: the console and the hub API of one project, on its hub store."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request, Response
from fastapi.staticfiles import StaticFiles

from officehub.config import Project, load_project
from officehub.serve import errors
from officehub.serve.access_log import hide_queries
from officehub.serve.api import matching as api_matching
from officehub.serve.api import records as api_records
from officehub.serve.api import submit as api_submit
from officehub.serve.api.models import Health
from officehub.serve.console import (
    audit,
    auth,
    operations,
    policies,
    quarantine,
    records,
    reviews,
    sites,
    sso,
    subjects,
    users,
)
from officehub.serve.limits import BodyLimit
from officehub.serve.sessions import COOKIE
from officehub.serve.state import STATIC, Hub
from officehub.store.hub import HubStore

#: Sent with every console page: scripts, styles and forms of this server only, never inside a frame.
_PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                               "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def open_project(project_dir: Path, *, debug: bool = False) -> Hub:
    """The project in ``project_dir`` and its (migrated) hub store, ready to serve."""
    project = load_project(project_dir)
    hub = project.config.hub
    return Hub.open(project, HubStore.open(hub.store, project.base_dir, password=hub.store_password), debug=debug)


def create_app(project: Path | Project | Hub, *, debug: bool = False) -> FastAPI:
    """The console and the hub API for ``project`` (a folder, a loaded project, or one opened to serve)."""
    if isinstance(project, Hub):
        hub = project
    elif isinstance(project, Project):
        config = project.config.hub
        hub = Hub.open(project, HubStore.open(config.store, project.base_dir, password=config.store_password),
                       debug=debug)
    else:
        hub = open_project(project, debug=debug)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        hub.store.close()

    app = FastAPI(title="officehub hub API", version="1", lifespan=lifespan, docs_url=None, redoc_url=None,
                  openapi_url="/openapi.json",
                  description="Golden records of customers, employees and products, as each application's "
                              "data-sharing agreement and policy allow. Authenticate with "
                              "'Authorization: Bearer <token>' (tokens: 'officehub user token').")
    app.state.hub = hub
    hide_queries()
    errors.install(app)
    app.add_middleware(BodyLimit, max_bytes=hub.project.config.serve.max_body_bytes)

    @app.middleware("http")
    async def session_cookie(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        response = await call_next(request)
        session = getattr(request.state, "send_session", None)
        if session is not None:
            response.set_cookie(COOKIE, hub.sessions.sign(session), max_age=hub.sessions.max_age, httponly=True,
                                samesite="lax", secure=request.url.scheme == "https", path="/")
        if not errors.is_api(request):
            for name, value in _PAGE_HEADERS.items():
                response.headers.setdefault(name, value)
        return response

    @app.get("/api/v1/health", response_model=Health, tags=["health"])
    def health() -> Health:
        """Whether the server is up and its hub store answers (no token needed)."""
        hub.store.ping()
        return Health(status="ok")

    app.include_router(api_records.router)
    app.include_router(api_matching.router)
    app.include_router(api_submit.router)
    for module in (auth, sso, operations, quarantine, reviews, records, policies, subjects, audit, sites, users):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app
