"""The history of pipeline runs with their figures."""

from __future__ import annotations

from typing import Any

from officehub.engine.context import RunContext
from officehub.store import bookkeeping as bk


def history(ctx: RunContext, *, pipeline: str | None = None, limit: int = 20) -> list[dict[str, Any]]:
    """The newest runs (of ``pipeline`` only, when given), newest first."""
    return bk.list_runs(ctx.conn, pipeline, limit)
