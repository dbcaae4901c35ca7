"""Where databases differ: upsert statements and connect options. Callers never branch on the dialect."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql, postgresql, sqlite


def upsert_statement(dialect: str, table: sa.Table, key: Sequence[str],
                     update: Sequence[str] | None = None) -> sa.Executable | None:
    """An INSERT that updates the row when ``key`` already exists, or None if the dialect has none.

    ``update`` names the columns to overwrite on conflict (default: every non-key column).
    """
    value_cols = [c for c in (update if update is not None else table.columns.keys()) if c not in key]
    if dialect in ("postgresql", "sqlite"):
        module = postgresql if dialect == "postgresql" else sqlite
        stmt = module.insert(table)
        if not value_cols:
            return stmt.on_conflict_do_nothing(index_elements=list(key))
        return stmt.on_conflict_do_update(
            index_elements=list(key), set_={c: stmt.excluded[c] for c in value_cols},
        )
    if dialect in ("mysql", "mariadb"):
        stmt = mysql.insert(table)
        update = {c: stmt.inserted[c] for c in value_cols} or {key[0]: stmt.inserted[key[0]]}
        return stmt.on_duplicate_key_update(**update)
    return None


def connect_args(dialect: str, timeout_s: int) -> dict[str, Any]:
    """Driver arguments that bound how long a connection attempt may hang."""
    if dialect == "sqlite":
        return {"timeout": timeout_s}
    if dialect in ("postgresql", "mysql", "mariadb"):
        return {"connect_timeout": timeout_s}
    return {}
