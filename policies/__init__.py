"""Data-sharing policies: who may receive which field, compiled to per-destination plans.

Imports ``canonical_model`` only; the hub (``officehub``) resolves keys and files.
"""

from policies.changes import PlanChange, compare, decisions_in_force
from policies.compiler import CompileContext, Destination, compile_plan, entity_fields
from policies.document import Agreement, Conditions, PolicyDocument, Rule, Selector
from policies.keys import KeyRing
from policies.operators import Operator, OperatorContext, detokenize, operators
from policies.plan import FieldDecision, PolicedBatch, PolicyPlan
from policies.policy_set import PolicySet, template

__all__ = ["Agreement", "CompileContext", "Conditions", "Destination", "FieldDecision", "KeyRing", "Operator",
           "OperatorContext", "PlanChange", "PolicedBatch", "PolicyDocument", "PolicyPlan", "PolicySet", "Rule",
           "Selector", "compare", "compile_plan", "decisions_in_force", "detokenize", "entity_fields", "operators",
           "template"]
