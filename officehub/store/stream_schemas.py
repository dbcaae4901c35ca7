"""Each source stream's schema as last read, and the changes seen in it (``stream_schema``, ``schema_change``).

Column names, types and value profiles only: no value is ever written here.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from officehub.store.schema import TABLES


@dataclass(frozen=True)
class ChangeRow:
    """One change to record: what a run met in a stream, and how the pipeline handled it."""

    kind: str
    column: str
    detail: dict[str, Any]
    special_category: str | None = None


def fingerprint(text: str) -> str:
    """The SHA-256 of a schema's names and types, to tell a changed schema at a glance."""
    return hashlib.sha256(text.encode()).hexdigest()


def load(conn: sa.Connection, system: str, stream: str) -> list[dict[str, Any]] | None:
    """The stream's columns as last recorded, or None before its first run."""
    table = TABLES["stream_schema"]
    found = conn.execute(sa.select(table.c.columns).where(table.c.system == system,
                                                          table.c.stream == stream)).scalar_one_or_none()
    return None if found is None else list(found)


def save(conn: sa.Connection, system: str, stream: str, columns: Sequence[dict[str, Any]], digest: str,
         run_id: int | None) -> None:
    """Record ``columns`` as what the stream offers now."""
    table = TABLES["stream_schema"]
    values = {"columns": list(columns), "fingerprint": digest, "run_id": run_id, "changed_at": sa.func.current_timestamp()}
    done = conn.execute(sa.update(table).where(table.c.system == system, table.c.stream == stream).values(**values))
    if done.rowcount == 0:
        conn.execute(sa.insert(table).values(system=system, stream=stream, **values))


def record_changes(conn: sa.Connection, *, system: str, stream: str, pipeline: str, run_id: int | None,
                   handling: str, changes: Sequence[ChangeRow]) -> None:
    """Add one ``schema_change`` row per change."""
    if changes:
        conn.execute(sa.insert(TABLES["schema_change"]), [
            {"system": system, "stream": stream, "pipeline": pipeline, "run_id": run_id, "kind": c.kind,
             "column_name": c.column, "detail": c.detail, "handling": handling, "special_category": c.special_category}
            for c in changes])


def changes(conn: sa.Connection, *, system: str | None = None, stream: str | None = None,
            since_run: int | None = None, limit: int = 200) -> list[dict[str, Any]]:
    """Recorded changes, newest first, narrowed to a system, a stream, and runs from ``since_run`` on."""
    table = TABLES["schema_change"]
    query = sa.select(table).order_by(table.c.id.desc()).limit(limit)
    if system is not None:
        query = query.where(table.c.system == system)
    if stream is not None:
        query = query.where(table.c.stream == stream)
    if since_run is not None:
        query = query.where(table.c.run_id >= since_run)
    return [dict(row._mapping) for row in conn.execute(query)]
