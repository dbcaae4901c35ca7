"""All policy documents of a project, with library templates expanded, and agreement look-up."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

import yaml

from canonical_model.errors import FatalError
from policies.document import Agreement, Conditions, PolicyDocument, Rule

LIBRARY = Path(__file__).parent / "library"


@cache
def template(name: str) -> PolicyDocument:
    """A policy template from the built-in library; ValueError naming the known ones."""
    path = LIBRARY / f"{name}.yaml"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in LIBRARY.glob("*.yaml")))
        raise ValueError(f"no policy template '{name}' (library: {known})")
    return PolicyDocument.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))


def _scoped(rule: Rule, prefix: str | None, destinations: list[str], description: str | None = None) -> Rule:
    """A rule limited to ``destinations`` unless it names its own."""
    when = rule.when if rule.when.destinations is not None else Conditions(
        destinations=destinations, purposes=rule.when.purposes, jurisdictions=rule.when.jurisdictions)
    return rule.model_copy(update={"id": f"{prefix}/{rule.id}" if prefix else rule.id, "when": when,
                                   "description": rule.description or description})


@dataclass(frozen=True)
class PolicySet:
    """The policies in force for a project."""

    documents: tuple[PolicyDocument, ...] = ()

    @property
    def configured(self) -> bool:
        """False when the project has no policy files: only the built-in defaults apply."""
        return bool(self.documents)

    @property
    def agreements(self) -> list[Agreement]:
        """Every agreement of every document."""
        return [a for doc in self.documents for a in doc.agreements]

    @property
    def rules(self) -> list[Rule]:
        """Every rule, templates expanded; each applies to its document's destinations unless it names others."""
        rules: list[Rule] = []
        for doc in self.documents:
            destinations = sorted({a.destination for a in doc.agreements})
            for name in doc.uses:
                used = template(name)
                rules += [_scoped(r, name, destinations, used.description) for r in used.rules]
            rules += [_scoped(r, None, destinations) for r in doc.rules]
        return rules

    @property
    def version(self) -> str:
        """A hash identifying exactly these policies (goes into every audit entry)."""
        body = json.dumps([d.model_dump(mode="json") for d in self.documents], sort_keys=True)
        return hashlib.sha256(body.encode()).hexdigest()[:16]

    def agreement_for(self, destination: str, purpose: str | None, today: date) -> Agreement:
        """The agreement in force for ``destination`` (and ``purpose``); FatalError otherwise (fail closed)."""
        candidates = [a for a in self.agreements if a.destination == destination
                      and (purpose is None or a.purpose == purpose)]
        in_force = [a for a in candidates if a.in_force(today)]
        if in_force:
            return in_force[0]
        if candidates:
            upcoming = [a.valid_from for a in candidates if a.valid_from > today]
            ended = max((a.valid_until for a in candidates if a.valid_until), default=None)
            when = f"starts only on {min(upcoming)}" if upcoming else f"expired on {ended}"
            raise FatalError(f"the data-sharing agreement with '{destination}' {when}; nothing is sent until "
                             "one is in force")
        raise FatalError(f"no data-sharing agreement covers destination '{destination}'"
                         + (f" for purpose '{purpose}'" if purpose else "") + "; nothing is sent")
