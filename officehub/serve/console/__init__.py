"""The console's pages, one module per area, rendered on the server (Jinja2) and usable without JavaScript."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse

from officehub.serve.deps import Visitor
from officehub.serve.state import Hub


def render(request: Request, hub: Hub, visitor: Visitor, template: str, status: int = 200,
           **context: Any) -> HTMLResponse:
    """``template`` with the visitor, the hub's name and ``context``."""
    return hub.templates.TemplateResponse(
        request, template, {"visitor": visitor, "hub_name": hub.project.config.hub.name, **context},
        status_code=status)


def back_to(path: str, notice: str | None = None) -> RedirectResponse:
    """After a form post: go to ``path`` (303, so a reload does not post again), with a one-line notice."""
    from urllib.parse import quote

    return RedirectResponse(f"{path}{'&' if '?' in path else '?'}notice={quote(notice)}" if notice else path,
                            status_code=303)
