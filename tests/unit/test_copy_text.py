"""COPY input built by Arrow: UTC timestamps written as text carry the values Arrow's CSV writer gives them."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pyarrow as pa
import pyarrow.csv as pacsv
from hypothesis import given, settings
from hypothesis import strategies as st

from officehub.arrowsql.copy_text import csv_chunks

_MOMENTS = st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59, 999999))


def _cells(data: bytes) -> list[list[str]]:
    """The values of CSV rows (the batches here hold no empty strings, so an empty field is a NULL)."""
    return list(csv.reader(io.StringIO(data.decode())))


def _arrow_csv(batch: pa.RecordBatch) -> bytes:
    sink = pa.BufferOutputStream()
    pacsv.write_csv(batch, sink, pacsv.WriteOptions(include_header=False, quoting_style="needed"))
    return sink.getvalue().to_pybytes()


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(["s", "ms", "us", "ns"]), st.lists(st.none() | _MOMENTS, max_size=40))
def test_utc_timestamps_are_written_as_arrow_writes_them(unit: str, moments: list[datetime | None]):
    if unit == "ns":  # nanoseconds reach from 1677 to 2262 only
        moments = [m if m is None or 1700 < m.year < 2200 else None for m in moments]
    values = [None if m is None else m.replace(tzinfo=UTC) for m in moments]
    batch = pa.RecordBatch.from_pydict({
        "at": pa.array(values, pa.timestamp(unit, tz="UTC")),
        "label": pa.array([None if m is None else f"a,\"{i}\"" for i, m in enumerate(moments)], pa.string()),
        "naive": pa.array(moments, pa.timestamp(unit)),
    })
    written = b"".join(bytes(chunk) for chunk in csv_chunks(batch, rows_per_chunk=7))
    assert _cells(written) == _cells(_arrow_csv(batch))


def test_other_zones_are_left_to_the_writer():
    moment = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    batch = pa.RecordBatch.from_pydict({"at": pa.array([moment, None], pa.timestamp("us", tz="Europe/Berlin"))})
    assert b"".join(bytes(chunk) for chunk in csv_chunks(batch)) == b"2026-01-02 04:04:05.000000+0100\n\n"
