"""What a compliance officer asks of policies: are they sound, what do they decide, what changed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from officehub.canonical_model import ENTITIES, Sensitivity, unknown_leaf_sensitivity
from officehub.canonical_model.errors import FatalError
from officehub.policies.compiler import CompileContext, Destination, compile_plan, entity_fields, refused
from officehub.policies.document import Rule
from officehub.policies.operators.mask import Mask
from officehub.policies.plan import FieldDecision, PolicyPlan
from officehub.policies.policy_set import PolicySet
from officehub.policies.release import SILENT

EXPIRY_WARNING = timedelta(days=30)


@dataclass(frozen=True)
class Finding:
    """One result of checking policies."""

    level: str  # error | warning | confirm (a special category released: a human confirms it) | info
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
    """Unsound rules, special-category releases to confirm, agreements ending, unclassified fields."""
    findings = [Finding("error", f"field {entity}.{path}", "has no sensitivity class: it is withheld everywhere")
                for entity in ENTITIES for path in unknown_leaf_sensitivity(entity)]
    findings += _agreement_findings(policies, ctx.today)
    compiled = plans(policies, destinations(policies, countries), ctx)
    deciding = {d.rule for plan in compiled.values() for d in plan.decisions if d.rule}
    unmatchable = _condition_findings(policies, countries)
    findings += unmatchable + _free_text_findings(compiled)
    findings += (releases := _release_findings(policies, compiled, ctx, countries))
    idle = _idle_rules(policies, compiled, countries)
    for rule in policies.rules:
        findings += _rule_findings(rule, deciding, compiled, idle, {f.subject for f in unmatchable + releases})
    return findings


@dataclass(frozen=True)
class Release(Finding):
    """A special category leaving for a destination: a human confirms it is meant to (level ``confirm``)."""

    destination: str
    field: str
    sensitivity: str
    action: str
    rule: str
    basis: str


def _release_findings(policies: PolicySet, compiled: dict[tuple[str, str], PolicyPlan], ctx: CompileContext,
                      countries: dict[str, str | None] | None) -> list[Finding]:
    """Each release of a special category, to confirm; each release a rule attempts and may not make, an error."""
    findings: list[Finding] = []
    refusals: dict[tuple[str, str, str], list[str]] = {}
    for (dest, entity), plan in compiled.items():
        if plan.agreement is None:
            continue
        rules = [r for r in policies.rules if r.when.hold(dest, plan.agreement.purpose, (countries or {}).get(dest))]
        for path, leaf in entity_fields(entity):
            decision = plan.decision(path)
            if decision.sensitivity and decision.sensitivity.is_special_category and decision.action not in SILENT:
                findings.append(_release(policies, plan, decision, decision.sensitivity, rules))
            stopped = refused(entity, path, leaf, rules, ctx, plan.agreement)
            if stopped:
                refusals.setdefault((stopped[0].id, dest, stopped[1]), []).append(f"{entity}.{path}")
    return findings + [Finding("error", f"rule {rule_id}", f"{why} (to {dest}: {_listed(fields)})")
                       for (rule_id, dest, why), fields in refusals.items()]


def _release(policies: PolicySet, plan: PolicyPlan, d: FieldDecision, sensitivity: Sensitivity,
             rules: list[Rule]) -> Release:
    """``sensitivity`` is the decision's own class, known to be set (a special category)."""
    rule = next(r for r in rules if r.id == d.rule)
    basis = policies.register.get(rule.legal_basis)
    cls, action = sensitivity.value, d.operator.describe()
    title = basis.title if basis else "?"
    return Release("confirm", f"{plan.entity}.{d.path} → {plan.destination}",
                   f"{cls} data leaves as {action} by rule {rule.id} under {rule.legal_basis} ({title}); "
                   "confirm it is meant to", plan.destination, f"{plan.entity}.{d.path}", cls, action, rule.id,
                   str(rule.legal_basis))


def _listed(fields: list[str], shown: int = 3) -> str:
    more = f" and {len(fields) - shown} more" if len(fields) > shown else ""
    return ", ".join(fields[:shown]) + more


def _condition_findings(policies: PolicySet, countries: dict[str, str | None] | None) -> list[Finding]:
    """Rules with a ``when`` entry that can never match (a typo'd destination, a purpose no agreement has).

    Without a project (``countries`` None) only what the policies themselves tell is checked.
    """
    purposes = {a.purpose for a in policies.agreements}
    return [Finding("error", f"rule {rule.id}", message)
            for doc in policies.documents for rule in doc.rules
            for _, message in rule.when.unmatchable(countries, purposes)]


def _idle_rules(policies: PolicySet, compiled: dict[tuple[str, str], PolicyPlan],
                countries: dict[str, str | None] | None) -> set[str]:
    """Ids of rules whose conditions hold for no destination that has an agreement in force."""
    reached = {(plan.destination, plan.agreement.purpose if plan.agreement else None) for plan in compiled.values()}
    return {rule.id for rule in policies.rules
            if not any(rule.when.hold(dest, purpose, (countries or {}).get(dest)) for dest, purpose in reached)}


#: Actions after which nothing of a value can be read at the destination.
UNREADABLE = frozenset({"drop", "nullify", "redact", "hash", "tokenize"})


def _readable(decision: FieldDecision) -> bool:
    operator = decision.operator
    if decision.action == "mask" and isinstance(operator, Mask) and operator.params.style == "text":
        return operator.params.keep_first + operator.params.keep_last > 0
    return decision.action not in UNREADABLE


def _free_text_findings(compiled: dict[tuple[str, str], PolicyPlan]) -> list[Finding]:
    """Free-text fields a destination can read: staff may have typed health or court matters into them.

    Special categories are left to the release findings: they are known to hold such content.
    """
    findings = []
    for (dest, entity), plan in compiled.items():
        free = {path for path, leaf in entity_fields(entity) if leaf.free_text}
        findings += [Finding("warning", f"field {entity}.{d.path}",
                             f"{entity}.{d.path} is free text and may carry special-category content; "
                             f"it is sent to {dest} as {d.operator.describe()}")
                     for d in plan.decisions if d.path in free and _readable(d)
                     and d.sensitivity is not None and not d.sensitivity.is_special_category]
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


def _rule_findings(rule: Rule, deciding: set[str], compiled: dict[tuple[str, str], PolicyPlan],
                   idle: set[str], reported: set[str]) -> list[Finding]:
    subject = f"rule {rule.id}"
    if not _selects_anything(rule):
        return [Finding("warning", subject, "unreachable: its selector matches no field of any entity")]
    if subject in reported:
        # Its conditions cannot match, or its release is refused: already an error, "shadowed" would mislead.
        return []
    if rule.id in idle:
        return [Finding("warning", subject, "applies to no destination that has an agreement in force, "
                                            "so it decides nothing")]
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
