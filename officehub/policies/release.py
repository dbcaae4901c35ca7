"""Whether a rule may release a field to a destination: what stands between a rule and a release.

A special category (medical, criminal, legal) goes out only through a rule that names
the field, its group or its class on purpose, cites a basis from the register that
covers the class, and whose basis the destination's agreement lists. Any release at
all comes only from a rule in the same document as the destination's agreement: a
rule elsewhere may restrict what a destination receives, never widen it.
"""

from __future__ import annotations

from dataclasses import dataclass

from officehub.canonical_model import Sensitivity
from officehub.policies.document import Agreement, Rule
from officehub.policies.legal_bases import Register
from officehub.policies.operators import Allow, Drop, Nullify

#: Actions that let nothing of a field out, not even whether it has a value.
SILENT = frozenset({Drop.name, Nullify.name})


@dataclass(frozen=True)
class Target:
    """One field of one entity, as sent to the destination of ``agreement``: what rules are judged against."""

    entity: str
    path: str
    sensitivity: Sensitivity
    agreement: Agreement | None
    register: Register
    #: For an ordinary field, the strictness of what the destination's own documents decide on it:
    #: a rule from elsewhere must be stricter than that, or it would widen what the destination receives.
    baseline: int = Allow.strictness

    @property
    def destination(self) -> str | None:
        """The destination the field would be sent to."""
        return self.agreement.destination if self.agreement else None

    def matching(self, rules: list[Rule]) -> list[Rule]:
        """The rules that select this field (a consent-conditioned one only on the entity carrying the flag)."""
        return [r for r in rules if r.select.matches(self.entity, self.path, self.sensitivity)
                and (r.consent is None or r.consent.startswith(f"{self.entity}."))]

    def releases(self, rule: Rule) -> bool:
        """Would ``rule`` let out more than the destination's own documents: for a special category, any trace?"""
        if self.sensitivity.is_special_category:
            return rule.action not in SILENT
        return rule.operator_class.strictness <= self.baseline

    def refusal(self, rule: Rule) -> str | None:
        """Why ``rule`` may not release this field here; None when it may, or when it does not release."""
        if rule.may_release_to(self.destination):
            special = self.sensitivity.is_special_category and rule.action not in SILENT
            return self._special_refusal(rule) if special else None
        if not self.releases(rule):
            return None  # a restriction: it applies wherever its conditions say
        return (f"rule {rule.id} is in a policy file without the agreement with {self.destination}: "
                "it may restrict what that destination receives, never release")

    def _special_refusal(self, rule: Rule) -> str | None:
        kind = f"{self.sensitivity.value} data"
        if not rule.select.names(self.entity, self.path, self.sensitivity):
            return (f"rule {rule.id} would release {kind} without naming it: select the field, its group "
                    f"({self.entity}.<group>.*) or class {self.sensitivity.value} explicitly")
        if not rule.legal_basis:
            return f"rule {rule.id} would release {kind} but names no legal basis from the register"
        basis = self.register.get(rule.legal_basis)
        if basis is None:
            return f"rule {rule.id} cites '{rule.legal_basis}', which is not in the register of legal bases"
        if not basis.covers(self.sensitivity):
            return f"rule {rule.id} cites {basis.id}, which does not cover {kind}"
        if self.agreement is None or not self.agreement.permits(self.sensitivity, basis.id):
            named = f"agreement {self.agreement.id}" if self.agreement else "no agreement"
            return f"rule {rule.id} cites {basis.id}, which {named} does not list for {kind}"
        return None
