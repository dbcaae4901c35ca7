"""Compiling policies into a plan for one (entity, destination): the decision for every field.

Precedence: the most specific matching rule decides (field path > entity > class);
where rules of equal rank disagree, the stricter operator wins. Underneath every
policy: a field without a sensitivity class is dropped, a medical, criminal or legal
field is dropped unless the deciding rule may release it (see officehub.policies.release), and
personal or financial data go only where a data-sharing agreement is in force.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date

from officehub.canonical_model import LeafField, Sensitivity, layout
from officehub.canonical_model.sensitivity import stricter
from officehub.policies.document import Agreement, Rule
from officehub.policies.keys import KeyRing
from officehub.policies.operators import Allow, Drop, OperatorContext
from officehub.policies.plan import FieldDecision, PolicyPlan
from officehub.policies.policy_set import PolicySet
from officehub.policies.release import Target

#: Classes a destination receives only under a data-sharing agreement in force.
AGREEMENT_NEEDED = frozenset({Sensitivity.PERSONAL, Sensitivity.FINANCIAL})


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


def _default(path: str, column: str, sensitivity: Sensitivity | None, under_agreement: bool = True) -> FieldDecision:
    """The decision no rule makes. ``under_agreement``: an agreement in force covers the destination,
    as one always does once policies are configured (without one, nothing is compiled at all)."""
    if sensitivity is None:
        return FieldDecision(path, column, None, Drop(), "unclassified field: withheld until classified")
    if sensitivity.is_special_category:
        return FieldDecision(path, column, sensitivity, Drop(),
                             f"{sensitivity.value} data: denied unless a rule allows it with a legal basis")
    if sensitivity in AGREEMENT_NEEDED and not under_agreement:
        return FieldDecision(path, column, sensitivity, Drop(),
                             f"{sensitivity.value} data: withheld, no data-sharing agreement covers this destination")
    return FieldDecision(path, column, sensitivity, Allow(), f"{sensitivity.value} data: allowed by default")


def _winner(candidates: list[Rule], target: Target) -> Rule:
    """The most specific rule; among equals the strictest in effect, then by id (never by file order)."""
    top = max(r.select.rank for r in candidates)
    ranked = [r for r in candidates if r.select.rank == top]

    def strictness(rule: Rule) -> tuple[int, bool, str]:
        # A refused rule counts as the drop it turns into, but a real rule of that strictness decides.
        refused = target.sensitivity.is_special_category and target.refusal(rule) is not None
        return (Drop.strictness if refused else rule.operator_class.strictness), not refused, rule.id
    return max(ranked, key=strictness)


def _contest(entity: str, path: str, leaf: LeafField, rules: list[Rule], ctx: CompileContext,
             agreement: Agreement | None) -> tuple[Target, list[Rule]] | None:
    """The field as judged for the agreement's destination, and the rules that select it (None: unclassified)."""
    sensitivity = ctx.sensitivity(entity, path, leaf)
    if sensitivity is None:
        return None
    target = Target(entity, path, sensitivity, agreement, ctx.policies.register)
    matching = target.matching(rules)
    if not sensitivity.is_special_category:
        own = [r for r in matching if r.may_release_to(target.destination)]
        operator = _winner(own, target).operator_class if own else _default(path, leaf.column, sensitivity).operator
        target = replace(target, baseline=operator.strictness)
    return target, matching


def refused(entity: str, path: str, leaf: LeafField, rules: list[Rule], ctx: CompileContext,
            agreement: Agreement | None = None) -> tuple[Rule, str] | None:
    """The rule that would decide this field but may not release it to the agreement's destination, and why."""
    contest = _contest(entity, path, leaf, rules, ctx, agreement)
    if contest is None or not contest[1]:
        return None
    target, matching = contest
    rule = _winner(matching, target)
    why = target.refusal(rule)
    return (rule, why) if why else None


def decide(entity: str, path: str, leaf: LeafField, rules: list[Rule], ctx: CompileContext,
           agreement: Agreement | None = None) -> FieldDecision:
    """The decision for one field from the rules that apply to the destination of ``agreement``.

    A special category goes out only through a rule that names it, cites a register basis
    covering its class, and whose basis the agreement lists; otherwise it is dropped.
    """
    contest = _contest(entity, path, leaf, rules, ctx, agreement)
    if contest is None:
        return _default(path, leaf.column, None)
    target, candidates = contest
    if not target.sensitivity.is_special_category:
        # A release from a file without this destination's agreement does not apply here at all.
        candidates = [r for r in candidates if target.refusal(r) is None]
    if not candidates:
        return _default(path, leaf.column, target.sensitivity)
    rule = _winner(candidates, target)
    why = target.refusal(rule)
    if why:
        return FieldDecision(path, leaf.column, target.sensitivity, Drop(), f"withheld: {why}", rule.id)
    operator = rule.operator_class(rule.operator_class.Params.model_validate(rule.params),
                                   OperatorContext(f"{entity}.{path}", ctx.keys, ctx.today))
    reason = rule.description or f"rule {rule.id}"
    if rule.legal_basis:
        reason += f" (legal basis: {rule.legal_basis})"
    return FieldDecision(path, leaf.column, target.sensitivity, operator, reason, rule.id,
                         _consent_column(entity, rule))


def compile_plan(entity: str, destination: Destination | str, ctx: CompileContext | None = None) -> PolicyPlan:
    """The plan for sending ``entity`` records to ``destination``.

    With policies configured, the destination needs an agreement in force (FatalError
    otherwise: nothing is sent). Without any, the built-in defaults apply, and since no
    agreement covers the destination they send only public and internal data.
    """
    ctx = ctx or CompileContext()
    dest = destination if isinstance(destination, Destination) else Destination(destination)
    if not ctx.policies.configured:
        # No policies means no agreement: only public and internal data go (fail closed).
        defaults = tuple(_default(path, leaf.column, ctx.sensitivity(entity, path, leaf), under_agreement=False)
                         for path, leaf in entity_fields(entity))
        return PolicyPlan(entity, dest.name, defaults, None, "defaults", ctx.keys.active)
    agreement = ctx.policies.agreement_for(dest.name, dest.purpose, ctx.today)
    rules = [r for r in ctx.policies.rules if r.when.hold(dest.name, agreement.purpose, dest.country)]
    decisions = tuple(decide(entity, path, leaf, rules, ctx, agreement) for path, leaf in entity_fields(entity))
    return PolicyPlan(entity, dest.name, decisions, agreement, ctx.policies.version, ctx.keys.active)
