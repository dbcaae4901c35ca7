"""Cross-references: (system, entity, vendor id) ↔ canonical id."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import pyarrow as pa
import sqlalchemy as sa

from connectors import WriteMode
from connectors.sql import bulk_write

from officehub.store.schema import hub_metadata

_XREF = hub_metadata().tables["xref"]
#: Namespace of canonical ids derived from a record's first source, so that a
#: re-run after a crash assigns the very same ids as an uninterrupted run.
NAMESPACE = uuid.UUID("5b0c6d1e-9f7a-4c52-8a43-0ff1ce0b0b01")
_CHUNK = 5_000  # well under every database's bound-parameter limit


def first_canonical_id(system: str, entity: str, vendor_id: str) -> str:
    """The canonical id a record gets when ``system`` is the first to supply it."""
    return str(uuid.uuid5(NAMESPACE, f"{system}\x1f{entity}\x1f{vendor_id}"))


def lookup(conn: sa.Connection, system: str, entity: str, vendor_ids: Sequence[str]) -> dict[str, str]:
    """Known canonical ids of ``vendor_ids`` in ``system``."""
    found: dict[str, str] = {}
    unique = list(dict.fromkeys(vendor_ids))
    for start in range(0, len(unique), _CHUNK):
        chunk = unique[start:start + _CHUNK]
        stmt = sa.select(_XREF.c.vendor_id, _XREF.c.canonical_id).where(
            _XREF.c.system == system, _XREF.c.entity == entity, _XREF.c.vendor_id.in_(chunk))
        found.update({row.vendor_id: row.canonical_id for row in conn.execute(stmt)})
    return found


def link_new(conn: sa.Connection, system: str, entity: str, vendor_ids: Sequence[str]) -> dict[str, str]:
    """Create cross-references (and canonical ids) for vendor ids seen for the first time."""
    created = {vid: first_canonical_id(system, entity, vid) for vid in dict.fromkeys(vendor_ids)}
    if created:
        count = len(created)
        batch = pa.RecordBatch.from_pydict({
            "system": pa.array([system] * count, pa.string()), "entity": pa.array([entity] * count, pa.string()),
            "vendor_id": pa.array(list(created), pa.string()),
            "canonical_id": pa.array(list(created.values()), pa.string()),
        })
        bulk_write(conn, _XREF, batch, WriteMode.APPEND, ())
    return created
