"""Survivorship: golden values chosen group by group, whole groups from one source, conflicts flagged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from officehub.identity import SourceRecord, Survivorship, field_groups, survive

T0 = datetime(2026, 1, 1, tzinfo=UTC)
RULES = Survivorship.model_validate({
    "default": {"rule": "most_recent"},
    "fields": {
        "address": {"rule": "trust", "order": ["crm", "accounting"]},
        "notes": {"rule": "source", "system": "crm"},
        "contact": {"rule": "most_complete"},
    },
})


def _src(system: str, vendor_id: str, hours: int, run_id: int | None = None, **values: object) -> SourceRecord:
    return SourceRecord(system, vendor_id, T0 + timedelta(hours=hours), run_id, values)


CRM = _src("crm", "C-1", 0, 1, name__first="John", name__last="Smith", address__street="10 High St",
           address__city="London", contact__email="js@example.org", notes="prefers e-mail")
ACC = _src("accounting", "A-7", 5, 2, name__first="Jon", name__last="Smith", address__street="10 High Street",
           address__postal_code="SW1A 1AA", contact__email="john@example.org", contact__phone="+442079460000",
           segment="key_account")
SHOP = _src("shop", "S-3", 9, 3, name__last="Smith-Jones", address__street="1 Elm Rd", address__city="Leeds",
            address__postal_code="LS1 1AA", address__country="GB", notes="web order")


def test_one_source_is_taken_exactly() -> None:
    result = survive("customer", [ACC], RULES)
    assert set(result.values) == {c for cols in field_groups("customer").values() for c in cols}
    assert {k: v for k, v in result.values.items() if v is not None} == dict(ACC.values)
    assert result.lineage == {f: ("accounting", "A-7") for f in ("name", "contact", "address", "segment")}
    assert result.conflicts == []


def test_most_recent_wins_by_default() -> None:
    result = survive("customer", [CRM, ACC], RULES)
    assert (result.values["name__first"], result.lineage["name"]) == ("Jon", ("accounting", "A-7"))
    assert result.values["segment"] == "key_account"  # only accounting has one


def test_trust_order_then_most_recent() -> None:
    result = survive("customer", [CRM, ACC, SHOP], RULES)
    assert result.lineage["address"] == ("crm", "C-1")
    # neither trusted system has an address: the most recent of the rest
    bare_crm = _src("crm", "C-1", 0, name__last="Smith")
    bare_acc = _src("accounting", "A-7", 1, name__last="Smith")
    older = _src("shop", "S-1", 2, address__city="York")
    assert survive("customer", [bare_crm, bare_acc, older, SHOP], RULES).lineage["address"] == ("shop", "S-3")


def test_groups_are_kept_whole() -> None:
    # crm is trusted for the address but has no postal code: the golden address is crm's, postal code and all
    result = survive("customer", [CRM, ACC], RULES)
    assert [result.values[c] for c in field_groups("customer")["address"]] == ["10 High St", "London", None, None]


def test_most_complete_then_most_recent() -> None:
    result = survive("customer", [CRM, ACC], RULES)
    assert result.lineage["contact"] == ("accounting", "A-7")  # two columns filled beats one
    tie = _src("shop", "S-3", 9, contact__email="s@example.org", contact__phone="+442079460001")
    assert survive("customer", [CRM, ACC, tie], RULES).lineage["contact"] == ("shop", "S-3")
    assert survive("customer", [CRM, tie, ACC], RULES).values["contact__email"] == "s@example.org"


def test_fixed_source_and_its_fallback() -> None:
    assert survive("customer", [CRM, SHOP], RULES).values["notes"] == "prefers e-mail"
    no_crm_notes = _src("crm", "C-1", 0, name__last="Smith")
    result = survive("customer", [no_crm_notes, SHOP], RULES)
    assert (result.values["notes"], result.lineage["notes"]) == ("web order", ("shop", "S-3"))


def test_fixed_source_as_the_default_falls_back_to_most_recent() -> None:
    rules = Survivorship.model_validate({"default": {"rule": "source", "system": "crm"}})
    result = survive("customer", [CRM, ACC], rules)
    assert result.values["name__first"] == "John"  # crm has it
    assert result.lineage["segment"] == ("accounting", "A-7")  # crm has none


def test_fields_nobody_supplies_are_null_without_lineage() -> None:
    result = survive("customer", [CRM, ACC], RULES)
    assert result.values["credit_limit__amount"] is None and "credit_limit" not in result.lineage
    assert "birth_date" not in result.lineage


def test_equal_times_fall_back_to_system_then_vendor_id() -> None:
    a = _src("crm", "C-2", 0, segment="standard")
    b = _src("crm", "C-1", 0, segment="occasional")
    c = _src("accounting", "A-9", 0, segment="key_account")
    assert survive("customer", [a, b, c], Survivorship()).lineage["segment"] == ("accounting", "A-9")
    assert survive("customer", [a, b], Survivorship()).lineage["segment"] == ("crm", "C-1")


def test_conflicts_only_when_both_changed_since_the_last_survival() -> None:
    changed_crm = _src("crm", "C-1", 6, name__first="Johnny", name__last="Smith", segment="standard")
    # never without a previous survival
    assert survive("customer", [changed_crm, ACC], RULES).conflicts == []
    # both changed after hour 4 and disagree on the first name and the segment
    result = survive("customer", [changed_crm, ACC], RULES, previous_at=T0 + timedelta(hours=4))
    assert result.conflicts == ["name", "segment"]
    # only one changed since hour 5.5: no conflict, the change simply wins
    later = T0 + timedelta(hours=5, minutes=30)
    assert survive("customer", [changed_crm, ACC], RULES, previous_at=later).conflicts == []


def test_complementary_values_are_no_conflict() -> None:
    a = _src("crm", "C-1", 6, address__street="10 High St")
    b = _src("accounting", "A-7", 7, address__city="London", contact__email="j@example.org")
    assert survive("customer", [a, b], RULES, previous_at=T0).conflicts == []


def test_no_sources_is_a_caller_error() -> None:
    with pytest.raises(ValueError, match="at least one source"):
        survive("customer", [], RULES)


def test_employee_groups_use_the_employee_layout() -> None:
    hr = _src("hr", "E1", 0, employee_number="E1", name__last="Kovalenko", home_address__city="Kyiv",
              employment__hire_date="2020-01-01", employment__department="Sales")
    payroll = _src("payroll", "P1", 1, employee_number="E1", name__last="Kovalenko",
                   employment__job_title="Manager")
    rules = Survivorship.model_validate({"fields": {"employment": {"rule": "most_complete"}}})
    result = survive("employee", [hr, payroll], rules)
    assert (result.values["employment__department"], result.values["employment__job_title"]) == ("Sales", None)
    assert result.lineage["home_address"] == ("hr", "E1")


_SYSTEMS = st.sampled_from(["crm", "accounting", "shop", "hr"])
_VALUE = st.none() | st.sampled_from(["a", "b", "c"])
_SOURCES = st.lists(
    st.builds(lambda sys, vid, h, street, city, email, notes, segment: _src(
        sys, vid, h, address__street=street, address__city=city, contact__email=email, notes=notes, segment=segment),
        _SYSTEMS, st.sampled_from(["1", "2", "3"]), st.integers(0, 3), _VALUE, _VALUE, _VALUE, _VALUE,
        st.none() | st.sampled_from(["standard", "occasional"])),
    min_size=1, max_size=6, unique_by=lambda s: (s.system, s.vendor_id))


@settings(max_examples=200, deadline=None)
@given(sources=_SOURCES, data=st.data())
def test_survive_is_deterministic_under_permutation(sources: list[SourceRecord], data) -> None:  # type: ignore[no-untyped-def]
    shuffled = data.draw(st.permutations(sources))
    previous = T0 + timedelta(hours=1)
    assert survive("customer", sources, RULES, previous) == survive("customer", shuffled, RULES, previous)


@settings(max_examples=200, deadline=None)
@given(sources=_SOURCES)
def test_every_group_comes_whole_from_its_lineage(sources: list[SourceRecord]) -> None:
    result = survive("customer", sources, RULES)
    by_id = {(s.system, s.vendor_id): s for s in sources}
    for name, columns in field_groups("customer").items():
        if name in result.lineage:
            winner = by_id[result.lineage[name]]
            assert all(result.values[c] == winner.values.get(c) for c in columns)
        else:
            assert all(result.values[c] is None for c in columns)
            assert all(s.values.get(c) is None for s in sources for c in columns)
