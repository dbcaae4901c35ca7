"""Data-sharing policies: who may receive which field, compiled to per-destination plans.

Imports ``canonical_model`` only; the hub (``officehub``) resolves keys and files.
The names below are imported from their submodules on first use (PEP 562).
"""

from __future__ import annotations

import sys
import types
from typing import TYPE_CHECKING, Any

from officehub.lazy import lazy_exports

if TYPE_CHECKING:
    from officehub.policies.changes import PlanChange, compare, decisions_in_force
    from officehub.policies.compiler import CompileContext, Destination, compile_plan, entity_fields
    from officehub.policies.document import Agreement, Conditions, PolicyDocument, Rule, Selector
    from officehub.policies.keys import KeyRing
    from officehub.policies.operators import Operator, OperatorContext, detokenize, operators
    from officehub.policies.plan import FieldDecision, PolicedBatch, PolicyPlan
    from officehub.policies.policy_set import PolicySet, template

__all__ = ["Agreement", "CompileContext", "Conditions", "Destination", "FieldDecision", "KeyRing", "Operator",
           "OperatorContext", "PlanChange", "PolicedBatch", "PolicyDocument", "PolicyPlan", "PolicySet", "Rule",
           "Selector", "compare", "compile_plan", "decisions_in_force", "detokenize", "entity_fields", "operators",
           "template"]

#: The submodule defining each public name.
_EXPORTS: dict[str, str] = {
    **dict.fromkeys(("PlanChange", "compare", "decisions_in_force"), "officehub.policies.changes"),
    **dict.fromkeys(("CompileContext", "Destination", "compile_plan", "entity_fields"), "officehub.policies.compiler"),
    **dict.fromkeys(("Agreement", "Conditions", "PolicyDocument", "Rule", "Selector"), "officehub.policies.document"),
    "KeyRing": "officehub.policies.keys",
    **dict.fromkeys(("Operator", "OperatorContext", "detokenize", "operators"), "officehub.policies.operators"),
    **dict.fromkeys(("FieldDecision", "PolicedBatch", "PolicyPlan"), "officehub.policies.plan"),
    **dict.fromkeys(("PolicySet", "template"), "officehub.policies.policy_set"),
}


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)


class _Package(types.ModuleType):
    """This package's module type: ``operators`` stays the function when the subpackage ``operators`` is imported."""

    def __setattr__(self, name: str, value: Any) -> None:
        # Importing a submodule sets it as an attribute of its package. The function `operators` shares its
        # subpackage's name, and `from officehub.policies import operators` must keep giving the function.
        if name == "operators" and isinstance(value, types.ModuleType):
            value = value.operators
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
