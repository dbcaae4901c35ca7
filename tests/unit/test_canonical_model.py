"""The canonical model: every leaf classified, special categories marked, schemas and validators."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from pydantic import ValidationError

from officehub.canonical_model import (
    ENTITIES,
    SCHEMA_VERSION,
    Employee,
    Product,
    Sensitivity,
    json_schema,
    json_schemas,
    layout,
    unknown_leaf_sensitivity,
)
from officehub.canonical_model.entities import CanonicalRecord
from officehub.canonical_model.sensitivity import Financial, Medical, Personal, Public, sensitivity_of, stricter
from officehub.canonical_model.values import Address, ValueModel

GOOD_IBAN = "GB82WEST12345698765432"
GOOD_GTIN = "4006381333931"


@pytest.mark.parametrize("entity", sorted(ENTITIES))
def test_every_leaf_including_collections_is_classified(entity: str) -> None:
    assert unknown_leaf_sensitivity(entity) == []
    lay = layout(entity)
    assert all(f.sensitivity is not None for f in lay.fields)
    assert all(f.sensitivity is not None for c in lay.collections for f in c.fields)


def _classes(entity: str) -> dict[str, Sensitivity]:
    lay = layout(entity)
    found = {f.path: f.sensitivity for f in lay.fields}
    found.update({f"{c.name}.{f.path}": f.sensitivity for c in lay.collections for f in c.fields})
    return found


SPECIAL = {
    Sensitivity.MEDICAL: ["occupational_health_restrictions", "sick_leave.period.start", "sick_leave.period.end",
                          "sick_leave.diagnosis_code", "sick_leave.certified"],
    Sensitivity.CRIMINAL: ["background_check.outcome", "background_check.checked_on"],
    Sensitivity.LEGAL: ["litigation_hold.matter_ref", "litigation_hold.since", "litigation_hold.active",
                        "garnishments.court_order_ref", "garnishments.amount.amount", "garnishments.since"],
}


@pytest.mark.parametrize("expected", list(SPECIAL))
def test_employee_special_category_leaves(expected: Sensitivity) -> None:
    classes = _classes("employee")
    assert {path: classes[path] for path in SPECIAL[expected]} == dict.fromkeys(SPECIAL[expected], expected)
    assert expected.is_special_category


def test_container_marker_reaches_nested_leaves_of_real_entities() -> None:
    classes = _classes("customer")
    assert classes["name.first"] is Sensitivity.PERSONAL  # PersonName itself carries no class
    assert classes["credit_limit.amount"] is Sensitivity.FINANCIAL
    assert _classes("product")["stock_levels.quantity"] is Sensitivity.INTERNAL


class _Inner(ValueModel):
    plain: str | None = None
    medical: Medical[str | None] = None
    public: Public[str | None] = None


class _Item(ValueModel):
    x: str


class _Probe(CanonicalRecord):
    entity_name = "probe"
    nested: Personal[_Inner | None] = None
    items: Financial[list[_Item]] = []
    bare: str | None = None


def test_container_marker_and_stricter_class_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(ENTITIES, "probe", _Probe)
    lay = layout.__wrapped__("probe")  # bypass the cache so the probe entity does not linger
    assert lay.field("nested.plain").sensitivity is Sensitivity.PERSONAL
    assert lay.field("nested.medical").sensitivity is Sensitivity.MEDICAL  # leaf stricter than container
    assert lay.field("nested.public").sensitivity is Sensitivity.PERSONAL  # container stricter than leaf
    assert lay.collection("items").fields[0].sensitivity is Sensitivity.FINANCIAL
    assert lay.field("bare").sensitivity is None


def test_stricter_and_sensitivity_of() -> None:
    assert stricter(Sensitivity.PUBLIC, Sensitivity.MEDICAL) is Sensitivity.MEDICAL
    assert stricter(Sensitivity.LEGAL, Sensitivity.PERSONAL) is Sensitivity.LEGAL
    assert stricter(None, Sensitivity.INTERNAL) is Sensitivity.INTERNAL
    assert stricter(None, None) is None
    metadata = list(Personal[Medical[str]].__metadata__)
    assert sensitivity_of(metadata) is Sensitivity.MEDICAL


@pytest.mark.parametrize("entity", sorted(ENTITIES))
def test_json_schema_carries_sensitivity_and_version(entity: str) -> None:
    schema = json_schema(entity)
    assert schema["x-schema-version"] == SCHEMA_VERSION
    props = schema["properties"]
    assert set(props) == set(ENTITIES[entity].model_fields)
    for name, prop in props.items():
        assert prop.get("x-sensitivity") in {s.value for s in Sensitivity}, name
    assert json_schemas()[entity] == schema
    if entity == "employee":
        assert [props[p]["x-sensitivity"] for p in ("sick_leave", "background_check", "garnishments")] == \
            ["medical", "criminal", "legal"]


def _employee(**overrides) -> dict:
    data = {
        "employee_number": "E-001",
        "name": {"first": "Ivan", "last": "Petrenko"},
        "birth_date": "1987-02-01",
        "contact": {"email": "ivan@example.com", "phone": "+380441234567"},
        "home_address": {"street": "Khreshchatyk 1", "city": "Kyiv", "postal_code": "01001", "country": "UA"},
        "employment": {"hire_date": "2020-01-02", "department": "IT", "job_title": "Engineer"},
        "salary": {"amount": "1234.50", "currency": "UAH"},
        "bank_account_iban": GOOD_IBAN,
        "occupational_health_restrictions": "no heavy lifting",
        "sick_leave": [{"period": {"start": "2024-03-01", "end": "2024-03-05"}, "diagnosis_code": "J06.9",
                        "certified": True}],
        "background_check": {"outcome": "clear", "checked_on": "2019-12-01"},
        "litigation_hold": {"matter_ref": "M-17", "since": "2023-05-01"},
        "garnishments": [{"court_order_ref": "C-9", "amount": {"amount": "100", "currency": "UAH"},
                          "since": "2024-01-01"}],
    }
    return data | overrides


def test_full_valid_employee_validates() -> None:
    emp = Employee.model_validate(_employee())
    assert emp.salary.amount == Decimal("1234.50")
    assert emp.sick_leave[0].period.end == date(2024, 3, 5)
    assert emp.litigation_hold.active is True
    assert emp.garnishments[0].amount.currency == "UAH"


@pytest.mark.parametrize("iban", ["GB82WEST12345698765433", "gb82west12345698765432", "GB82"])
def test_bad_iban_is_rejected(iban: str) -> None:
    with pytest.raises(ValidationError) as info:
        Employee.model_validate(_employee(bank_account_iban=iban))
    assert info.value.errors()[0]["loc"][0] == "bank_account_iban"


@pytest.mark.parametrize("gtin", ["4006381333932", "12345", "40063813339X1"])
def test_bad_gtin_is_rejected(gtin: str) -> None:
    Product(sku="S1", name="Widget", gtin=GOOD_GTIN)
    with pytest.raises(ValidationError) as info:
        Product(sku="S1", name="Widget", gtin=gtin)
    assert info.value.errors()[0]["loc"][0] == "gtin"


@pytest.mark.parametrize("country", ["XX", "ua", "UKR"])
def test_bad_country_is_rejected(country: str) -> None:
    assert Address(country="UA").country == "UA"
    with pytest.raises(ValidationError):
        Address(country=country)


def test_sick_leave_period_ending_before_start_is_rejected() -> None:
    bad = _employee(sick_leave=[{"period": {"start": "2024-03-05", "end": "2024-03-01"}}])
    with pytest.raises(ValidationError, match="period ends before it starts"):
        Employee.model_validate(bad)
