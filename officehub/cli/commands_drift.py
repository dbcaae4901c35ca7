"""``officehub drift``: what changed in the columns the sources offer, run by run.

The reading is :mod:`officehub.services.drift`, imported inside the command.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from officehub.cli.commands_identity import actor
from officehub.cli.options import JsonOption, ProjectOption
from officehub.cli.output import console, emit_json, table
from officehub.cli.session import hub_session


def _change(item: dict[str, Any]) -> str:
    detail = item["detail"] or {}
    if item["kind"] == "renamed":
        return f"from {detail.get('old_name')} ({detail.get('type')}; alike by {detail.get('evidence')})"
    if item["kind"] == "retyped":
        return f"{detail.get('old_type')} → {detail.get('type')}"
    return str(detail.get("type") or detail.get("old_type") or "")


def drift(system: Annotated[str | None, typer.Option(help="Only this system.")] = None,
          stream: Annotated[str | None, typer.Option(help="Only this stream.")] = None,
          since: Annotated[int | None, typer.Option(min=1, help="Only changes met by this run or later ones.")] = None,
          limit: Annotated[int, typer.Option(min=1, help="At most this many changes.")] = 200,
          project: ProjectOption = None, as_json: JsonOption = False) -> None:
    """Changes in the sources' columns (added, removed, renamed, retyped), newest first; names and types only."""
    from officehub.services import drift as schema_drift
    from officehub.services.session import acting

    with hub_session(project) as (_, store), acting(store, actor()) as ctx:
        found = schema_drift.changes(ctx, system=system, stream=stream, since_run=since, limit=limit)
    if as_json:
        emit_json(found)
        return
    columns = ["run", "at", "pipeline", "source", "kind", "column", "change", "handling", "special category"]
    rows = [(c["run_id"], f"{c['at']:%Y-%m-%d %H:%M:%S}", c["pipeline"], f"{c['system']}/{c['stream']}", c["kind"],
             c["column_name"], _change(c), c["handling"], c["special_category"]) for c in found]
    console.print(table("schema drift", columns, rows))


def register(app: typer.Typer) -> None:
    """Attach the command to the main app."""
    app.command()(drift)
