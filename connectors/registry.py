"""Finding connectors: every one, built-in or third-party, comes from an entry point."""

from __future__ import annotations

from functools import cache
from importlib.metadata import entry_points

from canonical_model.errors import FatalError
from connectors.base import Connector

GROUP = "officehub.connectors"


@cache
def available() -> dict[str, type[Connector]]:
    """Connector classes by type name, from the ``officehub.connectors`` entry-point group."""
    found: dict[str, type[Connector]] = {}
    for ep in entry_points(group=GROUP):
        found[ep.name] = ep.load()
    return found


def connector_class(type_name: str) -> type[Connector]:
    """The connector class registered as ``type_name``; FatalError listing the known ones."""
    classes = available()
    if type_name not in classes:
        known = ", ".join(sorted(classes)) or "none"
        raise FatalError(f"no connector of type '{type_name}' is installed (installed: {known})")
    return classes[type_name]
