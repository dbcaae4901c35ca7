"""The ASGI application: the console and the hub API of one project, on its hub store."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
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
from officehub.serve.metrics import router as metrics_router
from officehub.serve.page_headers import PageHeaders
from officehub.serve.state import STATIC, Hub
from officehub.store.hub import HubStore

#: The cycle collector's thresholds while serving. Python's defaults (700, 10, 10) collect the youngest objects
#: every 700 allocations and walk the whole heap whenever a quarter of it is new: a fuzzy search allocates
#: ~1,100 objects and the matcher's cache of prepared candidates keeps adding long-lived ones, so 1,500
#: searches spent 1.3 s collecting (22 full walks, the longest 87 ms). With these: 0.75 s, no full walk,
#: the longest 31 ms; cyclic garbage is still collected, young, and the whole heap every few minutes under load.
GC_THRESHOLDS = (50_000, 50, 20)


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
        # What the process holds once started (libraries, the project, compiled plans) lives as long as the
        # process: frozen out of the cycle collector's passes, whose oldest-generation walks over it were the
        # slowest answers of a busy server (as for a sync: officehub.engine.memory.settled_heap).
        before = gc.get_threshold()
        gc.collect()
        gc.freeze()
        gc.set_threshold(*GC_THRESHOLDS)
        try:
            yield
        finally:
            hub.store.close()
            gc.set_threshold(*before)  # a process that goes on after serving (tests) collects as before
            gc.unfreeze()

    app = FastAPI(title="officehub hub API", version="1", lifespan=lifespan, docs_url=None, redoc_url=None,
                  openapi_url="/openapi.json",
                  description="Golden records of customers, employees and products, as each application's "
                              "data-sharing agreement and policy allow. Authenticate with "
                              "'Authorization: Bearer <token>' (tokens: 'officehub user token').")
    app.state.hub = hub
    hide_queries()
    errors.install(app)
    app.add_middleware(PageHeaders, sessions=hub.sessions)
    app.add_middleware(BodyLimit, max_bytes=hub.project.config.serve.max_body_bytes)

    @app.get("/api/v1/health", response_model=Health, tags=["health"])
    def health() -> Health:
        """Whether the server is up and its hub store answers (no token needed)."""
        hub.store.ping()
        return Health(status="ok")

    app.include_router(api_records.router)
    app.include_router(api_matching.router)
    app.include_router(api_submit.router)
    app.include_router(metrics_router)
    for module in (auth, sso, operations, quarantine, reviews, records, policies, subjects, audit, sites, users):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app
