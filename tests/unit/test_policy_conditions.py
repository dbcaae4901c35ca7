"""Conditions that can never match are config errors with file and line, and `policy check` says why."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from pydantic import ValidationError

from officehub.config import ProjectConfig, SystemConfig
from officehub.config.policy_files import load_policies
from officehub.config.yaml_source import Positions
from officehub.policies import CompileContext, Conditions, PolicyDocument, PolicySet
from officehub.policies.analysis import check

TODAY = date(2026, 6, 1)
#: payroll has no country; reporting is in Ukraine.
CONFIG = ProjectConfig(systems={"payroll": SystemConfig(type="files"), "reporting": SystemConfig(type="files",
                                                                                                 country="UA")})
COUNTRIES = {name: system.country for name, system in CONFIG.systems.items()}
AGREEMENT = """
agreements:
  - {id: rep-1, destination: reporting, purpose: management reporting, legal_basis: "GDPR Art. 6(1)(f)",
     valid_from: 2026-01-01}
  - {id: pay-1, destination: payroll, purpose: payroll processing, legal_basis: "GDPR Art. 6(1)(b)",
     valid_from: 2026-01-01}
"""


def load(tmp_path: Path, rule_when: str, config: ProjectConfig | None = CONFIG) -> list[tuple[str, int, str]]:
    """The problems found in a policy file holding one drop rule with ``when: {rule_when}`` (line 11)."""
    path = tmp_path / "p.yaml"
    path.write_text(f"name: p\n{AGREEMENT.lstrip()}rules:\n"
                    f"  - id: no-salary\n    select: {{field: employee.salary.amount}}\n    action: drop\n"
                    f"    when: {rule_when}\n")
    positions, problems = Positions(), []

    def add(where: tuple, message: str) -> None:
        problems.append((*(positions.locate(where) or ("?", 0)), message))
    load_policies([path], tmp_path, positions, add, config)
    return problems


def test_a_lower_case_jurisdiction_is_refused_by_the_model():
    with pytest.raises(ValidationError, match="'ua' is not an ISO 3166-1 alpha-2 code in upper case"):
        Conditions(jurisdictions=["ua"])
    assert Conditions(jurisdictions=["UA"]).hold("reporting", None, "UA")


def test_a_destination_that_names_no_system_is_an_error_with_file_and_line(tmp_path: Path):
    problems = load(tmp_path, "{destinations: [payroll, reportng]}")
    assert problems == [("p.yaml", 11, "rule no-salary: when.destinations: 'reportng' is no system of the project, "
                                       "so this entry never matches")]


def test_a_jurisdiction_on_a_system_without_a_country_is_an_error(tmp_path: Path):
    problems = load(tmp_path, "{destinations: [payroll], jurisdictions: [UA]}")
    assert ("p.yaml", 11, "rule no-salary: when.jurisdictions can never hold for 'payroll': that system has no "
                          "country") in problems
    assert any("no system the rule applies to is in UA" in message for _, _, message in problems)


def test_a_jurisdiction_no_system_is_in_is_an_error(tmp_path: Path):
    problems = load(tmp_path, "{jurisdictions: [UA, DE]}")
    assert [(line, message) for _, line, message in problems] == [
        (11, "rule no-salary: when.jurisdictions: no system the rule applies to is in DE, so this entry never matches")]


def test_a_lower_case_jurisdiction_in_a_file_is_an_error_with_its_line(tmp_path: Path):
    problems = load(tmp_path, "{jurisdictions: [ua]}")
    assert len(problems) == 1 and problems[0][:2] == ("p.yaml", 11) and "'ua' is not an ISO 3166-1" in problems[0][2]


def test_a_purpose_no_agreement_has_is_an_error(tmp_path: Path):
    problems = load(tmp_path, "{purposes: [payroll processing, management reportin]}")
    assert problems == [("p.yaml", 11, "rule no-salary: when.purposes: no agreement has the purpose "
                                       "'management reportin', so this entry never matches")]


def test_an_empty_list_never_matches_and_is_an_error(tmp_path: Path):
    problems = load(tmp_path, "{destinations: []}")
    assert len(problems) == 1 and "when.destinations is empty: the rule never applies" in problems[0][2]


def test_conditions_that_can_match_pass(tmp_path: Path):
    assert load(tmp_path, "{destinations: [reporting], jurisdictions: [UA], purposes: [management reporting]}") == []


def test_without_a_project_only_what_the_policies_tell_is_checked(tmp_path: Path):
    assert load(tmp_path, "{destinations: [reportng]}", config=None) == []
    assert len(load(tmp_path, "{purposes: [nothing like it]}", config=None)) == 1


def _policies(when: dict, agreements: list[dict] | None = None, more: tuple[dict, ...] = ()) -> PolicySet:
    agreements = agreements if agreements is not None else [
        {"id": "rep-1", "destination": "reporting", "purpose": "management reporting", "legal_basis": "GDPR 6(1)(f)",
         "valid_from": "2026-01-01"}]
    rule = {"id": "no-salary", "select": {"field": "employee.salary.amount"}, "action": "drop", "when": when}
    return PolicySet((PolicyDocument.model_validate({"name": "p", "agreements": agreements,
                                                     "rules": [rule, *more]}),))


def _findings(policies: PolicySet, countries: dict | None = COUNTRIES) -> dict[str, list[tuple[str, str]]]:
    found: dict[str, list[tuple[str, str]]] = {}
    for f in check(policies, CompileContext(policies, today=TODAY), countries):
        found.setdefault(f.subject, []).append((f.level, f.message))
    return found


@pytest.mark.parametrize(("when", "why"), [
    ({"destinations": ["reportng"]}, "'reportng' is no system of the project"),
    ({"destinations": ["payroll"], "jurisdictions": ["UA"]}, "can never hold for 'payroll'"),
    ({"purposes": ["management reportin"]}, "no agreement has the purpose 'management reportin'"),
])
def test_policy_check_reports_a_rule_that_can_never_apply_as_an_error_not_as_shadowed(when: dict, why: str):
    found = _findings(_policies(when))["rule no-salary"]
    assert any(level == "error" and why in message for level, message in found)
    assert not any("shadowed" in message for _, message in found)


def test_policy_check_without_a_project_still_reports_what_the_policies_tell():
    level, message = _findings(_policies({"purposes": ["management reportin"]}), countries=None)["rule no-salary"][0]
    assert level == "error" and "no agreement has the purpose" in message
    # Which systems exist is unknown here: the typo is not an error, but the rule is not called shadowed either.
    level, message = _findings(_policies({"destinations": ["reportng"]}), countries=None)["rule no-salary"][0]
    assert level == "warning" and "applies to no destination" in message


def test_a_rule_whose_only_agreement_has_expired_is_not_called_shadowed():
    expired = [{"id": "rep-0", "destination": "reporting", "purpose": "management reporting",
                "legal_basis": "GDPR 6(1)(f)", "valid_from": "2025-01-01", "valid_until": "2025-12-31"}]
    [(level, message)] = _findings(_policies({}, expired))["rule no-salary"]
    assert level == "warning" and "applies to no destination that has an agreement in force" in message


def test_a_rule_that_applies_and_decides_nothing_is_still_shadowed():
    hashed = {"id": "salary-hashed", "select": {"field": "employee.salary.amount"}, "action": "hash"}
    [(level, message)] = _findings(_policies({"destinations": ["reporting"]}, more=(hashed,)))["rule salary-hashed"]
    assert level == "warning" and "shadowed" in message
