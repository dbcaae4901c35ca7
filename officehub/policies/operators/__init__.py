"""Policy operators by name; third-party ones register in the ``officehub.operators`` entry-point group."""

from __future__ import annotations

from functools import cache
from importlib.metadata import entry_points

from officehub.policies.operators.base import Operator, OperatorContext
from officehub.policies.operators.generalize import Generalize
from officehub.policies.operators.mask import Mask
from officehub.policies.operators.pseudonyms import Hash, Tokenize, detokenize
from officehub.policies.operators.simple import Allow, Drop, Nullify, Redact

GROUP = "officehub.operators"
BUILT_IN: tuple[type[Operator], ...] = (Allow, Drop, Nullify, Redact, Mask, Hash, Tokenize, Generalize)


@cache
def operators() -> dict[str, type[Operator]]:
    """Every operator class by name, built-in and from entry points."""
    found: dict[str, type[Operator]] = {cls.name: cls for cls in BUILT_IN}
    for ep in entry_points(group=GROUP):
        found.setdefault(ep.name, ep.load())
    return found


__all__ = [
    "BUILT_IN",
    "Allow",
    "Drop",
    "Generalize",
    "Hash",
    "Mask",
    "Nullify",
    "Operator",
    "OperatorContext",
    "Redact",
    "Tokenize",
    "detokenize",
    "operators",
]
