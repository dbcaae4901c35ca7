"""``officehub check --connect``: the configuration against what each source system offers now.

A mapping that reads a column or key its stream does not have would fail every run;
here it is a configuration problem, named with the mapping's file and line, before any
run starts. Only the names of streams and columns are compared: no row is read.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from officehub.canonical_model.errors import OfficehubError
from officehub.config.project import ConfigIssue, Project, ingest_mappings


@dataclass
class LiveCheck:
    """What connecting found: problems, and streams whose columns could not be known yet."""

    problems: list[ConfigIssue] = field(default_factory=list)
    unchecked: list[str] = field(default_factory=list)


def check_sources(project: Project) -> LiveCheck:
    """Connect to every system an ingest mapping reads, and compare each mapping with its stream."""
    result = LiveCheck()
    mappings = ingest_mappings(project.config)
    offered: dict[str, dict[str, set[str]] | None] = {}
    for system in sorted({spec.system for spec in mappings.values()}):
        try:
            with project.connector(system) as connector:
                connector.check()
                offered[system] = {s.name: {f.name for f in s.fields} for s in connector.discover()}
        except OfficehubError as exc:
            offered[system] = None
            result.problems.append(_issue(project, ("systems", system), f"systems.{system}: cannot connect: "
                                                                        f"{exc.describe()}"))
    for name, spec in sorted(mappings.items()):
        streams = offered.get(spec.system)
        if streams is None:
            continue
        if spec.stream not in streams:
            result.problems.append(_issue(project, ("mappings", name, "stream"),
                                          f"mappings.{name}: system '{spec.system}' has no stream '{spec.stream}' "
                                          f"(it offers: {', '.join(sorted(streams)) or 'none'})"))
            continue
        columns = streams[spec.stream]
        if not columns:  # an empty drop folder, an endpoint without a declared schema
            result.unchecked.append(f"{spec.system}/{spec.stream}")
            continue
        read = set(spec.key) | {s for f in spec.fields.values() for s in f.sources}
        read |= {c for c in (spec.parent_key, spec.deleted_when.column if spec.deleted_when else None) if c}
        missing = sorted(read - columns)
        if missing:
            result.problems.append(_issue(project, ("mappings", name),
                                          f"mappings.{name}: stream '{spec.stream}' of system '{spec.system}' "
                                          f"has no column(s) {', '.join(missing)}"))
    return result


def _issue(project: Project, path: tuple, message: str) -> ConfigIssue:
    file, line = project.positions.locate(path) or ("officehub.yaml", 0)
    return ConfigIssue(file, line, message)
