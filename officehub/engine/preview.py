"""Policy preview: real golden records before and after a destination's plan, originals abbreviated."""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from canonical_model import layout
from canonical_model.errors import FatalError
from officehub.config import Project
from officehub.engine.publish import Publish
from officehub.store import golden
from officehub.store.hub import HubStore


def abbreviate(value: Any) -> str | None:
    """Enough of an original to recognise the field, never the whole value."""
    if value is None:
        return None
    text = str(value)
    return f"{text[:2]}… ({len(text)} chars)" if len(text) > 2 else f"… ({len(text)} chars)"


def _publishers(project: Project, destination: str) -> list[str]:
    config = project.config
    return [name for name, p in config.pipelines.items()
            if p.kind == "publish" and config.mappings[p.mapping].system == destination]


def preview_records(project: Project, store: HubStore, destination: str, sample: int) -> list[dict[str, Any]]:
    """For each publish pipeline to ``destination``: ``sample`` recent records, field by field."""
    pipelines = _publishers(project, destination)
    if not pipelines:
        raise FatalError(f"no publish pipeline sends to '{destination}'")
    previews = []
    for name in pipelines:
        step = Publish(project, store, name, project.config.pipelines[name])
        with store.begin() as conn:
            recent = golden.recent(conn, step.spec.entity, sample)
        policed = step.plan.apply(recent.select(step.columns))
        previews += [_record(step.spec.entity, recent, policed.columns, step.plan, row, step.columns)
                     for row in range(recent.num_rows)]
    return previews


def _record(entity: str, original: pa.Table, after: dict[str, pa.Array], plan, row: int,  # type: ignore[no-untyped-def]
            columns: list[str]) -> dict[str, Any]:
    path_of = {leaf.column: leaf.path for leaf in layout(entity).fields}
    fields = []
    for column in columns:
        if column not in path_of:
            continue
        decision = plan.decision(path_of[column])
        received = after[column][row].as_py() if column in after else "(withheld)"
        fields.append({"field": path_of[column], "before": abbreviate(original.column(column)[row].as_py()),
                       "action": decision.action, "after": None if received is None else str(received)})
    return {"entity": entity, "canonical_id": original.column("canonical_id")[row].as_py(), "fields": fields}
