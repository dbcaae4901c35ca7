"""Parsed rows → Arrow record batches: typed by the layout where there is one, else as the values came."""

from __future__ import annotations

import json
from typing import Any

import pyarrow as pa

from officehub.connectors.formats.fixed_width import schema as layout_schema
from officehub.connectors.formats.spec import FileStream


def to_batch(rows: list[dict[str, Any]], spec: FileStream) -> pa.RecordBatch:
    """One record batch of ``rows``; columns in the order they first appear."""
    if spec.layout:
        schema = layout_schema(spec)
        return pa.RecordBatch.from_arrays([pa.array([r[f.name] for r in rows], f.type) for f in schema],
                                          schema=schema)
    names = list(dict.fromkeys(name for row in rows for name in row))
    if spec.format == "csv":
        return pa.RecordBatch.from_arrays([pa.array([r.get(n) for r in rows], pa.string()) for n in names],
                                          names=names)
    return pa.RecordBatch.from_arrays([_inferred([r.get(n) for r in rows]) for n in names], names=names)


def _inferred(values: list[Any]) -> pa.Array:
    """A column of JSON scalars as Arrow infers it; text if the rows disagree on its type."""
    try:
        return pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        return pa.array([v if v is None or isinstance(v, str) else json.dumps(v) for v in values], pa.string())
