"""Echo suppression: a value the hub wrote into a system, read back, is not a change.

When a system is both a source and a destination of an entity, the hub remembers,
per record, a hash of the canonical values it last wrote there (over the fields
both directions carry). An ingest that reads exactly those values back keeps the
record's earlier change time and supplier, so two systems subscribed both ways
never bounce a change between them.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from officehub.config import Project
from officehub.mapping.spec import HUB_COLUMNS
from officehub.store import golden


def _columns(project: Project, system: str, entity: str, kind: str) -> set[str]:
    found: set[str] = set()
    for pipeline in project.config.pipelines.values():
        spec = project.config.mappings.get(pipeline.mapping)
        if pipeline.kind == kind and spec and spec.system == system and spec.target == entity:
            found |= {path.replace(".", "__") for path in spec.fields if path not in HUB_COLUMNS}
    return found


@cache
def echo_columns(project: Project, system: str, entity: str) -> tuple[str, ...]:
    """The canonical columns the hub both reads from and writes to ``system`` (empty if it does not do both)."""
    return tuple(sorted(_columns(project, system, entity, "ingest") & _columns(project, system, entity, "publish")))


def echo_hash(values: dict[str, Any], columns: tuple[str, ...]) -> str:
    """The hash of a record's values over the echo columns."""
    return golden.content_hash(values, columns)
