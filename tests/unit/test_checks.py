"""Vectorised checks derived from the canonical model: reasons name the field, never the value."""

from __future__ import annotations

import re
from datetime import date

import pyarrow as pa
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from officehub.canonical_model import layout
from officehub.canonical_model.checks import CheckResult, compile_checks

EPOCH = date(1970, 1, 1)


def _check(entity: str, columns: dict[str, list], *, collection: str | None = None,
           enforce_required: bool = True) -> CheckResult:
    lay = layout(entity)
    leaves, groups = (lay.collection(collection).fields, lay.collection(collection).groups) if collection \
        else (lay.fields, lay.groups)
    arrays = {k: pa.array(v, pa.string()) for k, v in columns.items()}
    rows = len(next(iter(arrays.values())))
    one_of = () if collection else lay.required_one_of
    return compile_checks(leaves, groups, enforce_required=enforce_required, one_of=one_of).apply(arrays, rows)


def _customer(**columns: list) -> CheckResult:
    n = len(next(iter(columns.values())))
    return _check("customer", {"name__last": ["Petrenko"] * n, **columns})


def _assert_rejected(result: CheckResult, row: int, path: str, bad_value: str) -> None:
    assert row in result.errors, f"row {row} was accepted"
    reason = result.errors[row]
    assert reason.startswith(f"{path}:"), reason
    assert bad_value not in reason


def test_valid_rows_have_no_errors_and_layout_types() -> None:
    result = _check("employee", {
        "employee_number": ["E1"], "name__first": ["Ivan"], "name__last": ["Petrenko"],
        "birth_date": ["1987-02-01"], "contact__email": ["ivan@example.com"], "contact__phone": ["+380441234567"],
        "home_address__country": ["UA"], "employment__hire_date": ["2020-01-02"],
        "salary__amount": ["1234.5"], "salary__currency": ["UAH"], "bank_account_iban": ["GB82WEST12345698765432"],
        "litigation_hold__matter_ref": ["M-1"], "litigation_hold__since": ["2023-05-01"],
        "litigation_hold__active": ["yes"],
    })
    assert result.errors == {}
    lay = layout("employee")
    for column, typed in result.columns.items():
        assert typed.type == next(f.arrow_type for f in lay.fields if f.column == column), column
    assert result.columns["birth_date"].to_pylist() == [date(1987, 2, 1)]
    assert str(result.columns["salary__amount"][0].as_py()) == "1234.50"
    assert result.columns["litigation_hold__active"].to_pylist() == [True]


def test_required_column_absent_or_null() -> None:
    assert _check("employee", {"name__last": ["Petrenko", "Bondar"]}).errors == \
        {0: "employee_number: Field required", 1: "employee_number: Field required"}
    assert _check("employee", {"employee_number": ["E1", "E2"], "name__last": ["Petrenko", None]}).errors == \
        {1: "name: Field required"}
    assert _check("employee", {"employee_number": ["E1"], "name__middle": ["Ivanovych"]}).errors == \
        {0: "name: Value error, a name needs a first or a last name"}


def test_a_customer_needs_a_persons_name_or_an_organisation() -> None:
    result = _check("customer", {"customer_number": ["C1", "C2", "C3", "C4"],
                                 "name__first": [None, "Iryna", None, None],
                                 "name__last": [None, None, "Shevchenko", None],
                                 "organisation__legal_name": [None, None, None, "Фарм-Дистрибуція"]})
    # A first name alone is a name (a system that lost the surname, a person with one name).
    assert result.errors == {0: "needs name or organisation"}


def test_registration_numbers_are_checked_for_their_country_and_stored_compact() -> None:
    result = _check("customer", {
        "organisation__legal_name": ["Фарм", "Аптека", "Sklep", "Acme", "Nordic", "Bez kraju"],
        "organisation__registration_country": ["UA", "UA", "PL", "GB", "NO", None],
        "organisation__registration_number": ["3285 5961", "32855962", "192598184", "01234567", "988 077 917", "1"],
        "organisation__vat_number": ["DE 136,695 976", None, "PL 123", None, None, None]})
    assert result.errors == {
        # Either format would do (a company code, or a sole trader's tax number): both reasons are given.
        1: "organisation.registration_number: not a valid ua.edrpou: The number's checksum or check digit is invalid; "
           "not a valid ua.rntrc: The number has an invalid length",
        2: "organisation.vat_number: Value error, not a valid vatin: The number has an invalid length",
        5: "organisation.registration_number: cannot be checked without organisation.registration_country"}
    # The validators' compact form is what the hub stores; a country without a listed format keeps its value.
    assert result.columns["organisation__registration_number"].to_pylist()[:5] == \
        ["32855961", "32855962", "192598184", "01234567", "988077917"]
    assert result.columns["organisation__vat_number"].to_pylist()[0] == "DE136695976"


def test_an_employee_tax_id_is_checked_for_its_country_without_naming_it() -> None:
    result = _check("employee", {"employee_number": ["E1", "E2", "E3"], "name__last": ["A", "B", "C"],
                                 "tax_id__country": ["UA", "UA", "DE"],
                                 "tax_id__number": ["3046214001", "3046214002", "36574261809"]})
    assert set(result.errors) == {1}
    assert result.errors[1].startswith("tax_id.number: not a valid ua.rntrc")
    assert "3046214002" not in result.errors[1]


def test_required_not_enforced_for_enriching_mappings() -> None:
    assert _check("customer", {"customer_number": ["C1"]}, enforce_required=False).errors == {}


@pytest.mark.parametrize(("value", "path"), [("", "employee_number"), ("E" * 41, "employee_number")])
def test_min_and_max_length(value: str, path: str) -> None:
    result = _check("employee", {"employee_number": ["E1", value], "name__last": ["A", "B"]})
    assert list(result.errors) == [1]
    assert result.errors[1].startswith(f"{path}: String should have at")


def test_pattern() -> None:
    result = _customer(credit_limit__amount=["1", "1"], credit_limit__currency=["UAH", "hryvnia"])
    assert list(result.errors) == [1]
    _assert_rejected(result, 1, "credit_limit.currency", "hryvnia")
    assert "pattern" in result.errors[1]


def test_literal_value_set() -> None:
    result = _customer(segment=["standard", "platinum", None])
    assert list(result.errors) == [1]
    _assert_rejected(result, 1, "segment", "platinum")
    assert "key_account" in result.errors[1]


def test_ge_on_decimal() -> None:
    result = _check("product", {"sku": ["S1", "S2"], "name": ["n", "n"], "weight_kg": ["0", "-1.5"]})
    assert list(result.errors) == [1]
    _assert_rejected(result, 1, "weight_kg", "-1.5")
    assert "greater than or equal to 0" in result.errors[1]


def test_ge_and_type_on_int() -> None:
    result = _check("product", {"warehouse": ["W1", "W2", "W3"], "quantity": ["5", "-3", "lots"]},
                    collection="stock_levels")
    assert set(result.errors) == {1, 2}
    _assert_rejected(result, 1, "quantity", "-3")
    _assert_rejected(result, 2, "quantity", "lots")
    assert result.columns["quantity"].type == pa.int64()
    assert result.columns["quantity"].to_pylist() == [5, -3, None]


@pytest.mark.parametrize(("entity", "columns", "path", "bad"), [
    ("product", {"sku": ["S"], "name": ["n"], "weight_kg": ["1.2345"]}, "weight_kg", "1.2345"),
    ("customer", {"name__last": ["P"], "credit_limit__amount": ["10.999"], "credit_limit__currency": ["UAH"]},
     "credit_limit.amount", "10.999"),
])
def test_decimal_places_overflow(entity: str, columns: dict, path: str, bad: str) -> None:
    result = _check(entity, columns)
    _assert_rejected(result, 0, path, bad)
    assert "decimal places" in result.errors[0]


def test_amount_with_too_many_digits_is_a_row_error_not_a_crash() -> None:
    result = _customer(credit_limit__amount=["1", "12345678901234567.8"], credit_limit__currency=["UAH", "UAH"])
    assert list(result.errors) == [1]
    _assert_rejected(result, 1, "credit_limit.amount", "12345678901234567.8")


@pytest.mark.parametrize("bad", ["31.02.1987", "1987/02/01", "yesterday", "1987-13-01"])
def test_unparseable_dates(bad: str) -> None:
    result = _customer(birth_date=["1987-02-01", bad])
    assert list(result.errors) == [1]
    _assert_rejected(result, 1, "birth_date", bad)


@pytest.mark.parametrize("bad", ["2021-02-29", "2024-04-31"])
def test_impossible_calendar_day_is_rejected(bad: str) -> None:
    result = _customer(birth_date=[bad])
    _assert_rejected(result, 0, "birth_date", bad)


def test_year_zero_is_rejected_not_a_crash() -> None:
    result = _check("employee", {"period__start": ["0000-01-01"], "period__end": [None]}, collection="sick_leave")
    _assert_rejected(result, 0, "period.start", "0000-01-01")


def test_required_when_container_present() -> None:
    result = _customer(credit_limit__amount=["100", "100", None], credit_limit__currency=["UAH", None, None])
    assert result.errors == {1: "credit_limit.currency: Field required when credit_limit is given"}


def test_required_within_also_applies_without_enforce_required() -> None:
    result = _check("employee", {"background_check__outcome": [None, "clear"],
                                 "background_check__checked_on": ["2020-01-01", None]}, enforce_required=False)
    assert result.errors == {
        0: "background_check.outcome: Field required when background_check is given",
        1: "background_check.checked_on: Field required when background_check is given",
    }


def test_group_validator_period_end_before_start() -> None:
    result = _check("employee", {"period__start": ["2024-03-10", "2024-03-10", None],
                                 "period__end": ["2024-03-12", "2024-03-01", None]}, collection="sick_leave")
    assert result.errors == {1: "period: Value error, period ends before it starts", 2: "period.start: Field required"}
    assert "2024-03" not in result.errors[1]


@pytest.mark.parametrize(("entity", "column", "path", "bad"), [
    ("customer", "contact__email", "contact.email", "ivan.petrenko@@example.com"),
    ("customer", "contact__email", "contact.email", "ivan.petrenko@secretcorp"),
    ("customer", "address__country", "address.country", "XQ"),
    ("employee", "bank_account_iban", "bank_account_iban", "GB82WEST12345698765433"),
    ("product", "gtin", "gtin", "4006381333932"),
])
def test_python_validated_fields(entity: str, column: str, path: str, bad: str) -> None:
    base = {"customer": {"name__last": ["P", "P"]}, "employee": {"employee_number": ["E", "E"], "name__last": ["P", "P"]},
            "product": {"sku": ["S", "S"], "name": ["n", "n"]}}[entity]
    good = {"contact__email": "ivan@example.com", "address__country": "UA",
            "bank_account_iban": "GB82WEST12345698765432", "gtin": "4006381333931"}[column]
    result = _check(entity, {**base, column: [good, bad]})
    assert list(result.errors) == [1]
    _assert_rejected(result, 1, path, bad)


# --- dates: what the vectorised check accepts versus strict ISO (YYYY-MM-DD, the form pydantic reads) ---

_STRICT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _strict_iso(text: str) -> date | None:
    stripped = text.strip(" \t")
    if not _STRICT.fullmatch(stripped):
        return None
    try:
        return date.fromisoformat(stripped)
    except ValueError:
        return None


def _birth_date(text: str) -> tuple[bool, int | None]:
    result = _customer(birth_date=[text])
    return 0 not in result.errors, result.columns["birth_date"].cast(pa.int32())[0].as_py()


_date_texts = st.one_of(
    st.dates().map(date.isoformat),
    st.from_regex(r"\A[0-9]{1,5}-[0-9]{1,2}-[0-9]{1,2}\Z"),
    st.text(alphabet="0123456789-T:./x ", max_size=14),
)


@settings(deadline=None, max_examples=150)
@given(day=st.dates(min_value=date(1, 1, 1)), pad=st.sampled_from(["", " ", "\t", "  "]))
def test_property_every_strict_iso_date_is_accepted_as_that_day(day: date, pad: str) -> None:
    assert _birth_date(f"{pad}{day.isoformat()}{pad}") == (True, (day - EPOCH).days)


@settings(deadline=None, max_examples=200)
@given(text=st.text(alphabet="0123456789T:./x +", max_size=14))
def test_property_text_without_dashes_is_never_a_date(text: str) -> None:
    # Blank text is an empty cell: null, never an error; anything else without dashes is refused.
    assert _birth_date(text) == ((True, None) if not text.strip() else (False, None))


@settings(deadline=None, max_examples=200)
@given(text=_date_texts)
@example("2021-02-29")
@example("2020-1-5")
@example("20-01-05")
@example("0000-01-01")
def test_property_row_rejected_iff_not_strict_iso(text: str) -> None:
    expected = _strict_iso(text)
    accepted, days = _birth_date(text)
    if not text.strip():  # an empty cell is null, not a bad date
        assert (accepted, days) == (True, None)
        return
    assert accepted is (expected is not None)
    if expected is not None:
        assert days == (expected - EPOCH).days


def _with_check_digits(country: str, bban: str) -> str:
    numeric = "".join(str(int(ch, 36)) for ch in bban + country + "00")
    return f"{country}{98 - int(numeric) % 97:02d}{bban}"


def test_an_iban_is_checked_for_its_countrys_length_not_only_its_check_digits() -> None:
    short_ua = _with_check_digits("UA", "322313" + "0000026007233566")   # 26 characters; UA IBANs have 29
    result = _check("employee", {"employee_number": ["E1", "E2"], "name__last": ["A", "B"],
                                 "bank_account_iban": [_with_check_digits("UA", "322313" + "0000026007233566001"),
                                                       short_ua]})
    assert result.errors == {1: "bank_account_iban: Value error, wrong length for its country's IBANs"}


def test_a_declared_subdivision_is_an_iso_3166_2_code() -> None:
    from officehub.canonical_model.declaration import ModelFile
    from officehub.canonical_model.declared import build_entities, merge
    from officehub.canonical_model.layout import layout_of

    model = build_entities(merge([ModelFile.model_validate({"entities": {"site": {"fields": {
        "region": {"type": "subdivision", "class": "public"}}}}})]))["site"]
    lay = layout_of(model)
    result = compile_checks(lay.fields, lay.groups, enforce_required=True).apply(
        {"region": pa.array(["UA-30", "UA-99", "DE-BY"])}, 3)
    assert result.errors == {1: "region: Value error, not an ISO 3166-2 subdivision code"}
    assert "known ISO 3166-2 subdivision" in lay.field("region").rules
