"""Compiled mappings: vendor batches in (validated, bad rows reported), policed batches out."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pyarrow as pa
import pytest
from pydantic import ValidationError

from officehub.canonical_model.errors import FatalError
from officehub.mapping import InboundMapping, MappingSpec, OutboundMapping
from officehub.policies import CompileContext, PolicyDocument, PolicySet, compile_plan


def _spec(**overrides) -> MappingSpec:
    raw = {
        "system": "crm", "stream": "CUST", "target": "customer", "key": ["BRANCH", "CUSTNO"],
        "fields": {
            "customer_number": "CUSTNO",
            "name.first": {"from": "FNAME", "transforms": ["trim", "title"]},
            "name.last": {"from": "LNAME", "transforms": ["trim", "title"]},
            "birth_date": {"from": "BIRTH", "transforms": [{"date": "%d.%m.%Y"}]},
            "contact.email": {"from": "EMAIL", "transforms": ["trim", "lower"]},
            "credit_limit.amount": {"from": "LIMIT", "transforms": [{"number": {"decimal": ","}}]},
            "credit_limit.currency": "CUR",
        },
    }
    return MappingSpec.model_validate(raw | overrides)


def _batch(**columns: list) -> pa.RecordBatch:
    base = {"BRANCH": ["K"], "CUSTNO": [1], "FNAME": [" IVAN "], "LNAME": ["PETRENKO"], "BIRTH": ["01.02.1987"],
            "EMAIL": ["Ivan@Example.com"], "LIMIT": ["1000,50"], "CUR": ["UAH"]}
    n = len(next(iter(columns.values()))) if columns else 1
    return pa.RecordBatch.from_pydict({k: columns.get(k, v * n) for k, v in base.items()})


def test_good_rows_are_mapped_and_typed() -> None:
    mapped = InboundMapping(_spec(), "crm_customers").apply(_batch())
    assert mapped.errors == {} and mapped.rows == [0]
    assert mapped.vendor_ids == ["K/1"] and mapped.parent_ids is None
    cols = {k: v.to_pylist() for k, v in mapped.columns.items()}
    assert cols == {"customer_number": ["1"], "name__first": ["Ivan"], "name__last": ["Petrenko"],
                    "birth_date": [date(1987, 2, 1)], "contact__email": ["ivan@example.com"],
                    "credit_limit__amount": [Decimal("1000.50")], "credit_limit__currency": ["UAH"]}


def test_bad_rows_are_reported_with_vendor_column_or_canonical_path() -> None:
    batch = _batch(CUSTNO=[1, 2, 3, 4, 5], BRANCH=["K", "K", None, "L", "L"],
                   BIRTH=["01.02.1987", "31.02.1987", None, None, None],
                   LNAME=["A", "B", "C", "  ", "E"], CUR=["UAH", "UAH", "UAH", "UAH", None])
    mapped = InboundMapping(_spec(), "crm_customers").apply(batch)
    # Row 3 lost its surname but keeps a first name: a name needs one of the two.
    assert mapped.rows == [0, 3] and mapped.vendor_ids == ["K/1", "L/4"]
    assert mapped.errors == {
        1: "BIRTH → birth_date: not a date in format %d.%m.%Y",
        2: "key BRANCH/CUSTNO is missing",
        4: "credit_limit.currency: Field required when credit_limit is given",
    }
    assert mapped.errors.keys() | set(mapped.rows) == set(range(5))
    assert all("31.02.1987" not in reason for reason in mapped.errors.values())


def test_row_indexes_of_good_rows_survive_rejections() -> None:
    batch = _batch(CUSTNO=[1, 2, 3], BIRTH=["bad", "01.02.1987", "02.02.1987"], FNAME=["a", "b", "c"])
    mapped = InboundMapping(_spec(), "m").apply(batch)
    assert mapped.rows == [1, 2]
    assert mapped.vendor_ids == ["K/2", "K/3"]
    assert mapped.columns["name__first"].to_pylist() == ["B", "C"]


def test_creating_mapping_must_map_required_fields() -> None:
    spec = _spec(fields={"customer_number": "CUSTNO"})
    with pytest.raises(ValueError, match="maps none of name, organisation; a customer needs one of them"):
        InboundMapping(spec, "m")


def test_an_organisation_is_a_customer_without_a_persons_name() -> None:
    spec = _spec(fields={"customer_number": "CUSTNO", "organisation.legal_name": "FIRM",
                         "organisation.registration_country": {"from": "CODE", "transforms": [{"constant": "UA"}]},
                         "organisation.registration_number": "CODE"})
    batch = pa.RecordBatch.from_pydict({"BRANCH": ["K", "K", "K"], "CUSTNO": [1, 2, 3],
                                        "FIRM": ["Фарм", "Аптека", None], "CODE": [" 3285 5961", "32855962", None]})
    mapped = InboundMapping(spec, "m").apply(batch)
    assert mapped.rows == [0]
    assert mapped.columns["organisation__registration_number"].to_pylist() == ["32855961"]
    assert mapped.errors[1].startswith("organisation.registration_number: not a valid ua.edrpou")
    assert mapped.errors[2] == "needs name or organisation"


def test_a_number_checked_per_country_needs_its_country_mapped() -> None:
    spec = _spec(fields={"organisation.legal_name": "FIRM", "organisation.registration_number": "CODE"})
    with pytest.raises(ValueError, match="'organisation.registration_number' is checked against the format of its "
                                         "registration_country: map that field too"):
        InboundMapping(spec, "m")


def test_enriching_mapping_may_omit_required_fields() -> None:
    spec = _spec(extends=True, fields={"segment": {"from": "SEG", "transforms": [
        {"lookup": {"values": {"A": "key_account"}}}]}})
    batch = pa.RecordBatch.from_pydict({"BRANCH": ["K", "K"], "CUSTNO": [1, 2], "SEG": ["a", "Q"]})
    mapped = InboundMapping(spec, "m").apply(batch)
    assert mapped.rows == [0] and mapped.columns["segment"].to_pylist() == ["key_account"]
    assert mapped.errors == {1: "SEG → segment: code not in the lookup table"}


def test_a_group_mapped_without_the_field_it_requires_is_refused() -> None:
    # An employment without its hire date would be quarantined on every row.
    fields = {"employee_number": "ID", "name.first": "F", "name.last": "L", "employment.department": "DEPT"}
    spec = MappingSpec.model_validate({"system": "hr", "stream": "E", "target": "employee", "key": "ID",
                                       "fields": fields})
    with pytest.raises(ValueError, match="maps employment.department but not employment.hire_date"):
        InboundMapping(spec, "m")
    fields["employment.hire_date"] = "HIRED"
    InboundMapping(MappingSpec.model_validate({**spec.model_dump(by_alias=True), "fields": fields}), "m")
    # Enriching, the hire date may come from the mapping that creates the records: the project's check decides.
    InboundMapping(MappingSpec.model_validate({"system": "hr", "stream": "D", "target": "employee", "key": "ID",
                                               "extends": True, "fields": {"employment.department": "DEPT"}}), "m")


def test_unknown_canonical_field_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="'nickname' is not a field of customer"):
        InboundMapping(_spec(fields={"name.last": "LNAME", "nickname": "NICK"}), "m")


def test_missing_vendor_column_is_fatal_and_named() -> None:
    batch = _batch().drop_columns(["EMAIL"])
    with pytest.raises(FatalError, match="EMAIL") as info:
        InboundMapping(_spec(), "crm_customers").apply(batch)
    assert info.value.system == "crm" and info.value.stream == "CUST"


def test_collection_target_needs_parent_key() -> None:
    raw = {"system": "hr", "stream": "sick", "target": "employee.sick_leave", "key": "id",
           "fields": {"period.start": "S"}}
    with pytest.raises(ValidationError, match="parent_key"):
        MappingSpec.model_validate(raw)
    spec = MappingSpec.model_validate(raw | {"parent_key": "emp", "fields": {"period.start": "S", "period.end": "E"}})
    batch = pa.RecordBatch.from_pydict({"id": [1, 2, 3], "emp": ["E1", "E1", None],
                                        "S": ["2024-03-01", "2024-03-09", "2024-03-01"],
                                        "E": ["2024-03-05", "2024-03-01", None]})
    mapped = InboundMapping(spec, "sick").apply(batch)
    assert mapped.rows == [0] and mapped.parent_ids == ["E1"]
    assert mapped.errors == {1: "period: Value error, period ends before it starts",
                             2: "parent key emp is missing"}


def test_concat_joins_vendor_columns_inbound() -> None:
    spec = _spec(fields={"name.last": "LNAME", "address.street": {
        "from": ["STREET", "HOUSE"], "transforms": [{"concat": {"separator": ", "}}]}})
    batch = _batch(LNAME=["A", "B"]).append_column("STREET", pa.array(["Khreshchatyk", "Lvivska"])) \
        .append_column("HOUSE", pa.array(["1", None]))
    mapped = InboundMapping(spec, "m").apply(batch)
    assert mapped.columns["address__street"].to_pylist() == ["Khreshchatyk, 1", "Lvivska"]


# --- outbound ---

def _payroll_spec() -> MappingSpec:
    return MappingSpec.model_validate({
        "system": "payroll", "stream": "employees", "target": "employee", "key": "PERSNR",
        "fields": {
            "canonical_id": "HUB_ID", "version": "HUB_VERSION", "employee_number": "PERSNR",
            "name.first": {"from": "FULL_NAME", "transforms": [{"split": {"part": 0}}]},
            "name.last": {"from": "FULL_NAME", "transforms": [{"split": {"part": 1}}]},
            "employment.hire_date": {"from": "ENTRY_DATE", "transforms": [{"date": "%d.%m.%Y"}]},
            "salary.amount": {"from": "SALARY", "transforms": [{"number": {"decimal": ","}}]},
            "home_address.street": {"from": ["STREET", "HOUSE"], "transforms": [{"concat": {"separator": ", "}}]},
            "occupational_health_restrictions": "HEALTH",
            "background_check.outcome": "BG_CHECK",
            "litigation_hold.matter_ref": "LEGAL_HOLD",
        },
    })


def _golden() -> pa.Table:
    return pa.table({
        "canonical_id": ["c1", "c2"], "version": pa.array([3, 1], pa.int64()),
        "employee_number": ["E1", "E2"], "name__first": ["Ivan", None], "name__last": ["Petrenko", "Bondar"],
        "employment__hire_date": pa.array([date(2020, 1, 2), None]),
        "salary__amount": pa.array([Decimal("1234.50"), None], pa.decimal128(18, 2)),
        "home_address__street": ["Khreshchatyk, 1", None],
        "occupational_health_restrictions": ["no lifting", None],
        "background_check__outcome": ["clear", "pending"],
        "litigation_hold__matter_ref": ["M-1", None],
    })


@pytest.mark.parametrize("not_policed", [{"employee_number": ["E1"]}, _golden(), _golden().to_batches()[0]])
def test_outbound_refuses_unpoliced_input(not_policed) -> None:
    with pytest.raises(TypeError, match="policy plan"):
        OutboundMapping(_payroll_spec(), "payroll").apply(not_policed)


def _payroll_plan():  # type: ignore[no-untyped-def]
    """The built-in defaults under an agreement: personal and financial data go only where one is in force."""
    agreement = {"id": "payroll-dpa", "destination": "payroll", "purpose": "payroll processing",
                 "legal_basis": "employment contract", "valid_from": "2026-01-01"}
    document = PolicyDocument.model_validate({"name": "payroll", "agreements": [agreement]})
    return compile_plan("employee", "payroll", CompileContext(PolicySet((document,)), today=date(2026, 6, 1)))


def test_outbound_withholds_special_categories_and_reports_counts() -> None:
    policed = _payroll_plan().apply(_golden())
    out = OutboundMapping(_payroll_spec(), "payroll").apply(policed)
    assert not {"HEALTH", "BG_CHECK", "LEGAL_HOLD"} & set(out.schema.names)
    assert policed.withheld == {"occupational_health_restrictions": 1, "background_check.outcome": 2,
                                "litigation_hold.matter_ref": 1}
    assert policed.values_withheld == 4


def test_outbound_reverses_transforms_split_concat_and_hub_columns() -> None:
    policed = _payroll_plan().apply(_golden())
    out = OutboundMapping(_payroll_spec(), "payroll").apply(policed).to_pydict()
    assert out["HUB_ID"] == ["c1", "c2"] and out["HUB_VERSION"] == [3, 1]
    assert out["PERSNR"] == ["E1", "E2"]
    assert out["FULL_NAME"] == ["Ivan Petrenko", "Bondar"]
    assert out["ENTRY_DATE"] == ["02.01.2020", None]
    assert out["SALARY"] == ["1234,50", None]
    assert out["STREET"] == ["Khreshchatyk", None] and out["HOUSE"] == ["1", None]


def test_outbound_of_a_repeating_group_is_refused() -> None:
    spec = MappingSpec.model_validate({"system": "s", "stream": "t", "target": "employee.sick_leave", "key": "id",
                                       "parent_key": "emp", "fields": {"period.start": "S"}})
    with pytest.raises(ValueError, match="repeating group"):
        OutboundMapping(spec, "m")
