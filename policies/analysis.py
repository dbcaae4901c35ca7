"""What a compliance officer asks of policies: are they sound, what do they decide, what changed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from canonical_model import ENTITIES, unknown_leaf_sensitivity
from canonical_model.errors import FatalError
from policies.compiler import CompileContext, Destination, compile_plan, entity_fields
from policies.document import Rule
from policies.plan import FieldDecision, PolicyPlan
from policies.policy_set import PolicySet

EXPIRY_WARNING = timedelta(days=30)


@dataclass(frozen=True)
class Finding:
    """One result of checking policies."""

    level: str  # error | warning | info
    subject: str
    message: str


def destinations(policies: PolicySet, countries: dict[str, str | None] | None = None) -> list[Destination]:
    """Every destination an agreement names, with its country when known."""
    countries = countries or {}
    names = sorted({a.destination for a in policies.agreements})
    return [Destination(n, countries.get(n)) for n in names]


def plans(policies: PolicySet, dests: list[Destination], ctx: CompileContext) -> dict[tuple[str, str], PolicyPlan]:
    """Plans for every (destination, entity) whose agreement is in force."""
    found = {}
    for dest in dests:
        for entity in ENTITIES:
            try:
                found[(dest.name, entity)] = compile_plan(entity, dest, ctx)
            except FatalError:
                break  # no agreement in force: nothing would be sent to this destination
    return found


def _selects_anything(rule: Rule) -> bool:
    return any(rule.select.matches(entity, path, leaf.sensitivity)
               for entity in ENTITIES for path, leaf in entity_fields(entity))


def check(policies: PolicySet, ctx: CompileContext, countries: dict[str, str | None] | None = None) -> list[Finding]:
    """Unreachable and shadowed rules, missing legal bases, agreements ending, unclassified fields."""
    findings = [Finding("error", f"field {entity}.{path}", "has no sensitivity class: it is withheld everywhere")
                for entity in ENTITIES for path in unknown_leaf_sensitivity(entity)]
    findings += _agreement_findings(policies, ctx.today)
    compiled = plans(policies, destinations(policies, countries), ctx)
    deciding = {d.rule for plan in compiled.values() for d in plan.decisions if d.rule}
    for rule in policies.rules:
        findings += _rule_findings(rule, deciding, compiled)
    return findings


def _agreement_findings(policies: PolicySet, today: date) -> list[Finding]:
    findings = []
    for a in policies.agreements:
        if a.valid_until and a.valid_until < today:
            findings.append(Finding("warning", f"agreement {a.id}", f"expired on {a.valid_until}: nothing is sent to "
                                                                    f"{a.destination} under it"))
        elif a.valid_until and a.valid_until - today <= EXPIRY_WARNING:
            findings.append(Finding("warning", f"agreement {a.id}", f"ends on {a.valid_until}; renew it in time"))
        elif a.valid_from > today:
            findings.append(Finding("info", f"agreement {a.id}", f"starts on {a.valid_from}"))
    return findings


def _rule_findings(rule: Rule, deciding: set[str], compiled: dict[tuple[str, str], PolicyPlan]) -> list[Finding]:
    subject = f"rule {rule.id}"
    if not _selects_anything(rule):
        return [Finding("warning", subject, "unreachable: its selector matches no field of any entity")]
    blocked = [d for plan in compiled.values() for d in plan.decisions
               if d.rule == rule.id and "names no legal basis" in d.reason]
    if blocked:
        return [Finding("error", subject, f"would release special-category data without a legal basis "
                                          f"({blocked[0].path}); the field is withheld instead")]
    if rule.id not in deciding:
        return [Finding("warning", subject, "shadowed: a more specific or stricter rule decides every field it "
                                            "selects, for every destination it applies to")]
    return []


def explain(plan: PolicyPlan) -> list[dict[str, str | None]]:
    """The field → action → deciding rule → reason matrix of one plan."""
    return [_explain_row(d) for d in plan.decisions]


def _explain_row(d: FieldDecision) -> dict[str, str | None]:
    return {"field": d.path, "class": d.sensitivity.value if d.sensitivity else None, "action": d.operator.describe(),
            "rule": d.rule or "(default)", "reason": d.reason,
            "consent": d.consent_column}


def diff(old: PolicySet, new: PolicySet, ctx_old: CompileContext, ctx_new: CompileContext,
         countries: dict[str, str | None] | None = None) -> list[dict[str, str]]:
    """Per destination, entity and field: what would be received differently under ``new``."""
    names = {d.name for d in destinations(old, countries)} | {d.name for d in destinations(new, countries)}
    dests = [Destination(n, (countries or {}).get(n)) for n in sorted(names)]
    before, after = plans(old, dests, ctx_old), plans(new, dests, ctx_new)
    changes = []
    for dest in dests:
        for entity in ENTITIES:
            changes += _plan_diff(dest.name, entity, before.get((dest.name, entity)), after.get((dest.name, entity)))
    return changes


def _describe(plan: PolicyPlan | None, path: str) -> str:
    return plan.decision(path).operator.describe() if plan else "nothing sent (no agreement in force)"


def _plan_diff(dest: str, entity: str, old: PolicyPlan | None, new: PolicyPlan | None) -> list[dict[str, str]]:
    rows = []
    for path, _ in entity_fields(entity):
        was, now = _describe(old, path), _describe(new, path)
        if was != now:
            rows.append({"destination": dest, "entity": entity, "field": path, "old": was, "new": now,
                         "rule": (new.decision(path).rule or "(default)") if new else "-"})
    return rows
