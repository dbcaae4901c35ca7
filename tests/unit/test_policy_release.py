"""Special categories are released only on purpose: a register basis, named fields, the agreement in the same file."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from pydantic import ValidationError

from officehub.canonical_model import Sensitivity
from officehub.config.policy_files import load_policies
from officehub.config.yaml_source import Positions
from officehub.policies import CompileContext, KeyRing, PolicyDocument, PolicyPlan, PolicySet, compile_plan
from officehub.policies.analysis import check
from officehub.policies.legal_bases import BUILT_IN
from tests.conftest import copy_demo_config
from tests.helpers import run_cli

TODAY = date(2026, 6, 1)
KEYS = KeyRing({"k1": b"k" * 32}, "k1")
HEALTH = "occupational_health_restrictions"
SPECIAL_PATHS = (HEALTH, "sick_leave.diagnosis_code", "background_check.outcome", "litigation_hold.matter_ref",
                 "garnishments.court_order_ref")


def agreement(dest: str = "d", permits: list[tuple[str, str]] = (), **extra: Any) -> dict:
    return {"id": f"{dest}-2026", "destination": dest, "purpose": "occupational health",
            "legal_basis": "GDPR Art. 6(1)(c) national OHS law", "valid_from": "2026-01-01",
            "special_categories": [{"class": c, "basis": b} for c, b in permits], **extra}


def doc(rules: list[dict], agreements: list[dict], name: str = "p", **extra: Any) -> PolicyDocument:
    return PolicyDocument.model_validate({"name": name, "rules": rules, "agreements": agreements, **extra})


def rule(rid: str, select: dict, action: str = "allow", **extra: Any) -> dict:
    return {"id": rid, "select": select, "action": action, **extra}


def plan(entity: str, *docs: PolicyDocument, dest: str = "d", derived: dict | None = None) -> PolicyPlan:
    return compile_plan(entity, dest, CompileContext(PolicySet(tuple(docs)), KEYS, TODAY, derived or {}))


MEDICAL_OK = [("medical", "gdpr-9-2-h")]


# -- the register ----------------------------------------------------------------------------------------------

def test_the_register_holds_gdpr_and_hipaa_grounds_for_special_categories_only():
    ids = {b.id for b in BUILT_IN}
    assert {"gdpr-9-2-a", "gdpr-9-2-h", "gdpr-9-2-j", "gdpr-10-official-authority", "hipaa-164-506-treatment",
            "hipaa-164-512-e", "hipaa-164-512-l"} <= ids
    assert len(ids) == len(BUILT_IN)
    assert all(b.classes and all(c.is_special_category for c in b.classes) for b in BUILT_IN)
    assert [c.value for c in next(b for b in BUILT_IN if b.id == "gdpr-10-official-authority").classes] == \
        ["criminal"]


@pytest.mark.parametrize("text", ["n/a", "GDPR Art. 9(2)(h) occupational medicine", "consent given"])
def test_free_text_is_no_legal_basis(text):
    with pytest.raises(ValidationError, match="register of legal bases"):
        doc([rule("r", {"field": f"employee.{HEALTH}"}, legal_basis=text)], [agreement()])
    # The wording lives on beside a register id.
    kept = doc([rule("r", {"field": f"employee.{HEALTH}"}, legal_basis="gdpr-9-2-h", note=text)], [agreement()])
    assert kept.rules[0].note == text


def _load(tmp_path: Path, files: dict[str, str]) -> tuple[PolicySet, list[tuple[str, int, str]]]:
    positions, issues = Positions(), []
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")

    def add(where: tuple, message: str) -> None:
        issues.append((*(positions.locate(where) or ("?", 0)), message))
    loaded = load_policies([tmp_path / n for n in files], tmp_path, positions, add)
    return loaded, issues


CITING = """name: citing
agreements:
  - id: oh-2026
    destination: occupational_health
    purpose: occupational health
    legal_basis: "GDPR Art. 6(1)(c)"
    special_categories:
      - {class: medical, basis: gdpr-9-2-h}
      - {class: legal, basis: ua-enforcement}
      - {class: criminal, basis: gdpr-9-2-h}
    valid_from: 2026-01-01
rules:
  - id: health
    select: {field: employee.occupational_health_restrictions}
    action: allow
    legal_basis: gdpr-9-2-z
  - id: garnishments
    select: {field: "employee.garnishments.*"}
    action: allow
    legal_basis: ua-enforcement
"""

DECLARING = """name: declaring
legal_bases:
  - id: ua-enforcement
    title: Deductions from wages under an enforcement order
    classes: [legal]
    reference: Law of Ukraine On Enforcement Proceedings, Art. 68-70
"""


def test_a_cited_basis_must_be_in_the_register_with_file_and_line(tmp_path: Path):
    _, issues = _load(tmp_path, {"citing.yaml": CITING})
    issues.sort()
    assert [(f, line) for f, line, _ in issues] == [("citing.yaml", n) for n in (9, 10, 16, 20)]
    assert "'ua-enforcement' is not in the register" in issues[0][2] and "agreement oh-2026" in issues[0][2]
    assert "gdpr-9-2-h covers medical data, not criminal" in issues[1][2]
    assert "rule health: legal basis 'gdpr-9-2-z' is not in the register" in issues[2][2]
    assert "did you mean gdpr-9-2-" in issues[2][2]
    assert "rule garnishments" in issues[3][2]


def test_a_declared_basis_joins_the_register_for_every_file(tmp_path: Path):
    fixed = CITING.replace("gdpr-9-2-z", "gdpr-9-2-h")
    loaded, issues = _load(tmp_path, {"citing.yaml": fixed, "declaring.yaml": DECLARING})
    # Only the agreement that lists a medical-only ground for criminal data is left.
    assert [(f, line) for f, line, _ in issues] == [("citing.yaml", 10)]
    assert loaded.register.get("ua-enforcement").classes == (Sensitivity.LEGAL,)


def test_a_declaration_cannot_redefine_a_ground(tmp_path: Path):
    clash = DECLARING.replace("ua-enforcement", "gdpr-9-2-h")
    twice = DECLARING.replace("name: declaring", "name: again")
    _, issues = _load(tmp_path, {"a.yaml": clash, "b.yaml": DECLARING, "c.yaml": twice})
    assert [(f, line) for f, line, _ in issues] == [("a.yaml", 3), ("c.yaml", 3)]
    assert "built-in ground" in issues[0][2] and "already declared in policy 'declaring'" in issues[1][2]


def test_an_agreement_lists_only_special_categories():
    with pytest.raises(ValidationError, match="not a special category"):
        doc([], [agreement(permits=[("personal", "gdpr-9-2-h")])])


# -- what a release needs ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("select", [{"entity": "employee"}, {"field": "*"}, {"field": "employee.*"},
                                    {"field": "*.occupational_health_restrictions"}, {"field": "employee.occ*"}])
def test_a_broad_rule_releases_no_special_category(select):
    everything = [(c, b.id) for b in BUILT_IN for c in ("medical", "criminal", "legal")
                  if Sensitivity(c) in b.classes]
    p = plan("employee", doc([rule("broad", select, legal_basis="gdpr-9-2-h")], [agreement(permits=everything)]))
    for path in SPECIAL_PATHS:
        d = p.decision(path)
        if d.rule == "broad":
            assert d.action == "drop" and "without naming it" in d.reason, path
        assert d.action == "drop", path
    assert p.decision(HEALTH).rule == "broad"
    out = p.apply(pa.table({HEALTH: ["no lifting"], "employment__department": ["Sales"]})).columns
    assert HEALTH not in out


@pytest.mark.parametrize("select", [{"field": f"employee.{HEALTH}"}, {"class": "medical"},
                                    {"entity": "employee", "class": ["medical", "criminal"]}])
def test_a_rule_naming_the_field_or_class_releases_under_a_listed_basis(select):
    p = plan("employee", doc([rule("oh", select, legal_basis="gdpr-9-2-h")], [agreement(permits=MEDICAL_OK)]))
    d = p.decision(HEALTH)
    assert (d.action, d.rule) == ("allow", "oh") and "gdpr-9-2-h" in d.reason
    assert p.apply(pa.table({HEALTH: ["no lifting"]})).columns[HEALTH].to_pylist() == ["no lifting"]


def test_a_group_under_the_entity_names_its_fields():
    p = plan("employee", doc([rule("sick", {"field": "employee.sick_leave.*"}, legal_basis="gdpr-9-2-h")],
                             [agreement(permits=MEDICAL_OK)]))
    assert {p.decision(f"sick_leave.{f}").action for f in ("period.start", "diagnosis_code", "certified")} == {"allow"}
    assert p.decision(HEALTH).action == "drop"


@pytest.mark.parametrize("basis, permits, why", [
    (None, MEDICAL_OK, "names no legal basis"),
    ("gdpr-10-official-authority", [("criminal", "gdpr-10-official-authority")], "does not cover medical data"),
    ("gdpr-9-2-a", MEDICAL_OK, "gdpr-9-2-a, which agreement d-2026 does not list for medical data"),
    ("gdpr-9-2-h", [("legal", "gdpr-9-2-b")], "does not list"),
    ("gdpr-9-2-h", [], "does not list"),
])
def test_the_cited_basis_must_cover_the_class_and_be_listed_by_the_agreement(basis, permits, why):
    extra = {"legal_basis": basis} if basis else {}
    for action in ("allow", "mask", "hash", "tokenize", "redact"):
        d = plan("employee", doc([rule("oh", {"field": f"employee.{HEALTH}"}, action, **extra)],
                                 [agreement(permits=permits)])).decision(HEALTH)
        assert d.action == "drop" and d.rule == "oh" and why in d.reason, (action, d.reason)


def test_withholding_a_special_category_needs_no_basis():
    for action in ("drop", "nullify"):
        d = plan("employee", doc([rule("quiet", {"entity": "employee"}, action)], [agreement()])).decision(HEALTH)
        assert (d.action, d.rule) == (action, "quiet")


def test_a_derived_field_of_a_special_class_needs_the_same():
    derived = {"employee.employment.job_title": Sensitivity.MEDICAL}
    broad = doc([rule("all-staff", {"entity": "employee"}, legal_basis="gdpr-9-2-h")], [agreement(permits=MEDICAL_OK)])
    d = plan("employee", broad, derived=derived).decision("employment.job_title")
    assert d.action == "drop" and "without naming it" in d.reason
    named = doc([rule("titles", {"field": "employee.employment.job_title"}, legal_basis="gdpr-9-2-h")],
                [agreement(permits=MEDICAL_OK)])
    assert plan("employee", named, derived=derived).decision("employment.job_title").action == "allow"


# -- a rule outside the destination's document ---------------------------------------------------------------------

def test_a_rule_in_another_file_cannot_release_a_special_category():
    home = doc([], [agreement(permits=MEDICAL_OK)], name="home")
    stray = doc([rule("stray", {"field": f"employee.{HEALTH}"}, legal_basis="gdpr-9-2-h",
                      when={"destinations": ["d"]})], [agreement("elsewhere")], name="stray")
    d = plan("employee", home, stray).decision(HEALTH)
    assert d.action == "drop" and d.rule == "stray" and "without the agreement with d" in d.reason
    # Without any agreement of its own, the same.
    orphan = doc([rule("stray", {"entity": "employee"}, legal_basis="gdpr-9-2-h", when={"destinations": ["d"]})], [])
    assert plan("employee", home, orphan).decision(HEALTH).action == "drop"


def test_a_rule_in_another_file_cannot_widen_what_the_destination_receives():
    home = doc([rule("no-customers", {"entity": "customer"}, "drop")], [agreement()], name="home")
    for action in ("allow", "hash", "mask"):
        stray = doc([rule("stray", {"field": "customer.contact.email"}, action, when={"destinations": ["d"]})],
                    [], name="stray")
        d = plan("customer", home, stray).decision("contact.email")
        assert (d.action, d.rule) == ("drop", "no-customers"), action


def test_a_rule_in_another_file_still_restricts():
    home = doc([], [agreement()], name="home")
    stray = doc([rule("mask-email", {"field": "customer.contact.email"}, "mask", when={"destinations": ["d"]}),
                 rule("no-notes", {"entity": "customer"}, "drop", when={"destinations": ["d"]})], [], name="stray")
    p = plan("customer", home, stray)
    assert (p.decision("contact.email").action, p.decision("name.last").action) == ("mask", "drop")


# -- policy check ------------------------------------------------------------------------------------------------

def test_check_lists_each_release_to_confirm_and_each_refusal_as_an_error():
    home = doc([rule("oh", {"field": f"employee.{HEALTH}"}, legal_basis="gdpr-9-2-h"),
                rule("staff", {"entity": "employee"}, legal_basis="gdpr-9-2-b")],
               [agreement(permits=[*MEDICAL_OK, ("legal", "gdpr-9-2-b")])], name="home")
    stray = doc([rule("stray", {"field": "employee.contact.email"}, when={"destinations": ["d"]})],
                [agreement("elsewhere")], name="stray")
    policies = PolicySet((home, stray))
    findings = check(policies, CompileContext(policies, KEYS, TODAY))
    confirm = [vars(f) for f in findings if f.level == "confirm"]
    assert confirm == [{"level": "confirm", "subject": f"employee.{HEALTH} → d", "destination": "d",
                        "field": f"employee.{HEALTH}", "sensitivity": "medical", "action": "allow", "rule": "oh",
                        "basis": "gdpr-9-2-h", "message": confirm[0]["message"]}]
    assert "confirm" in confirm[0]["message"] and "Preventive or occupational medicine" in confirm[0]["message"]
    errors = {(f.subject, f.message) for f in findings if f.level == "error"}
    assert any(s == "rule staff" and "would release legal data without naming it" in m for s, m in errors)
    assert any(s == "rule staff" and "would release criminal data without naming it" in m for s, m in errors)
    assert any(s == "rule stray" and "without the agreement with d" in m and "employee.contact.email" in m
               for s, m in errors)
    # A refused rule is an error, not also "shadowed".
    assert not [f for f in findings if f.subject in ("rule stray", "rule staff") and f.level == "warning"]


STRAY = """name: stray-reporting
rules:
  - id: everything-for-reports
    select: {entity: employee}
    when: {destinations: [reporting]}
    action: allow
    legal_basis: gdpr-9-2-b
"""

PAYROLL_GARNISHMENTS = """
legal_bases:
  - id: ua-enforcement
    title: Deductions from wages under an enforcement order
    classes: [legal]
    reference: Law of Ukraine On Enforcement Proceedings, Art. 68-70
"""


def test_policy_check_command_shows_releases_to_confirm_and_refusals(tmp_path: Path):
    project = copy_demo_config(tmp_path / "demo")
    payroll = project / "policies" / "payroll.yaml"
    text = payroll.read_text(encoding="utf-8")
    text = text.replace("special_categories: []", "special_categories:\n      - {class: legal, basis: ua-enforcement}")
    text += ("  - id: garnishments-to-deduct\n    select: {field: \"employee.garnishments.*\"}\n    action: allow\n"
             "    legal_basis: ua-enforcement\n") + PAYROLL_GARNISHMENTS
    payroll.write_text(text, encoding="utf-8")
    (project / "policies" / "stray.yaml").write_text(STRAY, encoding="utf-8")

    done = run_cli("-p", str(project), "policy", "check", "--json")
    assert done.returncode == 2, done.stdout + done.stderr
    findings = json.loads(done.stdout)
    confirm = sorted((f["destination"], f["field"], f["sensitivity"], f["rule"], f["basis"])
                     for f in findings if f["level"] == "confirm")
    assert confirm == [("payroll", f"employee.garnishments.{p}", "legal", "garnishments-to-deduct", "ua-enforcement")
                       for p in ("amount.amount", "amount.currency", "court_order_ref", "since")]
    refused = [f for f in findings if f["level"] == "error"]
    assert {f["subject"] for f in refused} == {"rule everything-for-reports"}
    assert all("without the agreement with reporting" in f["message"] for f in refused)

    plain = run_cli("-p", str(project), "policy", "check")
    assert plain.returncode == 2
    flat = " ".join(plain.stdout.split())
    assert "confirm" in flat and "employee.garnishments.court_order_ref → payroll" in flat
    assert "everything-for-reports" in flat
