"""JSON records ↔ Arrow batches: picking the record list out of a body, flattening, typing.

Nested objects become columns named with the separator (``address.city``), so a
mapping can address them like any other column and a write can rebuild them. Lists
are kept as JSON text: they have no fixed width to flatten into.
"""

from __future__ import annotations

import json
from typing import Any

import pyarrow as pa

from officehub.connectors.jsonable import json_default

_MISSING = object()


def dig(body: Any, path: str, missing: Any = _MISSING) -> Any:
    """The value at a dotted ``path`` in a JSON body ('' is the body); KeyError if absent."""
    node = body
    for part in filter(None, path.split(".")):
        if not isinstance(node, dict) or part not in node:
            if missing is _MISSING:
                raise KeyError(path)
            return missing
        node = node[part]
    return node


def flatten(record: dict[str, Any], separator: str) -> dict[str, Any]:
    """A JSON object as one flat row: nested objects joined by ``separator``, lists as JSON text."""
    row: dict[str, Any] = {}
    for name, value in record.items():
        if isinstance(value, dict) and value:
            row.update({f"{name}{separator}{k}": v for k, v in flatten(value, separator).items()})
        elif isinstance(value, (dict, list)):
            row[name] = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        else:
            row[name] = value
    return row


def unflatten(row: dict[str, Any], separator: str) -> dict[str, Any]:
    """A flat row back as a nested JSON object (the inverse of ``flatten`` for objects)."""
    record: dict[str, Any] = {}
    for name, value in row.items():
        *parents, leaf = name.split(separator)
        node = record
        for part in parents:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ValueError(f"column {name} nests under column {part}, which is not an object")
        node[leaf] = value
    return record


def _column(values: list[Any]) -> pa.Array:
    try:
        array = pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        # A field whose JSON type varies between records (1 here, "1" there), or a whole number
        # past 64 bits (a 20-digit vendor id), becomes text, which every mapping transform accepts.
        array = pa.array([None if v is None else _text(v) for v in values], pa.string())
    return array.cast(pa.string()) if pa.types.is_null(array.type) else array


def _text(value: Any) -> str:
    return json.dumps(value) if isinstance(value, bool) else str(value)


def to_batch(rows: list[dict[str, Any]]) -> pa.RecordBatch:
    """A record batch from flat rows; a field absent from a row is null there."""
    names = list(dict.fromkeys(name for row in rows for name in row))
    if not names:
        return pa.RecordBatch.from_pylist([])
    return pa.RecordBatch.from_arrays([_column([row.get(n) for row in rows]) for n in names], names=names)


def type_name(arrow_type: pa.DataType) -> str:
    """A short, portable type name for ``discover`` (the same words the SQL connector uses)."""
    if pa.types.is_boolean(arrow_type):
        return "bool"
    if pa.types.is_integer(arrow_type):
        return "int64"
    if pa.types.is_floating(arrow_type):
        return "float64"
    return "string"


def to_json(payload: Any) -> bytes:
    """A request body: UTF-8 JSON, with batch values made JSON-able."""
    return json.dumps(payload, default=json_default, ensure_ascii=False, separators=(",", ":")).encode()
