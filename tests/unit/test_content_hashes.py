"""Row hashes built by Arrow equal the per-row hashes the rest of the hub compares them with."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from officehub.store import golden

_COLUMNS = {
    "name": (pa.string(), st.text()),
    "count": (pa.int64(), st.integers(min_value=-2**63, max_value=2**63 - 1)),
    "born": (pa.date32(), st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31))),
    "limit": (pa.decimal128(18, 2), st.decimals(min_value=Decimal("-9999999999999999.99"),
                                                  max_value=Decimal("9999999999999999.99"), places=2)),
    "weight": (pa.decimal128(12, 3), st.decimals(min_value=Decimal("-999999999.999"),
                                                   max_value=Decimal("999999999.999"), places=3)),
    "consent": (pa.bool_(), st.booleans()),
}


@st.composite
def _batches(draw):
    rows = draw(st.integers(min_value=0, max_value=30))
    present = draw(st.lists(st.sampled_from(sorted(_COLUMNS)), unique=True))
    return rows, {name: pa.array(draw(st.lists(st.none() | _COLUMNS[name][1], min_size=rows, max_size=rows)),
                                 _COLUMNS[name][0]) for name in present}


@settings(max_examples=200, deadline=None)
@given(_batches())
def test_arrow_built_hashes_equal_the_per_row_hash_of_the_python_values(batch):
    rows, columns = batch
    names = [*sorted(_COLUMNS), "not_mapped"]
    values = {name: column.to_pylist() for name, column in columns.items()}
    expected = [golden.content_hash_of([values[n][i] if n in values else None for n in names]) for i in range(rows)]
    assert golden.content_hashes(columns, names, rows) == expected


def test_a_column_arrow_writes_differently_from_python_takes_the_per_row_path():
    columns = {"ratio": pa.array([0.1, None, 1e-7]), "name": pa.array(["a", "b", None])}
    expected = [golden.content_hash_of([r, n]) for r, n in zip([0.1, None, 1e-7], ["a", "b", None])]
    assert golden.content_hashes(columns, ["ratio", "name"], 3) == expected
