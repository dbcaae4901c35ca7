"""All policy documents of a project, with library templates expanded, and agreement look-up."""

from __future__ import annotations

import difflib
import hashlib
import json
from dataclasses import dataclass
from datetime import date
from functools import cache, cached_property
from pathlib import Path

import yaml

from officehub.canonical_model.errors import FatalError
from officehub.policies.document import Agreement, Conditions, PolicyDocument, Rule
from officehub.policies.legal_bases import Register, is_built_in, register

LIBRARY = Path(__file__).parent / "library"


@cache
def template(name: str) -> PolicyDocument:
    """A policy template from the built-in library; ValueError naming the known ones."""
    # Only names listed in the library: "../x" or an absolute path would send a user's file
    # through this loader, which trusts the package data it was made for.
    library = {p.stem: p for p in LIBRARY.glob("*.yaml")}
    if name not in library:
        raise ValueError(f"no policy template '{name}' (library: {', '.join(sorted(library))})")
    return PolicyDocument.model_validate(yaml.safe_load(library[name].read_text(encoding="utf-8")))


def _scoped(rule: Rule, prefix: str | None, destinations: list[str], description: str | None = None) -> Rule:
    """A rule limited to ``destinations`` unless it names its own; it releases only to ``destinations``."""
    when = rule.when if rule.when.destinations is not None else Conditions(
        destinations=destinations, purposes=rule.when.purposes, jurisdictions=rule.when.jurisdictions)
    return rule.model_copy(update={"id": f"{prefix}/{rule.id}" if prefix else rule.id, "when": when,
                                   "description": rule.description or description}).homed(frozenset(destinations))


#: Where in a document, e.g. ("rules", 2, "legal_basis").
Location = tuple[str | int, ...]
#: A problem in one document: its index among the documents, where in it, and what.
Problem = tuple[int, Location, str]


def _unknown(basis_id: str, known: Register) -> str:
    close = difflib.get_close_matches(basis_id, [b.id for b in known], n=1)
    hint = f" (did you mean {close[0]}?)" if close else " (declare the project's own under legal_bases:)"
    return f"legal basis '{basis_id}' is not in the register of legal bases{hint}"


def _declaration_problems(doc: PolicyDocument, declared: dict[str, str]) -> list[tuple[Location, str]]:
    """Declared bases that would redefine a built-in ground or one another document declares."""
    found: list[tuple[Location, str]] = []
    for index, basis in enumerate(doc.legal_bases):
        where: Location = ("legal_bases", index, "id")
        if is_built_in(basis.id):
            found.append((where, f"legal basis {basis.id}: a built-in ground of the register; declare yours under "
                                 "an id of its own"))
        elif basis.id in declared:
            found.append((where, f"legal basis {basis.id}: already declared in policy '{declared[basis.id]}'"))
        else:
            declared[basis.id] = doc.name
    return found


def _citing_problems(doc: PolicyDocument, known: Register) -> list[tuple[Location, str]]:
    """Rules and agreements that cite an id the register lacks, or a basis that cannot cover the class."""
    found: list[tuple[Location, str]] = [
        (("rules", i, "legal_basis"), f"rule {r.id}: {_unknown(r.legal_basis, known)}")
        for i, r in enumerate(doc.rules) if r.legal_basis and r.legal_basis not in known]
    for i, agreement in enumerate(doc.agreements):
        for j, permit in enumerate(agreement.special_categories):
            where, basis = ("agreements", i, "special_categories", j, "basis"), known.get(permit.basis)
            if basis is None:
                found.append((where, f"agreement {agreement.id}: {_unknown(permit.basis, known)}"))
            elif not basis.covers(permit.category):
                covered = ", ".join(c.value for c in basis.classes)
                found.append((where, f"agreement {agreement.id}: {basis.id} covers {covered} data, "
                                     f"not {permit.category.value}"))
    return found


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

    @cached_property
    def register(self) -> Register:
        """The register of legal bases: the built-in grounds and those these documents declare."""
        return register(b for doc in self.documents for b in doc.legal_bases)

    @property
    def rules(self) -> list[Rule]:
        """Every rule, templates expanded; each applies to its document's destinations unless it names others.

        A rule that names other destinations may restrict what they receive, never release anything to them.
        """
        rules: list[Rule] = []
        for doc in self.documents:
            destinations = sorted({a.destination for a in doc.agreements})
            for name in doc.uses:
                used = template(name)
                rules += [_scoped(r, name, destinations, used.description) for r in used.rules]
            rules += [_scoped(r, None, destinations) for r in doc.rules]
        return rules

    def citation_problems(self) -> list[Problem]:
        """Declared bases that clash, and citations the register cannot answer (config errors)."""
        problems: list[Problem] = []
        declared: dict[str, str] = {}
        for index, doc in enumerate(self.documents):
            problems += [(index, where, message) for where, message in _declaration_problems(doc, declared)]
            problems += [(index, where, message) for where, message in _citing_problems(doc, self.register)]
        return problems

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
