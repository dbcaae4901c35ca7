"""The links with peer sites, as ``officehub site status`` shows them, with a chart of each link's lag."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from officehub.serve.console import render
from officehub.serve.deps import HubDep, Visitor, allowed
from officehub.serve.rights import Right
from officehub.services import site_status

router = APIRouter(include_in_schema=False)
Viewer = Annotated[Visitor, Depends(allowed(Right.VIEW))]


@router.get("/sites", response_class=HTMLResponse)
def sites(request: Request, hub: HubDep, visitor: Viewer) -> Response:
    """Each peer link: last sent and acknowledged bundle, what waits and for how long, gaps, errors."""
    found = site_status.overview(hub.project)
    top = max((link.lag_s for link in found.links), default=0.0)
    return render(request, hub, visitor, "sites.html", sites=found, top_lag=max(top, 1.0))
