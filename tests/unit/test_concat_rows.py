"""Concatenating vendor columns keeps one value per row, whatever the rows hold (nulls, empty strings)."""

from __future__ import annotations

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from officehub.mapping import InboundMapping, MappingSpec
from officehub.mapping.compiled import joined

PART = st.none() | st.sampled_from(["", " ", "Khreshchatyk", "12", "кв. 3"])
ROWS = st.integers(1, 40).flatmap(lambda n: st.lists(st.tuples(PART, PART, PART), min_size=n, max_size=n))


def _expected(row: tuple[str | None, ...], separator: str) -> str | None:
    present = [part for part in row if part is not None]
    return separator.join(present) if present else None


@settings(max_examples=150, deadline=None)
@given(ROWS)
def test_joined_gives_one_value_per_row(rows: list[tuple[str | None, ...]]) -> None:
    parts = [pa.array([row[i] for row in rows], pa.string()) for i in range(3)]
    assert joined(parts, ", ").to_pylist() == [_expected(row, ", ") for row in rows]


@settings(max_examples=60, deadline=None)
@given(ROWS)
def test_an_inbound_concat_maps_every_row_even_without_any_part(rows: list[tuple[str | None, ...]]) -> None:
    spec = MappingSpec.model_validate({
        "system": "crm", "stream": "CUST", "target": "customer", "key": "CUSTNO",
        "fields": {"customer_number": "CUSTNO", "name.last": "LNAME",
                   "address.street": {"from": ["STREET", "HOUSE", "FLAT"], "transforms": [{"concat": {"separator": " "}}]}},
    })
    batch = pa.RecordBatch.from_pydict({
        "CUSTNO": list(range(len(rows))), "LNAME": ["Petrenko"] * len(rows),
        "STREET": [r[0] for r in rows], "HOUSE": [r[1] for r in rows], "FLAT": [r[2] for r in rows]})
    mapped = InboundMapping(spec, "crm_customers").apply(batch)
    # A row without any part is a customer without a street, not a reason to shift, drop or reject rows.
    assert mapped.errors == {} and mapped.rows == list(range(len(rows)))
    assert mapped.vendor_ids == [str(i) for i in range(len(rows))]
    streets = [_expected(row, " ") for row in rows]
    assert [s if s and s.strip() else None for s in mapped.columns["address__street"].to_pylist()] == \
        [s if s and s.strip() else None for s in streets]
