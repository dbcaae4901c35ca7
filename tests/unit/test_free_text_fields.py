"""Free-text fields are marked in the model, and `policy check` names every destination that can read one."""

from __future__ import annotations

from datetime import date

import pytest

from officehub.canonical_model import ENTITIES, layout
from officehub.policies import CompileContext, PolicyDocument, PolicySet
from officehub.policies.analysis import check

TODAY = date(2026, 6, 1)
NOTES_WARNING = ("customer.notes is free text and may carry special-category content; it is sent to reporting as "
                 "{}")


def test_the_model_marks_free_text_fields():
    marked = {f"{entity}.{leaf.path}" for entity in ENTITIES for leaf in layout(entity).fields if leaf.free_text}
    assert marked == {"customer.notes", "employee.occupational_health_restrictions"}
    assert layout("customer").field("notes").sensitivity.value == "personal"


def _warnings(*rules: dict) -> list[str]:
    agreement = {"id": "rep-1", "destination": "reporting", "purpose": "management reporting",
                 "legal_basis": "GDPR Art. 6(1)(f)", "valid_from": "2026-01-01"}
    policies = PolicySet((PolicyDocument.model_validate({"name": "p", "agreements": [agreement],
                                                         "rules": list(rules)}),))
    return [f.message for f in check(policies, CompileContext(policies, today=TODAY))
            if f.subject == "field customer.notes" and f.level == "warning"]


def _notes(action: str, **params: object) -> dict:
    return {"id": "notes", "select": {"field": "customer.notes"}, "action": action, "params": params}


def test_policy_check_warns_when_notes_go_out_as_they_are():
    assert _warnings() == [NOTES_WARNING.format("allow")]


@pytest.mark.parametrize(("rule", "shown"), [
    (_notes("mask", keep_first=10, keep_last=0), "mask {'keep_first': 10, 'keep_last': 0}"),
    (_notes("generalize", to="prefix", prefix_length=20), "generalize {'to': 'prefix', 'prefix_length': 20}"),
])
def test_policy_check_warns_when_part_of_the_notes_can_be_read(rule: dict, shown: str):
    assert _warnings(rule) == [NOTES_WARNING.format(shown)]


@pytest.mark.parametrize("rule", [_notes("drop"), _notes("nullify"), _notes("redact"), _notes("hash"),
                                  _notes("tokenize"), _notes("mask", keep_last=0)])
def test_policy_check_is_quiet_when_nothing_of_the_notes_can_be_read(rule: dict):
    assert _warnings(rule) == []
