"""Schema drift as an operator reads it: the changes recorded in source streams' columns (names and types only)."""

from __future__ import annotations

from typing import Any

from officehub.engine.context import RunContext
from officehub.store import stream_schemas


def changes(ctx: RunContext, *, system: str | None = None, stream: str | None = None, since_run: int | None = None,
            limit: int = 200) -> list[dict[str, Any]]:
    """Changes met by ingest runs, newest first: run, pipeline, kind, column, types, handling, special category."""
    return stream_schemas.changes(ctx.conn, system=system, stream=stream, since_run=since_run, limit=limit)
