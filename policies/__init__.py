"""Data-sharing policies: who may receive which field, compiled to per-destination plans."""

from policies.operators import Operator, operators
from policies.plan import FieldDecision, PolicedBatch, PolicyPlan, compile_plan

__all__ = ["FieldDecision", "Operator", "PolicedBatch", "PolicyPlan", "compile_plan", "operators"]
