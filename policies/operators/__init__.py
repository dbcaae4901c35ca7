"""Policy operators by name; third-party ones register in the ``officehub.operators`` entry-point group."""

from __future__ import annotations

from functools import cache
from importlib.metadata import entry_points

from policies.operators.allow import Allow
from policies.operators.base import Operator
from policies.operators.drop import Drop

GROUP = "officehub.operators"


@cache
def operators() -> dict[str, type[Operator]]:
    """Every operator class by name, built-in and from entry points."""
    found: dict[str, type[Operator]] = {cls.name: cls for cls in (Allow, Drop)}
    for ep in entry_points(group=GROUP):
        found[ep.name] = ep.load()
    return found


__all__ = ["Allow", "Drop", "Operator", "operators"]
