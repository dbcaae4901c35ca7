"""Named mapping transforms: column in, column plus failure mask out, and back again."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from pydantic import ValidationError

from officehub.mapping import build_transform


def _inbound(spec, values: list, type_: pa.DataType | None = None) -> tuple[list, list[bool]]:
    out, failed = build_transform(spec).inbound(pa.array(values, type_))
    mask = [False] * len(values) if failed is None else pc.fill_null(failed, False).to_pylist()
    return out.to_pylist(), mask


@pytest.mark.parametrize(("spec", "sample"), [
    ("trim", " a "), ("upper", "a"), ("lower", "A"), ("title", "IVAN"),
    ({"null_if": ["n/a"]}, "x"), ({"date": "%d.%m.%Y"}, "01.02.1987"),
    ({"datetime": "%Y-%m-%d %H:%M"}, "2024-01-02 03:04"), ({"number": {"thousands": "."}}, "1.234,5"),
    ({"phone": {"region": "UA"}}, "(044) 123-45-67"), ({"lookup": {"values": {"A": "a"}}}, "A"),
    ({"lookup": {"values": {"A": "a"}, "default": "z"}}, "Q"), ({"constant": "UAH"}, "12"),
    ({"split": {"part": 1}}, "Ivan Petrenko"),
])
def test_nulls_stay_null_and_never_fail(spec, sample: str) -> None:
    out, mask = _inbound(spec, [None, sample, None])
    assert out[0] is None and out[2] is None
    assert out[1] is not None
    assert mask == [False, False, False]


def test_trim_blank_becomes_null() -> None:
    assert _inbound("trim", ["  a ", "   ", "b"]) == (["a", None, "b"], [False] * 3)


def test_case_transforms() -> None:
    assert _inbound("upper", ["aé"])[0] == ["AÉ"]
    assert _inbound("lower", ["AB"])[0] == ["ab"]
    assert _inbound("title", ["IVAN PETRENKO"])[0] == ["Ivan Petrenko"]
    assert build_transform("upper").outbound(pa.array(["x"])).to_pylist() == ["X"]


def test_null_if_ignores_case_and_whitespace() -> None:
    assert _inbound({"null_if": {"values": ["n/a", "-"]}}, [" N/A ", "-", "x"])[0] == [None, None, "x"]


def test_date_parses_and_flags_bad_rows() -> None:
    out, mask = _inbound({"date": "%d.%m.%Y"}, ["01.02.1987", "garbage", " 05.06.2001 ", "31.02.1987"])
    assert out == [date(1987, 2, 1), None, date(2001, 6, 5), None]
    assert mask == [False, True, False, True]


def test_date_round_trips_through_outbound() -> None:
    transform = build_transform({"date": "%d.%m.%Y"})
    text = pa.array(["01.02.1987", None, "29.02.2024"])
    parsed, _ = transform.inbound(text)
    assert transform.outbound(parsed).to_pylist() == text.to_pylist()
    assert transform.outbound(pa.array(["2024-02-29"])).to_pylist() == ["29.02.2024"]


@pytest.mark.parametrize(("fmt", "text", "expected"), [
    ("%d.%m.%Y", "1.2.1987", date(1987, 2, 1)), ("%d %b %Y", "05 JUN 2001", date(2001, 6, 5)),
])
def test_date_accepts_what_the_format_reads(fmt: str, text: str, expected: date) -> None:
    assert _inbound({"date": fmt}, [text]) == ([expected], [False])


def test_datetime_is_utc_and_round_trips() -> None:
    transform = build_transform({"datetime": "%Y-%m-%d %H:%M"})
    out, failed = transform.inbound(pa.array(["2024-01-02 03:04", "later"]))
    assert out[0].as_py() == datetime(2024, 1, 2, 3, 4, tzinfo=UTC)
    assert failed.to_pylist() == [False, True]
    assert transform.outbound(out).to_pylist() == ["2024-01-02 03:04", None]


def test_datetime_rejects_impossible_day() -> None:
    assert _inbound({"datetime": "%Y-%m-%d %H:%M"}, ["2024-02-30 03:04"]) == ([None], [True])


def test_number_decimal_comma_and_thousands_round_trip() -> None:
    transform = build_transform({"number": {"decimal": ",", "thousands": "."}})
    out, failed = transform.inbound(pa.array(["1.234,56", "-3,5", "12", "abc", "1,2,3", None]))
    assert out.to_pylist() == ["1234.56", "-3.5", "12", None, None, None]
    assert pc.fill_null(failed, False).to_pylist() == [False, False, False, True, True, False]
    back = transform.outbound(pa.array(["1234.56", "-3.5"]))
    assert back.to_pylist() == ["1234,56", "-3,5"]
    assert transform.inbound(back)[0].to_pylist() == ["1234.56", "-3.5"]


def test_phone_national_number_to_e164() -> None:
    out, mask = _inbound({"phone": {"region": "UA"}}, ["(044) 123-45-67", "n/a", "+380441234567", "n/a"])
    assert out == ["+380441234567", None, "+380441234567", None]
    assert mask == [False, True, False, True]


def test_lookup_is_case_insensitive_and_rejects_unknown_codes() -> None:
    spec = {"lookup": {"values": {"A": "key_account", "B": "standard"}}}
    assert _inbound(spec, ["a", " B ", "Z"]) == (["key_account", "standard", None], [False, False, True])


def test_lookup_case_sensitive_on_request() -> None:
    spec = {"lookup": {"values": {"A": "key_account"}, "case_sensitive": True}}
    assert _inbound(spec, ["a", "A"]) == ([None, "key_account"], [True, False])


def test_lookup_default_absorbs_unknown_codes() -> None:
    spec = {"lookup": {"values": {"A": "key_account"}, "default": "standard"}}
    assert _inbound(spec, ["a", "Z", None]) == (["key_account", "standard", None], [False, False, False])


def test_lookup_outbound_reverses() -> None:
    transform = build_transform({"lookup": {"values": {"A": "key_account", "B": "standard"}}})
    assert transform.outbound(pa.array(["standard", "key_account", None])).to_pylist() == ["B", "A", None]


def test_lookup_values_must_be_unique() -> None:
    with pytest.raises(ValidationError, match="cannot be reversed"):
        build_transform({"lookup": {"values": {"A": "same", "B": "same"}}})


def test_default_and_constant() -> None:
    assert _inbound({"default": "x"}, ["a", None])[0] == ["a", "x"]
    assert _inbound({"default": 5}, [1, None])[0] == [1, 5]
    assert _inbound({"constant": "UAH"}, ["12", None, "0"])[0] == ["UAH", None, "UAH"]


def test_split_parts() -> None:
    names = ["Ivan Petrenko", "Cher", "Anna Maria Kovalenko"]
    assert _inbound({"split": {"part": 0}}, names)[0] == ["Ivan", "Cher", "Anna"]
    assert _inbound({"split": {"part": 1}}, names)[0] == ["Petrenko", None, "Maria Kovalenko"]
    assert _inbound({"split": {"part": 1, "separator": ";"}}, ["a;b"])[0] == ["b"]


def test_build_transform_shorthand_equals_full_form() -> None:
    short = build_transform({"date": "%d.%m.%Y"})
    full = build_transform({"date": {"format": "%d.%m.%Y"}})
    assert type(short) is type(full) and short.params == full.params


def test_unknown_transform_lists_the_known_ones() -> None:
    with pytest.raises(ValueError, match=r"unknown transform 'trimm' \(known: .*trim"):
        build_transform("trimm")


@pytest.mark.parametrize(("spec", "match"), [
    ({"trim": "x"}, "takes no parameters"),
    ({"date": {"fmt": "%d"}}, "format"),
    ({"phone": {"region": "ukraine"}}, "region"),
    ({"split": {"part": -1}}, "part"),
    ({"number": {"decimal": ",,"}}, "decimal"),
    ({"null_if": {"values": []}}, "values"),
    ({"date": "%d", "trim": None}, "one-key mapping"),
    (5, "one-key mapping"),
])
def test_bad_params_are_value_errors_naming_the_problem(spec, match: str) -> None:
    with pytest.raises(ValueError, match=match):  # pydantic's ValidationError is a ValueError
        build_transform(spec)


def test_title_keeps_a_capital_after_a_one_letter_prefix_only():
    from officehub.mapping.transforms import build_transform

    titled, failed = build_transform("title").inbound(
        pa.array(["МАРʼЯНА", "o'brien", "d'ARTAGNAN", "jean-luc", "МАР'ЯНА-ОЛЕНА", None]))
    assert failed is None
    assert titled.to_pylist() == ["Марʼяна", "O'Brien", "D'Artagnan", "Jean-Luc", "Мар'яна-Олена", None]
