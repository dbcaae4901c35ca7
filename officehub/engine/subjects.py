"""Data-subject requests (GDPR Art. 15 and 17): find a person, export what the hub holds, erase it.

A person may be a customer and an employee at once: ``find`` searches every
entity that holds people and returns each golden record with the systems and
vendor ids that hold it. ``export`` gathers everything the hub holds about one
record, with field lineage. ``erase`` deletes the record in every system that
supports deletes (through the same publish pipelines and connectors as a sync),
then removes its values from the hub, leaving a tombstone; a legal hold stops
all of it and the report says why.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

import pyarrow as pa
import sqlalchemy as sa

from officehub.canonical_model import ENTITIES, Sensitivity, layout
from officehub.canonical_model.errors import FatalError, NotFound, OfficehubError
from officehub.config import Project
from officehub.connectors import WriteMode
from officehub.connectors.jsonable import jsonable
from officehub.engine.context import RunContext
from officehub.engine.ingest import writer_for
from officehub.engine.publish import Publish
from officehub.identity import field_groups, normalise_phone
from officehub.identity.holds import legal_holds
from officehub.store import audit, flags, golden, matches, sources, xref
from officehub.store.bookkeeping import now
from officehub.store.hub import HubStore
from officehub.store.schema import TABLES, child_table_name, history_table_name

_T = TABLES
#: Entities that hold people (the subjects of data-subject requests).
PERSON_ENTITIES = ("customer", "employee")
_GONE_FOR_SEARCH = ("erased", "purged", "merged")


@dataclass
class Hit:
    """A golden record that may be the person asked about."""

    entity: str
    canonical_id: str
    name: str
    status: str
    holders: list[tuple[str, str]]  # (system, vendor id)


def find(conn: sa.Connection, query: str) -> list[Hit]:
    """Golden records matching an id, vendor id, e-mail, phone number or part of a name (people), or an
    id, vendor id or whole text value (a project's own entities)."""
    text = query.strip()
    if not text:
        raise FatalError("say what to look for: an e-mail, phone number, name, canonical id or vendor id")
    by_vendor = {x.canonical_id for x in conn.execute(sa.select(_T["xref"].c.canonical_id)
                                                      .where(_T["xref"].c.vendor_id == text))}
    for entity in ENTITIES:  # sole-form records keep their system's id on the golden row (ADR 0018)
        by_vendor |= set(conn.execute(sa.select(_T[entity].c.canonical_id)
                                      .where(_T[entity].c.sole_vendor_id == text)).scalars())
    hits: list[Hit] = []
    for entity in PERSON_ENTITIES:
        t = _T[entity]
        conditions = [t.c.canonical_id == text, sa.func.lower(t.c.contact__email) == text.lower(),
                      *(_joined(t, names).contains(text.lower(), autoescape=True) for names in _NAME_FORMS),
                      *_identifier_conditions(t, text)]
        if (phone := normalise_phone(text)) and len(phone) >= 7:
            conditions.append(t.c.contact__phone == phone)
        if by_vendor:
            conditions.append(t.c.canonical_id.in_(by_vendor))
        legal_name = t.c.get("organisation__legal_name")
        stmt = (sa.select(t.c.canonical_id, t.c.name__first, t.c.name__last, t.c.status,
                          legal_name if legal_name is not None else sa.null())
                .where(sa.or_(*conditions), t.c.status.not_in(_GONE_FOR_SEARCH)).order_by(t.c.name__last).limit(200))
        for row in conn.execute(stmt):
            name = f"{row.name__first or ''} {row.name__last or ''}".strip() or str(row[4] or "")
            hits.append(Hit(entity, row.canonical_id, name, row.status, []))
    for entity in ENTITIES:
        if entity not in PERSON_ENTITIES and entity != "product":
            hits += _find_declared(conn, entity, text, by_vendor)
    holders: dict[str, list[tuple[str, str]]] = {}
    for link in xref.of_records(conn, [h.canonical_id for h in hits]):
        if link["erased_at"] is None:
            holders.setdefault(link["canonical_id"], []).append((link["system"], link["vendor_id"]))
    for hit in hits:
        hit.holders = holders.get(hit.canonical_id, [])
    return hits


#: How people are searched by name: first and last, and with the middle name or patronymic.
_NAME_FORMS = (("name__first", "name__last"), ("name__first", "name__middle", "name__last"))
#: Identifiers a person may give to be found by (a sole trader's registration is their tax number).
_IDENTIFIERS = ("organisation__registration_number", "organisation__vat_number", "tax_id__number")


def _joined(table: sa.Table, columns: tuple[str, ...]) -> sa.ColumnElement[str]:
    """The lower-cased words of ``columns`` joined by spaces (an absent word is empty)."""
    parts: list[sa.ColumnElement[str]] = [sa.func.coalesce(table.c[c], "") for c in columns if c in table.c]
    joined = parts[0]
    for part in parts[1:]:
        joined = joined + " " + part
    return sa.func.lower(joined)


def _identifier_conditions(table: sa.Table, text: str) -> list[sa.ColumnElement[bool]]:
    """An identifier equal to ``text`` in its stored compact form, or a legal name containing it."""
    compact = "".join(text.split()).replace("-", "").upper()
    found = [table.c[c] == compact for c in _IDENTIFIERS if c in table.c]
    if "organisation__legal_name" in table.c:
        found.append(sa.func.lower(table.c.organisation__legal_name).contains(text.lower(), autoescape=True))
    return found


def _find_declared(conn: sa.Connection, entity: str, text: str, by_vendor: set[str]) -> list[Hit]:
    """Records of a project's own entity (a supplier, a contractor) by id, vendor id or any text field's value.

    Declared entities have no fixed name or contact fields, so every text column is compared
    whole (case-insensitive): an identifier such as a registration or tax number finds its record.
    """
    t = _T[entity]
    texts = [leaf for leaf in layout(entity).fields if pa.types.is_string(leaf.arrow_type)]
    conditions = [t.c.canonical_id == text, *(sa.func.lower(t.c[leaf.column]) == text.lower() for leaf in texts)]
    if by_vendor:
        conditions.append(t.c.canonical_id.in_(by_vendor))
    named = next((leaf for leaf in texts if leaf.required), texts[0] if texts else None)
    stmt = (sa.select(t.c.canonical_id, t.c.status, *([t.c[named.column]] if named else []))
            .where(sa.or_(*conditions), t.c.status.not_in(_GONE_FOR_SEARCH)).limit(200))
    return [Hit(entity, row.canonical_id, str(row[2] or "") if named else "", row.status, [])
            for row in conn.execute(stmt)]


def locate(conn: sa.Connection, canonical_id: str) -> tuple[str, dict[str, Any]]:
    """The entity and golden row of ``canonical_id`` (built-in or declared)."""
    for entity in ENTITIES:
        row = golden.fetch(conn, entity, "canonical_id", [canonical_id]).get(canonical_id)
        if row is not None:
            return entity, row
    raise NotFound(f"no record {canonical_id} in the hub (find it with `officehub subject find`)")


# -- lineage and export -----------------------------------------------------------------------------
def versions(conn: sa.Connection, entity: str, canonical_id: str, current: dict[str, Any]) -> list[dict[str, Any]]:
    """Every version of a golden record, oldest first, ending with ``current`` (its row as it is now)."""
    history = _T[history_table_name(entity)]
    rows = [dict(r._mapping) for r in conn.execute(
        sa.select(history).where(history.c.canonical_id == canonical_id).order_by(history.c.version))]
    return [*rows, current]


def _supplier(version: dict[str, Any], group: str, links: dict[str, str]) -> tuple[str | None, str | None]:
    """(system, vendor id) that supplied ``group`` in ``version``."""
    if version.get("lineage"):
        found = json.loads(version["lineage"]).get("fields", {}).get(group)
        if found:
            return found[0], found[1]
    system = (version.get("changed_by") or "").split(" ", 1)[0] or None
    return system, links.get(system) if system else None


def lineage(conn: sa.Connection, entity: str, canonical_id: str, current: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """For every field with a value: the system, vendor id and run that supplied it, and since when."""
    found = versions(conn, entity, canonical_id, current)
    links = {x["system"]: x["vendor_id"] for x in xref.of_records(conn, [canonical_id])}
    out: dict[str, dict[str, Any]] = {}
    for group, columns in field_groups(entity).items():
        if all(current.get(c) is None for c in columns):
            continue
        since = found[-1]
        for older in reversed(found[:-1]):
            if any(older.get(c) != current.get(c) for c in columns):
                break
            since = older
        system, vendor_id = _supplier(since, group, links)
        out[group] = {"system": system, "vendor_id": vendor_id, "run_id": since.get("run_id"),
                      "since": since.get("updated_at"), "version": since.get("version")}
    return out


#: What an export shows in place of a medical, criminal or legal value unless it is revealed.
WITHHELD = "<withheld>"


def _withheld(sensitivity: Sensitivity | None) -> bool:
    """Whether an export withholds a value of this class unless revealed (an unclassified one too: fail closed)."""
    return sensitivity is None or sensitivity.is_special_category


def _special_columns(entity: str) -> frozenset[str]:
    return frozenset(leaf.column for leaf in layout(entity).fields if _withheld(leaf.sensitivity))


def _values(entity: str, row: dict[str, Any], reveal: bool = True) -> dict[str, Any]:
    hidden = frozenset() if reveal else _special_columns(entity)
    return {c: WITHHELD if c in hidden else jsonable(row.get(c))
            for c in golden.entity_columns(entity) if row.get(c) is not None}


def _collection_rows(conn: sa.Connection, entity: str, coll: str, canonical_id: str,
                     reveal: bool) -> list[dict[str, Any]]:
    group = next(c for c in layout(entity).collections if c.name == coll)
    hidden = frozenset() if reveal else {f.column for f in group.fields if _withheld(f.sensitivity)}
    table = _T[child_table_name(entity, coll)]
    return [{k: WITHHELD if k in hidden and v is not None else jsonable(v)
             for k, v in dict(r._mapping).items() if k not in ("id", "content_hash")}
            for r in conn.execute(sa.select(table).where(table.c.canonical_id == canonical_id))]


def export(conn: sa.Connection, canonical_id: str, reveal: bool = False) -> dict[str, Any]:
    """Everything the hub holds about one record, JSON-ready.

    Medical, criminal and legal values read ``<withheld>`` unless ``reveal``: an export is
    often read by more people than the request needs, so those values leave only on purpose.
    """
    entity, row = locate(conn, canonical_id)
    children = {coll: _collection_rows(conn, entity, coll, canonical_id, reveal)
                for coll in golden.collections(entity)}
    source_rows = sources.copies_of(conn, entity, row)
    return {
        "entity": entity, "canonical_id": canonical_id, "status": row["status"], "version": row["version"],
        "updated_at": jsonable(row["updated_at"]), "record": _values(entity, row, reveal),
        "lineage": {k: {kk: jsonable(vv) for kk, vv in v.items()} for k, v in lineage(conn, entity, canonical_id, row).items()},
        "held_by": legal_holds(entity, row),
        "systems": [{"system": x["system"], "vendor_id": x["vendor_id"], "linked_by": x["linked_by"],
                     "linked_at": jsonable(x["created_at"]), "erased_at": jsonable(x["erased_at"])}
                    for x in xref.of_records(conn, [canonical_id])],
        "sources": [{"system": s["system"], "vendor_id": s["vendor_id"], "changed_at": jsonable(s["changed_at"]),
                     "deleted_at": jsonable(s["deleted_at"]), "values": _values(entity, s, reveal)}
                    for s in source_rows],
        "collections": children,
        "history": [{"version": v["version"], "updated_at": jsonable(v["updated_at"]), "status": v["status"],
                     "changed_by": v["changed_by"], "run_id": v["run_id"], "values": _values(entity, v, reveal)}
                    for v in versions(conn, entity, canonical_id, row)[:-1]],
        "merges": [{k: jsonable(v) for k, v in e.items()} for e in matches.link_entries(conn, canonical_id)],
        "flags": [{**{k: jsonable(v) for k, v in f.items()},
                   "raw": WITHHELD if f["raw"] is not None and not reveal and
                   f["field"].replace(".", "__") in _special_columns(entity) else f["raw"]}
                  for f in flags.of_record(conn, entity, canonical_id)],
    }


# -- erasure --------------------------------------------------------------------------------------------
@dataclass
class ErasureLine:
    """What happened in one place that held the record."""

    system: str
    vendor_id: str | None
    outcome: str  # deleted | kept (legal hold) | not supported | failed | erased (the hub)
    detail: str = ""


@dataclass
class ErasureReport:
    """The answer to an erasure request, for the compliance officer."""

    entity: str
    canonical_id: str
    erased: bool
    held_by: list[str]
    lines: list[ErasureLine] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (ids and outcomes only: no record values)."""
        return {**asdict(self), "lines": [asdict(line) for line in self.lines]}


def erase(project: Project, store: HubStore, canonical_id: str, actor: str, dry_run: bool = False) -> ErasureReport:
    """Erase a record everywhere that supports deletes, unless a legal hold applies."""
    with store.begin() as conn:
        entity, row = locate(conn, canonical_id)
        links = {x["system"]: x["vendor_id"] for x in xref.of_records(conn, [canonical_id]) if x["erased_at"] is None}
        as_published = golden.records(conn, entity, [canonical_id])
    if row["status"] in ("erased", "purged"):
        raise FatalError(f"{entity} {canonical_id} was already {row['status']}")
    holds = legal_holds(entity, row)
    report = ErasureReport(entity, canonical_id, erased=False, held_by=holds)
    if holds:
        report.lines = [ErasureLine(s, v, "kept (legal hold)", "; ".join(holds)) for s, v in sorted(links.items())]
        report.lines.append(ErasureLine("hub", canonical_id, "kept (legal hold)", "; ".join(holds)))
    else:
        report.lines = _erase_in_systems(project, store, entity, as_published, links, dry_run)
        report.erased = not dry_run
        report.lines.append(ErasureLine("hub", canonical_id, "would erase" if dry_run else "erased",
                                        "values, history, source copies and repeating groups removed; "
                                        "a tombstone keeps the ids so the record is never taken in again"))
    if dry_run:
        return report
    with store.begin() as conn:
        if report.erased:
            writer = writer_for(project, entity)
            writer.tombstone(RunContext(conn, actor), [canonical_id], "erased")
            xref.mark_erased(conn, entity, canonical_id, now())
            flags.erase(conn, entity, links)
            matches.obsolete_reviews(conn, [canonical_id])
        audit.append(conn, actor=actor, action="subject.erase" if report.erased else "subject.erase.refused",
                     subject=f"{entity} {canonical_id}", detail=report.as_dict())
    return report


def _erase_in_systems(project: Project, store: HubStore, entity: str, record: pa.Table,
                      links: dict[str, str], dry_run: bool) -> list[ErasureLine]:
    canonical_id = record.column("canonical_id")[0].as_py()
    lines: list[ErasureLine] = []
    served: set[str] = set()
    for name, pipeline in project.config.pipelines.items():
        spec = project.config.mappings[pipeline.mapping]
        if pipeline.kind != "publish" or spec.target != entity:
            continue
        system = spec.system
        served.add(system)
        step = Publish(project, store, name, pipeline)
        vendor_id = links.get(system) if step.by_vendor_id else canonical_id
        if step.by_vendor_id and vendor_id is None:
            continue  # the system never received this record
        if pipeline.write_mode is WriteMode.APPEND:
            lines.append(ErasureLine(system, vendor_id, "not supported",
                                     f"{system} takes file drops (pipeline {name}); remove the person from "
                                     "files already delivered by hand"))
            continue
        if dry_run:
            lines.append(ErasureLine(system, vendor_id, "would delete", f"pipeline {name}"))
            continue
        try:
            with project.connector(system) as destination:
                sent = step.delete_records(destination, record, f"erase-{canonical_id}", strict=True)
            lines.append(ErasureLine(system, vendor_id, "deleted", f"pipeline {name}") if sent else
                         ErasureLine(system, vendor_id, "not supported", f"pipeline {name} cannot key a delete"))
        except OfficehubError as exc:
            lines.append(ErasureLine(system, vendor_id, "failed", exc.describe()))
    for system, vendor_id in sorted(links.items()):
        if system not in served:
            lines.append(ErasureLine(system, vendor_id, "not supported",
                                     f"officehub only reads from {system}; delete {vendor_id} there by hand"))
    return lines
