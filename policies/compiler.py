"""Compiling policies into a plan for one (entity, destination): the decision for every field.

Precedence: the most specific matching rule decides (field path > entity > class);
where rules of equal rank disagree, the stricter operator wins. Underneath every
policy: a field without a sensitivity class is dropped, and a medical, criminal or
legal field is dropped unless the deciding rule names a legal basis.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from canonical_model import LeafField, Sensitivity, layout
from canonical_model.sensitivity import stricter
from policies.document import Rule
from policies.keys import KeyRing
from policies.operators import Allow, Drop, OperatorContext
from policies.plan import FieldDecision, PolicyPlan
from policies.policy_set import PolicySet


@dataclass(frozen=True)
class Destination:
    """Where records go: a system or a site, its country (jurisdiction) and the purpose of sharing."""

    name: str
    country: str | None = None
    purpose: str | None = None


@dataclass(frozen=True)
class CompileContext:
    """Everything a compilation depends on besides the entity and the destination."""

    policies: PolicySet = field(default_factory=PolicySet)
    keys: KeyRing = field(default_factory=KeyRing)
    today: date = field(default_factory=date.today)
    #: Classes a project's mappings declare for derived fields ("entity.path" → class): a field
    #: fed from a medical column is treated as medical, however the model classifies it.
    derived: Mapping[str, Sensitivity] = field(default_factory=dict)

    def sensitivity(self, entity: str, path: str, leaf: LeafField) -> Sensitivity | None:
        """The class a field is decided under: the model's, or a stricter one a mapping declares."""
        declared = self.derived.get(f"{entity}.{path}")
        return stricter(leaf.sensitivity, declared) if leaf.sensitivity is not None else leaf.sensitivity


def entity_fields(entity: str) -> list[tuple[str, LeafField]]:
    """(path, leaf) of every field of an entity, repeating groups as ``group.field``."""
    lay = layout(entity)
    fields = [(leaf.path, leaf) for leaf in lay.fields]
    for coll in lay.collections:
        fields += [(f"{coll.name}.{leaf.path}", leaf) for leaf in coll.fields]
    return fields


def _consent_column(entity: str, rule: Rule) -> str | None:
    if rule.consent is None:
        return None
    path = rule.consent.removeprefix(f"{entity}.")
    return layout(entity).field(path).column


def _default(path: str, column: str, sensitivity: Sensitivity | None) -> FieldDecision:
    if sensitivity is None:
        return FieldDecision(path, column, None, Drop(), "unclassified field: withheld until classified")
    if sensitivity.is_special_category:
        return FieldDecision(path, column, sensitivity, Drop(),
                             f"{sensitivity.value} data: denied unless a rule allows it with a legal basis")
    return FieldDecision(path, column, sensitivity, Allow(), f"{sensitivity.value} data: allowed by default")


def _unfounded(rule: Rule, sensitivity: Sensitivity) -> bool:
    """A rule that would let anything of a special category out (even its presence) without a legal basis."""
    return sensitivity.is_special_category and not rule.legal_basis and rule.action != Drop.name


def _winner(candidates: list[Rule], sensitivity: Sensitivity) -> Rule:
    """The most specific rule; among equals the strictest in effect, then by id (never by file order)."""
    top = max(r.select.rank for r in candidates)
    ranked = [r for r in candidates if r.select.rank == top]

    def strictness(rule: Rule) -> tuple[int, bool, str]:
        # An unfounded rule counts as the drop it turns into, but a real rule of that strictness decides.
        unfounded = _unfounded(rule, sensitivity)
        return (Drop.strictness if unfounded else rule.operator_class.strictness), not unfounded, rule.id
    return max(ranked, key=strictness)


def decide(entity: str, path: str, leaf: LeafField, rules: list[Rule], ctx: CompileContext) -> FieldDecision:
    """The decision for one field from the rules that apply to this destination."""
    column, sensitivity = leaf.column, ctx.sensitivity(entity, path, leaf)
    if sensitivity is None:
        return _default(path, column, None)
    # A rule conditioned on a consent flag applies only to the entity that carries the flag.
    candidates = [r for r in rules if r.select.matches(entity, path, sensitivity)
                  and (r.consent is None or r.consent.startswith(f"{entity}."))]
    if not candidates:
        return _default(path, column, sensitivity)
    rule = _winner(candidates, sensitivity)
    operator = rule.operator_class(rule.operator_class.Params.model_validate(rule.params),
                                   OperatorContext(f"{entity}.{path}", ctx.keys, ctx.today))
    if _unfounded(rule, sensitivity):
        return FieldDecision(path, column, sensitivity, Drop(),
                             f"rule {rule.id} would release {sensitivity.value} data but names no legal basis", rule.id)
    reason = rule.description or f"rule {rule.id}"
    if rule.legal_basis:
        reason += f" (legal basis: {rule.legal_basis})"
    return FieldDecision(path, column, sensitivity, operator, reason, rule.id, _consent_column(entity, rule))


def compile_plan(entity: str, destination: Destination | str, ctx: CompileContext | None = None) -> PolicyPlan:
    """The plan for sending ``entity`` records to ``destination``.

    With policies configured, the destination needs an agreement in force (FatalError
    otherwise: nothing is sent). Without any, the built-in defaults apply.
    """
    ctx = ctx or CompileContext()
    dest = destination if isinstance(destination, Destination) else Destination(destination)
    agreement = None
    rules: list[Rule] = []
    if ctx.policies.configured:
        agreement = ctx.policies.agreement_for(dest.name, dest.purpose, ctx.today)
        rules = [r for r in ctx.policies.rules if r.when.hold(dest.name, agreement.purpose, dest.country)]
    decisions = tuple(decide(entity, path, leaf, rules, ctx) for path, leaf in entity_fields(entity))
    version = ctx.policies.version if ctx.policies.configured else "defaults"
    return PolicyPlan(entity, dest.name, decisions, agreement, version, ctx.keys.active)
