"""Identity commands: the match review queue, a steward's merges and unlinks, and golden records.

``match`` works the review queue and the link log; every merge or unlink prints its
link-log number so it can be undone. ``record`` shows one golden record with where
each field came from, and its versions. Record values beyond a name are shown only
with ``--reveal`` (audited, as in the quarantine), and medical, criminal and legal
fields are withheld without it.
"""

from __future__ import annotations

import getpass
from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Any

import sqlalchemy as sa
import typer

from officehub.canonical_model import ENTITIES, Sensitivity, layout
from officehub.canonical_model.errors import FatalError
from officehub.cli.options import JsonOption, ProjectOption, ReasonOption, RevealOption, stated_reason
from officehub.cli.output import console, emit_json, table
from officehub.cli.session import hub_session
from officehub.connectors.jsonable import jsonable
from officehub.engine.stewardship import LinkChange, Steward
from officehub.engine.subjects import lineage, locate
from officehub.identity.holds import legal_holds
from officehub.store import audit, flags, golden, matches, xref
from officehub.store.schema import TABLES, child_table_name, history_table_name

match_app = typer.Typer(help="Identity resolution: the review queue, merges, unlinks and their log.",
                        no_args_is_help=True)
record_app = typer.Typer(help="Golden records: values with their lineage, and every version.", no_args_is_help=True)

HIDDEN = "<hidden>"
WITHHELD = "<withheld>"
#: Special-category classes a plain `record show` withholds.
WITHHELD_CLASSES = frozenset({Sensitivity.MEDICAL, Sensitivity.CRIMINAL, Sensitivity.LEGAL})
_NAME_COLUMNS = ("name__first", "name__last")
_T = TABLES

EntityArgument = Annotated[str, typer.Argument(help=f"Entity: {', '.join(ENTITIES)}.")]


def actor() -> str:
    """Who is acting, for the audit trail and the link log (the same form as other commands use)."""
    return f"user:{getpass.getuser()}"


def _entity(name: str) -> str:
    if name not in ENTITIES:
        raise FatalError(f"unknown entity '{name}' (known: {', '.join(ENTITIES)})")
    return name


def _display_name(row: dict[str, Any] | None) -> str:
    if row is None:
        return ""
    name = " ".join(str(row[c]) for c in _NAME_COLUMNS if row.get(c))
    return name or str(row.get("name") or row.get("sku") or "")


def _values(entity: str, row: dict[str, Any], skip: tuple[str, ...] = ()) -> dict[str, Any]:
    """Non-empty canonical values of a golden row, by dotted field path."""
    return {leaf.path: jsonable(row[leaf.column]) for leaf in layout(entity).fields
            if row.get(leaf.column) is not None and leaf.column not in skip}


def _holders(conn: sa.Connection, ids: list[str]) -> dict[str, list[list[str]]]:
    found: dict[str, list[list[str]]] = {}
    for link in xref.of_records(conn, ids):
        if link["erased_at"] is None:
            found.setdefault(link["canonical_id"], []).append([link["system"], link["vendor_id"]])
    return found


def _systems(pairs: list[list[str]]) -> str:
    return ", ".join(f"{system} {vendor_id}" for system, vendor_id in pairs)


# -- match review ---------------------------------------------------------------------------------
def _side(entity: str, cid: str, rows: dict[str, dict[str, Any]], holders: dict[str, list[list[str]]],
          reveal: bool) -> dict[str, Any]:
    row = rows.get(cid)
    values = _values(entity, row, _NAME_COLUMNS) if row else {}
    return {"canonical_id": cid, "name": _display_name(row), "status": row["status"] if row else None,
            "systems": holders.get(cid, []),
            "values": values if reveal else dict.fromkeys(values, HIDDEN)}


def _evidence(pair: dict[str, Any]) -> dict[str, Any]:
    evidence = pair["evidence"] or {}
    keys = evidence.get("keys") or sorted({k for ks in (evidence.get("key_matches") or {}).values() for k in ks})
    return {"method": evidence.get("method"), "keys": keys, "fields": evidence.get("fields", {}),
            "ambiguous": bool(evidence.get("ambiguous"))}


def _review_entries(conn: sa.Connection, pairs: list[dict[str, Any]], reveal: bool) -> list[dict[str, Any]]:
    out = []
    for entity in sorted({p["entity"] for p in pairs}):
        mine = [p for p in pairs if p["entity"] == entity]
        ids = [cid for p in mine for cid in (p["canonical_id"], p["candidate_id"])]
        rows = golden.fetch(conn, entity, "canonical_id", ids)
        holders = _holders(conn, ids)
        out += [{"id": p["id"], "entity": entity, "status": p["status"], "score": p["score"], **_evidence(p),
                 "record": _side(entity, p["canonical_id"], rows, holders, reveal),
                 "candidate": _side(entity, p["candidate_id"], rows, holders, reveal),
                 "run_id": p["run_id"], "created_at": p["created_at"], "decided_at": p["decided_at"],
                 "decided_by": p["decided_by"]} for p in mine]
    return sorted(out, key=lambda e: e["id"])


def _evidence_text(entry: dict[str, Any]) -> str:
    if entry["keys"]:
        return ("ambiguous " if entry["ambiguous"] else "") + "key " + ", ".join(entry["keys"])
    return ", ".join(f"{name} {score:.2f}" for name, score in entry["fields"].items()) or (entry["method"] or "")


def review(entity: Annotated[str | None, typer.Option(help="Only this entity.")] = None,
           include_decided: Annotated[bool, typer.Option("--all", help="Include decided pairs.")] = False,
           reveal: RevealOption = False, reason: ReasonOption = None,
           project: ProjectOption = None, as_json: JsonOption = False) -> None:
    """Pairs waiting for a decision: score, evidence and both records side by side."""
    if entity is not None:
        _entity(entity)
    why = stated_reason(reason, "match review --reveal") if reveal else None
    with hub_session(project) as (_, store), store.begin() as conn:
        entries = _review_entries(conn, matches.reviews(conn, None if include_decided else "pending", entity), reveal)
        if reveal and entries:
            audit.append(conn, actor=actor(), action="match.reveal", subject="review queue",
                         detail={"reviews": [e["id"] for e in entries], "reason": why})
    if as_json:
        emit_json(entries)
        return
    rows = [(e["id"], e["entity"], e["status"], f"{e['score']:.3f}", _evidence_text(e),
             f"{e['record']['name']}\n[dim]{_systems(e['record']['systems'])}[/]",
             f"{e['candidate']['name']}\n[dim]{_systems(e['candidate']['systems'])}[/]") for e in entries]
    console.print(table("match review" + ("" if reveal else " (values other than names hidden; --reveal shows them)"),
                        ["id", "entity", "status", "score", "evidence", "record", "candidate"], rows,
                        numeric=["score"]))
    if reveal:
        for e in entries:
            fields = list(dict.fromkeys([*e["record"]["values"], *e["candidate"]["values"]]))
            console.print(table(f"review {e['id']}", ["field", "record", "candidate"],
                                [(f, e["record"]["values"].get(f), e["candidate"]["values"].get(f)) for f in fields]))
    if entries and not include_decided:
        console.print("Decide with `officehub match link ID` (same record) or `officehub match reject ID`.",
                      highlight=False)


# -- a steward's decisions --------------------------------------------------------------------------
def _report_change(change: LinkChange, what: str, as_json: bool, undone: bool = False) -> None:
    if as_json:
        emit_json({**asdict(change), "moved": [list(p) for p in change.moved], "undone": undone})
        return
    moved = _systems([list(p) for p in change.moved]) or "no xrefs"
    tail = f"{moved} moved back)." if undone else f"{moved} moved). Link log {change.log_id}."
    console.print(f"{what}: {change.entity} {change.other_id} ↔ {change.survivor_id} ({tail}",
                  highlight=False, soft_wrap=True)


def _undo_hint(change: LinkChange) -> None:
    console.print(f"Undo with `officehub match unmerge {change.log_id}`; `officehub sync --all` publishes the change.",
                  highlight=False)


def link(review_id: Annotated[int, typer.Argument(help="Review-queue id.")],
         project: ProjectOption = None, as_json: JsonOption = False) -> None:
    """Accept a review-queue pair as one record: the newer record is merged into its candidate."""
    with hub_session(project) as (loaded, store):
        change = Steward(loaded, store, actor()).link_review(review_id)
    _report_change(change, f"Review {review_id} linked, merged", as_json)
    if not as_json:
        _undo_hint(change)


def reject(review_id: Annotated[int, typer.Argument(help="Review-queue id.")],
           project: ProjectOption = None, as_json: JsonOption = False) -> None:
    """Decide that a review-queue pair are different records; both stay as they are."""
    with hub_session(project) as (loaded, store):
        pair = Steward(loaded, store, actor()).reject_review(review_id)
    if as_json:
        emit_json({"id": review_id, "status": "rejected", "entity": pair["entity"],
                   "canonical_id": pair["canonical_id"], "candidate_id": pair["candidate_id"], "score": pair["score"]})
        return
    console.print(f"Review {review_id} rejected: {pair['entity']} {pair['canonical_id']} and "
                  f"{pair['candidate_id']} stay separate records.", highlight=False, soft_wrap=True)


def merge(entity: EntityArgument,
          survivor_id: Annotated[str, typer.Argument(help="Canonical id of the record that stays.")],
          other_id: Annotated[str, typer.Argument(help="Canonical id of the record folded into it.")],
          project: ProjectOption = None, as_json: JsonOption = False) -> None:
    """Fold one golden record into another (its xrefs and source copies move; reversible)."""
    with hub_session(project) as (loaded, store):
        change = Steward(loaded, store, actor()).merge(_entity(entity), survivor_id, other_id)
    _report_change(change, "Merged", as_json)
    if not as_json:
        _undo_hint(change)


def unlink(entity: EntityArgument,
           system: Annotated[str, typer.Argument(help="System whose record is split off.")],
           vendor_id: Annotated[str, typer.Argument(help="That system's own id of the record.")],
           project: ProjectOption = None, as_json: JsonOption = False) -> None:
    """Split one system's record off its golden record into a record of its own (reversible)."""
    with hub_session(project) as (loaded, store):
        change = Steward(loaded, store, actor()).unlink(_entity(entity), system, vendor_id)
    _report_change(change, f"Unlinked {system} {vendor_id} into a new record", as_json)
    if not as_json:
        _undo_hint(change)


def unmerge(log_id: Annotated[int, typer.Argument(help="Link-log id of the merge or unlink to reverse.")],
            project: ProjectOption = None, as_json: JsonOption = False) -> None:
    """Reverse a merge (both records come back with their own xrefs) or an unlink (linked back)."""
    with hub_session(project) as (loaded, store):
        change = Steward(loaded, store, actor()).undo(log_id)
    _report_change(change, f"Link log {log_id} undone", as_json, undone=True)
    if not as_json:
        console.print("`officehub sync --all` publishes the change.", highlight=False)


def log(entry: Annotated[int | None, typer.Argument(help="One link-log entry, with what it moved.")] = None,
        record: Annotated[str | None, typer.Option(help="Only entries about this canonical id.")] = None,
        project: ProjectOption = None, as_json: JsonOption = False) -> None:
    """The link log: every merge and unlink, newest first, and whether it was undone."""
    with hub_session(project) as (_, store), store.begin() as conn:
        entries = matches.link_entries(conn, canonical_id=record, entry_id=entry)
    if entry is not None and not entries:
        raise FatalError(f"no merge or unlink number {entry}")
    if as_json:
        emit_json(entries[0] if entry is not None else entries)
        return
    rows = [(e["id"], e["entity"], e["action"], e["survivor_id"], e["other_id"],
             _systems(e["detail"].get("moved", [])), e["actor"], _when(e["at"]), _when(e["undone_at"]))
            for e in entries]
    console.print(table("link log", ["id", "entity", "action", "survivor", "other", "moved", "actor", "at", "undone"],
                        rows, numeric=["id"]))


def _when(moment: datetime | None) -> str:
    return "" if moment is None else f"{moment:%Y-%m-%d %H:%M:%S}"


# -- record show / history --------------------------------------------------------------------------
def _field_rows(entity: str, row: dict[str, Any], supplied: dict[str, dict[str, Any]],
                reveal: bool) -> list[dict[str, Any]]:
    out = []
    for leaf in layout(entity).fields:
        if row.get(leaf.column) is None:
            continue
        withheld = leaf.sensitivity in WITHHELD_CLASSES and not reveal
        source = supplied.get(leaf.column.split("__", 1)[0], {})
        out.append({"field": leaf.path, "sensitivity": leaf.sensitivity.value,
                    "value": WITHHELD if withheld else jsonable(row[leaf.column]),
                    "system": source.get("system"), "vendor_id": source.get("vendor_id"),
                    "run_id": source.get("run_id"), "since": source.get("since")})
    return out


def _collections(conn: sa.Connection, entity: str, canonical_id: str) -> dict[str, int]:
    counts = {}
    for coll in golden.collections(entity):
        child = _T[child_table_name(entity, coll)]
        counts[coll] = conn.execute(sa.select(sa.func.count()).select_from(child)
                                    .where(child.c.canonical_id == canonical_id)).scalar_one()
    return counts


def _flags(conn: sa.Connection, entity: str, canonical_id: str, reveal: bool,
           derived: dict[str, Sensitivity]) -> list[dict[str, Any]]:
    """The record's data-quality flags; the text of a special-category field only with --reveal."""
    lay = layout(entity)
    out = []
    for flag in flags.of_record(conn, entity, canonical_id):
        classes = {derived.get(f"{entity}.{flag['field']}")}
        try:
            classes.add(lay.field(flag["field"]).sensitivity)
        except KeyError:
            classes.add(Sensitivity.MEDICAL)  # a field the model no longer has: assume the strictest
        hidden = bool(classes & set(WITHHELD_CLASSES)) and not reveal
        out.append({**flag, "raw": WITHHELD if hidden and flag["raw"] is not None else flag["raw"]})
    return out


def _record(conn: sa.Connection, canonical_id: str, reveal: bool,
            derived: dict[str, Sensitivity] | None = None) -> dict[str, Any]:
    entity, row = locate(conn, canonical_id)
    holds = legal_holds(entity, row)
    return {
        "entity": entity, "canonical_id": canonical_id, "status": row["status"], "version": row["version"],
        "updated_at": row["updated_at"], "changed_by": row["changed_by"], "run_id": row["run_id"],
        "merged_into": row["merged_into"], "deleted_at": row["deleted_at"], "purge_after": row["purge_after"],
        "held_by": holds if reveal else [WITHHELD] * len(holds),
        "fields": _field_rows(entity, row, lineage(conn, entity, canonical_id, row), reveal),
        "collections": _collections(conn, entity, canonical_id),
        "flags": _flags(conn, entity, canonical_id, reveal, derived or {}),
        "xrefs": [{"system": x["system"], "vendor_id": x["vendor_id"], "linked_by": x["linked_by"],
                   "score": x["match_score"], "linked_at": x["created_at"], "erased_at": x["erased_at"]}
                  for x in xref.of_records(conn, [canonical_id])],
    }


def show(canonical_id: Annotated[str, typer.Argument(help="Canonical id (see `officehub subject find`).")],
         reveal: RevealOption = False, reason: ReasonOption = None,
         project: ProjectOption = None, as_json: JsonOption = False) -> None:
    """One golden record: each field with who supplied it and since when, its status, holds and xrefs.

    Medical, criminal and legal values are withheld unless --reveal (with --reason).
    """
    why = stated_reason(reason, "record show --reveal") if reveal else None
    with hub_session(project) as (loaded, store), store.begin() as conn:
        found = _record(conn, canonical_id, reveal, loaded.derived_classes())
        if reveal:
            audit.append(conn, actor=actor(), action="record.reveal", subject=f"{found['entity']} {canonical_id}",
                         detail={"fields": [f["field"] for f in found["fields"] if f["sensitivity"] in
                                            {s.value for s in WITHHELD_CLASSES}], "reason": why})
    if as_json:
        emit_json(found)
        return
    for key in ("entity", "canonical_id", "status", "version", "updated_at", "changed_by", "merged_into",
                "deleted_at", "purge_after"):
        if found[key] is not None:
            console.print(f"[bold]{key:>12}[/] {found[key]}", highlight=False)
    if found["held_by"]:
        console.print(f"[bold]{'legal hold':>12}[/] [yellow]{'; '.join(found['held_by'])}[/] "
                      "(the record is not deleted or erased anywhere while it lasts)", highlight=False)
    withheld = any(f["value"] == WITHHELD for f in found["fields"])
    console.print(table("fields" + (" (medical, criminal and legal values withheld; --reveal shows them)"
                                    if withheld else ""),
                        ["field", "value", "system", "vendor id", "run", "since"],
                        [(f["field"], f["value"], f["system"], f["vendor_id"], f["run_id"], _when(f["since"]))
                         for f in found["fields"]]))
    if any(found["collections"].values()):
        console.print(table("repeating groups", ["group", "entries"], found["collections"].items(),
                            numeric=["entries"]))
    if found["flags"]:
        console.print(table("data-quality flags (values that did not convert; the record was stored without them)",
                            ["field", "system", "vendor id", "reason", "as read", "run"],
                            [(f["field"], f["system"], f["vendor_id"], f["reason"], f["raw"], f["run_id"])
                             for f in found["flags"]]))
    console.print(table("xrefs", ["system", "vendor id", "linked by", "score", "linked at", "erased at"],
                        [(x["system"], x["vendor_id"], x["linked_by"], x["score"], _when(x["linked_at"]),
                          _when(x["erased_at"])) for x in found["xrefs"]]))


def _versions(conn: sa.Connection, entity: str, canonical_id: str, current: dict[str, Any]) -> list[dict[str, Any]]:
    older = _T[history_table_name(entity)]
    stmt = sa.select(older).where(older.c.canonical_id == canonical_id).order_by(older.c.version)
    return [*(dict(r._mapping) for r in conn.execute(stmt)), current]


def _history(conn: sa.Connection, canonical_id: str, reveal: bool) -> list[dict[str, Any]]:
    entity, current = locate(conn, canonical_id)
    leaves = layout(entity).fields
    out, previous = [], {}
    for version in _versions(conn, entity, canonical_id, current):
        changed = {leaf.path: [jsonable(previous.get(leaf.column)), jsonable(version.get(leaf.column))]
                   for leaf in leaves if previous.get(leaf.column) != version.get(leaf.column)}
        out.append({"version": version["version"], "updated_at": version["updated_at"], "status": version["status"],
                    "changed_by": version["changed_by"], "run_id": version["run_id"],
                    "changed": changed if reveal else list(changed)})
        previous = version
    return out


def history(canonical_id: Annotated[str, typer.Argument(help="Canonical id.")],
            reveal: RevealOption = False, reason: ReasonOption = None,
            project: ProjectOption = None, as_json: JsonOption = False) -> None:
    """Every version of a golden record: when, status, who changed it, in which run, and which fields.

    Old and new values of the changed fields only with --reveal (and --reason).
    """
    why = stated_reason(reason, "record history --reveal") if reveal else None
    with hub_session(project) as (_, store), store.begin() as conn:
        versions = _history(conn, canonical_id, reveal)
        if reveal:
            audit.append(conn, actor=actor(), action="record.reveal", subject=f"record {canonical_id}",
                         detail={"history": len(versions), "reason": why})
    if as_json:
        emit_json(versions)
        return

    def changes(v: dict[str, Any]) -> str:
        if not reveal:
            return ", ".join(v["changed"])
        return "\n".join(f"{f}: {old} → {new}" for f, (old, new) in v["changed"].items())

    console.print(table(f"history of {canonical_id}", ["version", "time", "status", "changed by", "run", "changed"],
                        [(v["version"], _when(v["updated_at"]), v["status"], v["changed_by"], v["run_id"], changes(v))
                         for v in versions], numeric=["version", "run"]))


def register(app: typer.Typer) -> None:
    """Attach the match and record commands to the main app."""
    match_app.command("review")(review)
    match_app.command("link")(link)
    match_app.command("reject")(reject)
    match_app.command("merge")(merge)
    match_app.command("unlink")(unlink)
    match_app.command("unmerge")(unmerge)
    match_app.command("log")(log)
    record_app.command("show")(show)
    record_app.command("history")(history)
    app.add_typer(match_app, name="match")
    app.add_typer(record_app, name="record")
