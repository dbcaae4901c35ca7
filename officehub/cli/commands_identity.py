"""Identity commands: the match review queue, a steward's merges and unlinks, and golden records.

``match`` works the review queue and the link log; every merge or unlink prints its
link-log number so it can be undone. ``record`` shows one golden record with where
each field came from, and its versions. Record values beyond a name are shown only
with ``--reveal`` (audited, as in the quarantine), and medical, criminal and legal
fields are withheld without it.

The operations behind these commands (and their audit entries) are the services of
:mod:`officehub.services.reviews`, ``links`` and ``records``, imported only when a command runs.
"""

from __future__ import annotations

import getpass
from dataclasses import asdict
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer

from officehub.cli.options import (
    JsonOption,
    ProjectOption,
    ReasonOption,
    RevealOption,
    builtin_entity_names,
    stated_reason,
)
from officehub.cli.output import console, emit_json, table
from officehub.cli.session import hub_session

if TYPE_CHECKING:
    from officehub.services.links import LinkChange

match_app = typer.Typer(help="Identity resolution: the review queue, merges, unlinks and their log.",
                        no_args_is_help=True)
record_app = typer.Typer(help="Golden records: values with their lineage, and every version.", no_args_is_help=True)

# The built-in entities, as the model in force lists them before a project adds its own.
EntityArgument = Annotated[str, typer.Argument(help=f"Entity: {', '.join(builtin_entity_names())}.")]


def actor() -> str:
    """Who is acting, for the audit trail and the link log (the same form as other commands use)."""
    return f"user:{getpass.getuser()}"


def _systems(pairs: list[list[str]]) -> str:
    return ", ".join(f"{system} {vendor_id}" for system, vendor_id in pairs)


# -- match review ---------------------------------------------------------------------------------
def _evidence_text(entry: dict[str, Any]) -> str:
    if entry["keys"]:
        return ("ambiguous " if entry["ambiguous"] else "") + "key " + ", ".join(entry["keys"])
    return ", ".join(f"{name} {score:.2f}" for name, score in entry["fields"].items()) or (entry["method"] or "")


def review(entity: Annotated[str | None, typer.Option(help="Only this entity.")] = None,
           include_decided: Annotated[bool, typer.Option("--all", help="Include decided pairs.")] = False,
           reveal: RevealOption = False, reason: ReasonOption = None,
           project: ProjectOption = None, as_json: JsonOption = False) -> None:
    """Pairs waiting for a decision: score, evidence and both records side by side."""
    from officehub.services import reviews
    from officehub.services.session import acting

    if reveal:
        stated_reason(reason, "match review --reveal")
    with hub_session(project) as (_, store), acting(store, actor()) as ctx:
        entries = reviews.queue(ctx, entity=entity, include_decided=include_decided, reveal=reveal, reason=reason)
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
    from officehub.services import reviews

    with hub_session(project) as (loaded, store):
        change = reviews.accept(loaded, store, actor(), review_id)
    _report_change(change, f"Review {review_id} linked, merged", as_json)
    if not as_json:
        _undo_hint(change)


def reject(review_id: Annotated[int, typer.Argument(help="Review-queue id.")],
           project: ProjectOption = None, as_json: JsonOption = False) -> None:
    """Decide that a review-queue pair are different records; both stay as they are."""
    from officehub.services import reviews

    with hub_session(project) as (loaded, store):
        pair = reviews.reject(loaded, store, actor(), review_id)
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
    from officehub.services import links

    with hub_session(project) as (loaded, store):
        change = links.merge(loaded, store, actor(), entity, survivor_id, other_id)
    _report_change(change, "Merged", as_json)
    if not as_json:
        _undo_hint(change)


def unlink(entity: EntityArgument,
           system: Annotated[str, typer.Argument(help="System whose record is split off.")],
           vendor_id: Annotated[str, typer.Argument(help="That system's own id of the record.")],
           project: ProjectOption = None, as_json: JsonOption = False) -> None:
    """Split one system's record off its golden record into a record of its own (reversible)."""
    from officehub.services import links

    with hub_session(project) as (loaded, store):
        change = links.unlink(loaded, store, actor(), entity, system, vendor_id)
    _report_change(change, f"Unlinked {system} {vendor_id} into a new record", as_json)
    if not as_json:
        _undo_hint(change)


def unmerge(log_id: Annotated[int, typer.Argument(help="Link-log id of the merge or unlink to reverse.")],
            project: ProjectOption = None, as_json: JsonOption = False) -> None:
    """Reverse a merge (both records come back with their own xrefs) or an unlink (linked back)."""
    from officehub.services import links

    with hub_session(project) as (loaded, store):
        change = links.undo(loaded, store, actor(), log_id)
    _report_change(change, f"Link log {log_id} undone", as_json, undone=True)
    if not as_json:
        console.print("`officehub sync --all` publishes the change.", highlight=False)


def log(entry: Annotated[int | None, typer.Argument(help="One link-log entry, with what it moved.")] = None,
        record: Annotated[str | None, typer.Option(help="Only entries about this canonical id.")] = None,
        project: ProjectOption = None, as_json: JsonOption = False) -> None:
    """The link log: every merge and unlink, newest first, and whether it was undone."""
    from officehub.services import links
    from officehub.services.session import acting

    with hub_session(project) as (_, store), acting(store, actor()) as ctx:
        entries = [links.entry(ctx, entry)] if entry is not None else links.log(ctx, canonical_id=record)
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
def show(canonical_id: Annotated[str, typer.Argument(help="Canonical id (see `officehub subject find`).")],
         reveal: RevealOption = False, reason: ReasonOption = None,
         project: ProjectOption = None, as_json: JsonOption = False) -> None:
    """One golden record: each field with who supplied it and since when, its status, holds and xrefs.

    Medical, criminal and legal values are withheld unless --reveal (with --reason).
    """
    from officehub.services import records
    from officehub.services.records import WITHHELD
    from officehub.services.session import acting

    if reveal:
        stated_reason(reason, "record show --reveal")
    with hub_session(project) as (loaded, store), acting(store, actor()) as ctx:
        found = records.show(ctx, canonical_id, reveal=reveal, reason=reason, derived=loaded.derived_classes())
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


def history(canonical_id: Annotated[str, typer.Argument(help="Canonical id.")],
            reveal: RevealOption = False, reason: ReasonOption = None,
            project: ProjectOption = None, as_json: JsonOption = False) -> None:
    """Every version of a golden record: when, status, who changed it, in which run, and which fields.

    Old and new values of the changed fields only with --reveal (and --reason).
    """
    from officehub.services import records
    from officehub.services.session import acting

    if reveal:
        stated_reason(reason, "record history --reveal")
    with hub_session(project) as (_, store), acting(store, actor()) as ctx:
        versions = records.history(ctx, canonical_id, reveal=reveal, reason=reason)
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
