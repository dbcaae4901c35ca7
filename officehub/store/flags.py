"""Field-level data-quality flags: a value that did not convert, kept beside the record stored without it.

A mapping field with ``on_error: flag`` stores its record with the field empty and the
vendor's text here, so one unparseable phone number no longer costs the whole customer.
There is one flag per (system, record, field): every read of a record replaces its flags
for the fields the mapping flags, so a value the source corrects clears its flag.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from officehub.canonical_model.errors import FieldFlag
from officehub.store import xref
from officehub.store.bookkeeping import now
from officehub.store.schema import hub_metadata
from officehub.store.select import chunks

_FLAG = hub_metadata().tables["field_flag"]


def replace(conn: sa.Connection, *, entity: str, system: str, pipeline: str, fields: Sequence[str],
            vendor_ids: Sequence[str], flags: Sequence[FieldFlag], run_id: int) -> None:
    """Make ``flags`` the flags of ``vendor_ids``' ``fields``: earlier ones of those records and fields go."""
    c = _FLAG.c
    for chunk in chunks(list(set(vendor_ids))):
        conn.execute(sa.delete(_FLAG).where(c.system == system, c.entity == entity, c.field.in_(list(fields)),
                                            c.vendor_id.in_(chunk)))
    if flags:
        at = now()
        conn.execute(sa.insert(_FLAG), [
            {"entity": entity, "system": system, "vendor_id": f.vendor_id, "field": f.field, "pipeline": pipeline,
             "reason": f.reason, "raw": f.raw, "run_id": run_id, "flagged_at": at} for f in flags])


def of_record(conn: sa.Connection, entity: str, canonical_id: str) -> list[dict[str, Any]]:
    """The open flags of every system's copy of one golden record, by system and field."""
    c = _FLAG.c
    copies = [(x["system"], x["vendor_id"]) for x in xref.of_records(conn, [canonical_id]) if x["entity"] == entity]
    if not copies:
        return []
    stmt = (sa.select(c.system, c.vendor_id, c.field, c.reason, c.raw, c.pipeline, c.run_id, c.flagged_at)
            .where(c.entity == entity, sa.tuple_(c.system, c.vendor_id).in_(copies)).order_by(c.system, c.field))
    return [dict(r._mapping) for r in conn.execute(stmt)]


def erase(conn: sa.Connection, entity: str, links: dict[str, str]) -> None:
    """Remove the flags of an erased record's copies (``{system: vendor id}``)."""
    c = _FLAG.c
    for system, vendor_id in links.items():
        conn.execute(sa.delete(_FLAG).where(c.system == system, c.entity == entity, c.vendor_id == vendor_id))
