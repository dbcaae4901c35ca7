"""Data-sharing policies: who may receive which field, compiled to per-destination plans.

Imports ``canonical_model`` only; the hub (``officehub``) resolves keys and files.
"""

from policies.compiler import CompileContext, Destination, compile_plan, entity_fields
from policies.document import Agreement, Conditions, PolicyDocument, Rule, Selector
from policies.keys import KeyRing
from policies.operators import Operator, OperatorContext, detokenize, operators
from policies.plan import FieldDecision, PolicedBatch, PolicyPlan
from policies.policy_set import PolicySet, template

__all__ = ["Agreement", "CompileContext", "Conditions", "Destination", "FieldDecision", "KeyRing", "Operator",
           "OperatorContext", "PolicedBatch", "PolicyDocument", "PolicyPlan", "PolicySet", "Rule", "Selector",
           "compile_plan", "detokenize", "entity_fields", "operators", "template"]
