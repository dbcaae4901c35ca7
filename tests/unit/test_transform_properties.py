"""Every transform, alone and chained, keeps one output per input row whatever the column holds.

Hypothesis feeds columns of every type a connector gives (text with nulls, empty strings,
whitespace, digits, dates, phone-like and code-like values; integers, decimals, booleans,
dates), through each transform alone and through random chains of them inside a mapping.
Each row must come out either mapped or quarantined with a reason, never dropped, shifted
or crashing the batch.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from officehub.mapping import InboundMapping, MappingSpec
from officehub.mapping.transforms import TRANSFORMS, build_transform

#: Each transform with parameters a user would plausibly write (concat needs several sources).
SAMPLES = [
    "trim", "upper", "lower", "title",
    {"null_if": {"values": ["n/a", "-"]}},
    {"date": "%d.%m.%Y"},
    {"datetime": "%Y-%m-%d %H:%M"},
    {"number": {"decimal": ",", "thousands": " "}},
    {"phone": {"region": "UA"}},
    {"lookup": {"values": {"A": "active", "I": "inactive"}}},
    {"lookup": {"values": {"A": "active"}, "default": "unknown"}},
    {"default": "n/a"},
    {"constant": "UAH"},
    {"split": {"part": 1}},
]

TEXT = st.none() | st.sampled_from(
    ["", " ", "\t", "  A ", "i", "n/a", "-", "31.02.2020", "01.02.2020", "2020-01-02 10:30", "1 234,50",
     "12", "+380 44 123 4567", "044 123 45 67", "O'BRIEN", "мар'яна", "Ivan Petrenko", "x\u00a0y"]
) | st.text(max_size=12)

COLUMNS = st.one_of(
    st.lists(TEXT, min_size=1, max_size=30).map(lambda v: pa.array(v, pa.string())),
    st.lists(st.none() | st.integers(-10**12, 10**12), min_size=1, max_size=30).map(lambda v: pa.array(v, pa.int64())),
    st.lists(st.none() | st.decimals(-10**6, 10**6, places=2), min_size=1, max_size=30)
    .map(lambda v: pa.array(v, pa.decimal128(12, 2))),
    st.lists(st.none() | st.booleans(), min_size=1, max_size=30).map(lambda v: pa.array(v, pa.bool_())),
    st.lists(st.none() | st.dates(date(1900, 1, 1), date(2100, 1, 1)), min_size=1, max_size=30)
    .map(lambda v: pa.array(v, pa.date32())),
    st.integers(1, 30).map(lambda n: pa.nulls(n)),
)


def test_every_transform_is_sampled() -> None:
    sampled = {spec if isinstance(spec, str) else next(iter(spec)) for spec in SAMPLES}
    assert sampled | {"concat"} == set(TRANSFORMS)


@pytest.mark.parametrize("spec", SAMPLES, ids=lambda s: s if isinstance(s, str) else next(iter(s)))
@settings(max_examples=40, deadline=None)
@given(values=COLUMNS)
def test_a_transform_gives_one_value_or_one_failure_per_row(spec, values: pa.Array) -> None:
    out, failed = build_transform(spec).inbound(values)
    assert len(out) == len(values)
    if failed is not None:
        assert len(failed) == len(values)
        flags = failed.to_pylist()
        # A row reported as failed carries no value; a missing or empty cell is never a failure.
        assert all(out[i].as_py() is None for i, bad in enumerate(flags) if bad)
        for i, value in enumerate(values.to_pylist()):
            if value is None or (isinstance(value, str) and not value.strip()):
                assert not flags[i], f"row {i} ({value!r}) failed"


CHAINS = st.lists(st.sampled_from(SAMPLES), min_size=1, max_size=4)


@settings(max_examples=150, deadline=None)
@given(chain=CHAINS, first=COLUMNS, second=COLUMNS, concat=st.booleans())
def test_a_chain_in_a_mapping_maps_or_quarantines_every_row(chain, first: pa.Array, second: pa.Array,
                                                             concat: bool) -> None:
    rows = min(len(first), len(second))
    first, second = first.slice(0, rows), second.slice(0, rows)
    field = {"from": ["A", "B"], "transforms": [{"concat": {"separator": " "}}, *chain]} if concat else \
        {"from": "A", "transforms": chain}
    spec = MappingSpec.model_validate({"system": "crm", "stream": "S", "target": "customer", "key": "K",
                                       "fields": {"customer_number": "K", "name.last": field}})
    batch = pa.RecordBatch.from_pydict({"K": [f"k{i}" for i in range(rows)], "A": first, "B": second})
    mapped = InboundMapping(spec, "prop").apply(batch)
    assert sorted([*mapped.rows, *mapped.errors]) == list(range(rows))  # each row once: mapped or quarantined
    assert not set(mapped.rows) & set(mapped.errors)
    assert all(reason.strip() for reason in mapped.errors.values())
    assert mapped.vendor_ids == [f"k{i}" for i in mapped.rows]
    assert all(len(column) == len(mapped.rows) for column in mapped.columns.values())


def test_empty_cells_are_null_for_typed_transforms_not_errors() -> None:
    blank = pa.array(["", "   ", None], pa.string())
    for spec in ({"date": "%d.%m.%Y"}, {"datetime": "%Y-%m-%d %H:%M"}, "number", {"phone": {"region": "UA"}},
                 {"lookup": {"values": {"A": "active"}}}):
        out, failed = build_transform(spec).inbound(blank)
        assert out.to_pylist() == [None, None, None], spec
        assert failed is None or not any(failed.to_pylist()), spec


def test_an_empty_string_for_a_typed_field_without_transform_is_null() -> None:
    spec = MappingSpec.model_validate({"system": "hr", "stream": "E", "target": "employee", "key": "ID",
                                       "fields": {"employee_number": "ID", "name.first": "F", "name.last": "L",
                                                  "birth_date": "BORN"}})
    batch = pa.RecordBatch.from_pydict({"ID": ["1", "2"], "F": ["Ivan", "Olha"], "L": ["Petrenko", "Koval"],
                                        "BORN": ["", "1980-02-03"]})
    mapped = InboundMapping(spec, "hr").apply(batch)
    assert mapped.errors == {}
    assert mapped.columns["birth_date"].to_pylist() == [None, date(1980, 2, 3)]


def test_decimal_columns_keep_their_value_through_number() -> None:
    out, failed = build_transform("number").inbound(pa.array([Decimal("1.50"), None], pa.decimal128(6, 2)))
    assert out.to_pylist() == ["1.50", None] and failed.to_pylist() == [False, None]
