"""Compiling policies into plans: precedence, special categories, scoping, agreements, consent."""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any

import pyarrow as pa
import pytest

from officehub.canonical_model import layout
from officehub.canonical_model.errors import FatalError
from officehub.policies import (
    CompileContext,
    Destination,
    KeyRing,
    PolicedBatch,
    PolicyDocument,
    PolicyPlan,
    PolicySet,
    compile_plan,
)
from officehub.policies.compiler import decide

TODAY = date(2026, 6, 1)
KEYS = KeyRing({"k1": b"k" * 32}, "k1")
HEALTH = "employee.occupational_health_restrictions"


def agreement(dest: str = "d", purpose: str = "analytics", **extra: Any) -> dict:
    return {"id": f"{dest}-{purpose}".replace(" ", "-"), "destination": dest, "purpose": purpose,
            "legal_basis": "GDPR Art. 6(1)(f)", "valid_from": "2026-01-01", **extra}


def doc(rules: list[dict] | None = None, agreements: list[dict] | None = None, uses: tuple = (),
        name: str = "p") -> PolicyDocument:
    return PolicyDocument.model_validate({"name": name, "uses": list(uses), "rules": rules or [],
                                          "agreements": agreements if agreements is not None else [agreement()]})


def ctx(*docs: PolicyDocument, today: date = TODAY) -> CompileContext:
    return CompileContext(PolicySet(tuple(docs)), KEYS, today)


def plan(entity: str, *docs: PolicyDocument, dest: Destination | str = "d", today: date = TODAY) -> PolicyPlan:
    return compile_plan(entity, dest, ctx(*docs, today=today))


def rule(rid: str, select: dict, action: str, **extra: Any) -> dict:
    return {"id": rid, "select": select, "action": action, **extra}


FIELD = rule("field-allow", {"field": "customer.contact.email"}, "allow")
ENTITY = rule("entity-mask", {"entity": "customer"}, "mask")
CLASS = rule("class-drop", {"class": "personal"}, "drop")


@pytest.mark.parametrize("order", [(FIELD, ENTITY, CLASS), (CLASS, ENTITY, FIELD), (ENTITY, CLASS, FIELD)])
def test_field_beats_entity_beats_class_whatever_the_order(order):
    p = plan("customer", doc(list(order)))
    assert (p.decision("contact.email").action, p.decision("contact.email").rule) == ("allow", "field-allow")
    assert (p.decision("name.first").action, p.decision("name.first").rule) == ("mask", "entity-mask")
    employee = plan("employee", doc(list(order)))
    assert (employee.decision("name.first").action, employee.decision("name.first").rule) == ("drop", "class-drop")
    assert employee.decision("employment.department").action == "allow"
    assert employee.decision("employment.department").rule is None


@pytest.mark.parametrize("actions, winner", [(("allow", "hash"), "hash"), (("mask", "redact"), "redact"),
                                             (("tokenize", "hash"), "hash"), (("nullify", "drop"), "drop"),
                                             (("generalize", "mask"), "mask")])
def test_equal_rank_the_stricter_operator_wins(actions, winner):
    params = {"generalize": {"to": "prefix"}}
    rules = [rule(f"r-{a}", {"field": "customer.address.postal_code"}, a, params=params.get(a, {})) for a in actions]
    for ordered in (rules, rules[::-1]):
        assert plan("customer", doc(ordered)).decision("address.postal_code").action == winner


def test_special_category_allowed_without_legal_basis_is_still_dropped():
    p = plan("employee", doc([rule("health-ok", {"field": HEALTH}, "allow")]))
    d = p.decision("occupational_health_restrictions")
    assert d.action == "drop" and d.rule == "health-ok" and "names no legal basis" in d.reason
    for action in ("mask", "hash", "tokenize"):
        assert plan("employee", doc([rule("x", {"field": HEALTH}, action)])).decision(
            "occupational_health_restrictions").action == "drop"


def test_special_category_with_legal_basis_is_released():
    basis = "gdpr-9-2-h"
    listed = [agreement(special_categories=[{"class": "medical", "basis": basis}])]
    health = doc([rule("health-ok", {"field": HEALTH}, "allow", legal_basis=basis)], listed)
    d = plan("employee", health).decision("occupational_health_restrictions")
    assert d.action == "allow" and basis in d.reason
    batch = plan("employee", health).apply(pa.table({"occupational_health_restrictions": ["no night shifts"]}))
    assert batch.columns["occupational_health_restrictions"].to_pylist() == ["no night shifts"]


def test_special_categories_are_dropped_by_default():
    p = plan("employee", doc([]))
    for path in ("occupational_health_restrictions", "background_check.outcome", "litigation_hold.matter_ref",
                 "sick_leave.diagnosis_code", "garnishments.court_order_ref"):
        assert p.decision(path).action == "drop"


def test_redacting_a_special_category_without_legal_basis_reveals_nothing():
    p = plan("employee", doc([rule("health-redacted", {"field": HEALTH}, "redact")]))
    out = p.apply(pa.table({"occupational_health_restrictions": ["no night shifts", None]})).columns
    assert out.get("occupational_health_restrictions", pa.nulls(2)).null_count == 2


def test_rules_are_scoped_to_their_documents_destinations():
    a = doc([rule("no-email", {"field": "customer.contact.email"}, "drop")], [agreement("a")], name="A")
    b = doc([], [agreement("b")], name="B")
    assert plan("customer", a, b, dest="a").decision("contact.email").action == "drop"
    assert plan("customer", a, b, dest="b").decision("contact.email").action == "allow"
    # Templates are scoped the same way.
    g = doc([], [agreement("g")], uses=("gdpr-special-categories",), name="G")
    assert plan("employee", g, b, dest="g").decision("occupational_health_restrictions").rule == \
        "gdpr-special-categories/art9-health"
    assert plan("employee", g, b, dest="b").decision("occupational_health_restrictions").rule is None


def test_conditions_on_purposes_and_jurisdictions():
    rules = [rule("us-only", {"field": "customer.contact.phone"}, "drop", when={"jurisdictions": ["US"]}),
             rule("analytics-only", {"field": "customer.contact.email"}, "hash",
                  when={"purposes": ["analytics"]})]
    d = doc(rules, [agreement("d", "analytics"), agreement("d", "billing")])
    us, de = plan("customer", d, dest=Destination("d", "US", "analytics")), \
        plan("customer", d, dest=Destination("d", "DE", "billing"))
    assert us.decision("contact.phone").action == "drop" and us.decision("contact.email").action == "hash"
    assert de.decision("contact.phone").action == "allow" and de.decision("contact.email").action == "allow"
    assert plan("customer", d, dest=Destination("d", None, "billing")).decision("contact.phone").action == "allow"


def test_hipaa_safe_harbor_template():
    p = plan("customer", doc([], uses=("hipaa-safe-harbor",)), today=date(2026, 6, 1))
    actions = {path: p.decision(path).action for path in ("name.first", "name.last", "contact.phone",
                                                         "contact.email", "address.street", "notes")}
    assert set(actions.values()) == {"drop"}
    table = pa.table({"address__postal_code": ["02134", None], "birth_date": pa.array(
        [date(1936, 5, 31), date(1980, 7, 4)]), "name__first": ["Ann", "Bo"], "contact__email": ["a@b.example", None],
        "segment": ["smb", "key_account"]})
    out = p.apply(table).columns
    assert out["address__postal_code"].to_pylist() == ["021", None]
    assert out["birth_date"].to_pylist() == ["90+", "1980"]
    assert "name__first" not in out and "contact__email" not in out
    assert out["segment"].to_pylist() == ["smb", "key_account"]


def test_gdpr_template_drops_medical_criminal_and_legal_even_over_class_allows():
    rules = [rule("all-ok", {"class": ["medical", "criminal", "legal"]}, "allow")]
    p = plan("employee", doc(rules, uses=("gdpr-special-categories",)))
    for path, rid in (("occupational_health_restrictions", "art9-health"), ("sick_leave.period.start", "art9-health"),
                      ("background_check.outcome", "art10-criminal"), ("garnishments.since", "legal-proceedings")):
        assert p.decision(path).action == "drop"
        assert p.decision(path).rule == f"gdpr-special-categories/{rid}"


def test_without_an_agreement_in_force_nothing_is_compiled():
    with pytest.raises(FatalError, match="no data-sharing agreement covers destination 'elsewhere'"):
        plan("customer", doc([]), dest="elsewhere")
    with pytest.raises(FatalError, match="expired"):
        plan("customer", doc([], [agreement(valid_until="2026-05-31")]))
    with pytest.raises(FatalError, match="starts only on 2026-06-02"):
        plan("customer", doc([], [agreement(valid_from="2026-06-02")]))
    with pytest.raises(FatalError, match="for purpose 'billing'"):
        plan("customer", doc([]), dest=Destination("d", purpose="billing"))
    assert plan("customer", doc([], [agreement(valid_until="2026-06-01")])).agreement.id == "d-analytics"


def test_per_record_consent_releases_only_to_records_that_said_yes():
    rules = [rule("marketing-email", {"field": "customer.contact.email"}, "allow",
                  consent="customer.consents.marketing"),
             rule("marketing-phone", {"field": "customer.contact.phone"}, "hash",
                  consent="customer.consents.marketing")]
    p = plan("customer", doc(rules))
    assert p.needed_columns == ["consents__marketing"] and p.decision("contact.email").consent_column
    table = pa.table({"contact__email": ["a@x.example", "b@x.example", "c@x.example", None],
                      "contact__phone": ["+380501", "+380502", "+380503", "+380504"],
                      "consents__marketing": pa.array([True, False, None, True]),
                      "name__first": ["A", "B", "C", "D"]})
    batch = p.apply(table)
    assert batch.columns["contact__email"].to_pylist() == ["a@x.example", None, None, None]
    phones = batch.columns["contact__phone"].to_pylist()
    assert phones[0].startswith("k1:") and phones[1:3] == [None, None] and phones[3].startswith("k1:")
    assert batch.withheld == {"contact.email": 2, "contact.phone": 4}
    assert batch.columns["name__first"].to_pylist() == ["A", "B", "C", "D"]


def test_a_class_rule_with_customer_consent_does_not_crash_other_entities():
    rules = [rule("personal-with-consent", {"class": "personal"}, "allow", consent="customer.consents.data_sharing")]
    assert plan("customer", doc(rules)).needed_columns == ["consents__data_sharing"]
    try:
        plan("employee", doc(rules))
    except FatalError:
        pass  # refusing with a clear message is acceptable; a KeyError is not


def test_policed_batch_comes_only_from_a_plan():
    p = plan("customer", doc([]))
    with pytest.raises(TypeError):
        PolicedBatch(object(), p, {}, 0, {}, frozenset())


def test_an_unclassified_leaf_is_dropped_whatever_the_rules():
    leaf = dataclasses.replace(layout("customer").field("segment"), sensitivity=None)
    rules = doc([rule("allow-segment", {"field": "customer.segment"}, "allow", legal_basis="gdpr-9-2-b"),
                 rule("allow-all", {"entity": "customer"}, "allow")]).rules
    d = decide("customer", "segment", leaf, rules, ctx())
    assert d.action == "drop" and d.sensitivity is None and "unclassified" in d.reason


def test_defaults_without_policies_and_the_fingerprint_tracks_decisions():
    assert compile_plan("customer", "anywhere").policy_version == "defaults"
    base = plan("customer", doc([rule("r", {"field": "customer.notes"}, "drop")]))
    assert base.fingerprint == plan("customer", doc([rule("r", {"field": "customer.notes"}, "drop")])).fingerprint
    changed = [doc([rule("r", {"field": "customer.notes"}, "nullify")]),
               doc([rule("r", {"field": "customer.segment"}, "drop")]),
               doc([rule("r", {"field": "customer.notes"}, "mask", params={"keep_last": 2})]),
               doc([rule("r", {"field": "customer.notes"}, "mask", params={"keep_last": 3})])]
    prints = {plan("customer", d).fingerprint for d in changed} | {base.fingerprint}
    assert len(prints) == 5
