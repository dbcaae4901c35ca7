"""Without an agreement in force, no personal or financial data go anywhere, and `check` says so."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pytest

from officehub.canonical_model import Sensitivity
from officehub.config import Project, load_project
from officehub.config.sharing import unagreed_publishes
from officehub.policies import CompileContext, PolicyDocument, PolicySet, compile_plan
from officehub.policies.analysis import explain
from tests.conftest import copy_demo_config

TODAY = date(2026, 6, 1)
AGREEMENT = {"id": "rep-1", "destination": "reporting", "purpose": "management reporting",
             "legal_basis": "GDPR Art. 6(1)(f)", "valid_from": "2026-01-01"}


def _actions(entity: str, ctx: CompileContext | None = None) -> dict[Sensitivity | None, set[str]]:
    """The actions the plan for reporting takes, by class."""
    found: dict[Sensitivity | None, set[str]] = {}
    for d in compile_plan(entity, "reporting", ctx).decisions:
        found.setdefault(d.sensitivity, set()).add(d.action)
    return found


@pytest.mark.parametrize("entity", ["customer", "employee", "product"])
def test_without_policies_only_public_and_internal_data_go(entity: str):
    actions = _actions(entity)
    for sensitivity, taken in actions.items():
        allowed = sensitivity in (Sensitivity.PUBLIC, Sensitivity.INTERNAL)
        assert taken == ({"allow"} if allowed else {"drop"}), sensitivity


def test_without_policies_personal_and_financial_fields_say_why_they_are_withheld():
    plan = compile_plan("customer", "reporting")
    assert plan.agreement is None and plan.policy_version == "defaults"
    rows = {r["field"]: r for r in explain(plan)}
    assert rows["notes"]["action"] == "drop" and rows["credit_limit.amount"]["action"] == "drop"
    assert rows["notes"]["reason"] == "personal data: withheld, no data-sharing agreement covers this destination"
    assert rows["credit_limit.amount"]["reason"].startswith("financial data: withheld, no data-sharing agreement")
    assert rows["segment"] == {"field": "segment", "class": "internal", "action": "allow", "rule": "(default)",
                               "reason": "internal data: allowed by default", "consent": None}


def test_an_agreement_in_force_lets_personal_and_financial_data_go_by_default():
    ctx = CompileContext(PolicySet((PolicyDocument.model_validate({"name": "p", "agreements": [AGREEMENT]}),)),
                         today=TODAY)
    actions = _actions("employee", ctx)
    assert actions[Sensitivity.PERSONAL] == actions[Sensitivity.FINANCIAL] == {"allow"}
    assert actions[Sensitivity.MEDICAL] == {"drop"}


def test_without_policies_a_withheld_value_never_reaches_the_destination():
    golden = pa.table({"canonical_id": ["c1"], "name__last": ["Petrenko"], "notes": ["back surgery in May"],
                       "credit_limit__amount": pa.array([Decimal("500.00")], pa.decimal128(18, 2)),
                       "segment": ["standard"]})
    policed = compile_plan("customer", "reporting").apply(golden)
    assert set(policed.columns) == {"canonical_id", "segment"}
    assert policed.withheld == {"name.last": 1, "notes": 1, "credit_limit.amount": 1}


def _demo(tmp_path: Path, policies: PolicySet | None = None) -> Project:
    loaded = load_project(copy_demo_config(tmp_path / "demo"))
    return loaded if policies is None else Project(loaded.config, loaded.base_dir, loaded.positions, policies)


def test_check_warns_for_every_publish_pipeline_when_no_policies_are_configured(tmp_path: Path):
    project = _demo(tmp_path, PolicySet())
    publishes = [n for n, p in project.config.pipelines.items() if p.kind == "publish"]
    warnings = unagreed_publishes(project, TODAY)
    assert len(warnings) == len(publishes) == 8
    assert ("pipeline reporting_customers_out → reporting: no data-sharing agreement in force; reporting receives "
            "no personal or financial data") in warnings


def test_check_is_quiet_where_every_destination_has_an_agreement_in_force(tmp_path: Path):
    assert unagreed_publishes(_demo(tmp_path), TODAY) == []


def test_check_warns_for_a_destination_whose_agreement_has_expired(tmp_path: Path):
    project = _demo(tmp_path)
    warnings = unagreed_publishes(project, date(2028, 7, 1))  # payroll's and reporting's agreements end 2028-06-30
    assert "pipeline payroll_employees_out → payroll: the data-sharing agreement with 'payroll' expired on " \
           "2028-06-30; nothing is sent until one is in force" in warnings
    assert not any("crm" in w or "accounting" in w for w in warnings)
