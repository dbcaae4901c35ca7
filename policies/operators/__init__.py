"""Policy operators by name; third-party ones register in the ``officehub.operators`` entry-point group."""

from __future__ import annotations

from functools import cache
from importlib.metadata import entry_points

from policies.operators.base import Operator, OperatorContext
from policies.operators.generalize import Generalize
from policies.operators.mask import Mask
from policies.operators.pseudonyms import Hash, Tokenize, detokenize
from policies.operators.simple import Allow, Drop, Nullify, Redact

GROUP = "officehub.operators"
BUILT_IN: tuple[type[Operator], ...] = (Allow, Drop, Nullify, Redact, Mask, Hash, Tokenize, Generalize)


@cache
def operators() -> dict[str, type[Operator]]:
    """Every operator class by name, built-in and from entry points."""
    found: dict[str, type[Operator]] = {cls.name: cls for cls in BUILT_IN}
    for ep in entry_points(group=GROUP):
        found.setdefault(ep.name, ep.load())
    return found


__all__ = ["Allow", "BUILT_IN", "Drop", "Generalize", "Hash", "Mask", "Nullify", "Operator", "OperatorContext",
           "Redact", "Tokenize", "detokenize", "operators"]
