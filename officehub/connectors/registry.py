"""Finding connectors: every one, built-in or third-party, comes from an entry point.

Entry points are loaded only when their type is asked for, so one broken plugin
does not take the others down with it.
"""

from __future__ import annotations

from functools import cache
from importlib.metadata import EntryPoint, entry_points

from officehub.canonical_model.errors import FatalError
from officehub.connectors.base import Connector

GROUP = "officehub.connectors"


@cache
def available() -> dict[str, EntryPoint]:
    """Registered connector entry points by type name (not yet imported)."""
    return {ep.name: ep for ep in entry_points(group=GROUP)}


@cache
def connector_class(type_name: str) -> type[Connector]:
    """The connector class registered as ``type_name``; FatalError if missing or broken."""
    points = available()
    if type_name not in points:
        known = ", ".join(sorted(points)) or "none"
        raise FatalError(f"no connector of type '{type_name}' is installed (installed: {known})")
    try:
        return points[type_name].load()
    except ImportError as exc:
        missing = getattr(exc, "name", None) or "a dependency"
        raise FatalError(f"connector '{type_name}' cannot be loaded: {missing} is not installed "
                         f"(pip install 'officehub[{type_name}]')") from None
