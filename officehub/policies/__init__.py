"""Data-sharing policies: who may receive which field, compiled to per-destination plans.

Imports ``canonical_model`` only; the hub (``officehub``) resolves keys and files.
"""

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
