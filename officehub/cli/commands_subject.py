"""Data-subject requests: find a person, export what the hub holds about them, erase them everywhere.

The requests themselves (and their audit entries) are :mod:`officehub.services.subjects`,
imported inside the commands that use them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from officehub.canonical_model.errors import FatalError
from officehub.cli.commands_identity import actor
from officehub.cli.options import JsonOption, ProjectOption, ReasonOption, RevealOption, stated_reason
from officehub.cli.output import console, emit_json, errors, table
from officehub.cli.session import hub_session

if TYPE_CHECKING:
    from rich.table import Table

    from officehub.services import subjects

subject_app = typer.Typer(help="Data-subject requests (GDPR Art. 15, 17): find, export, erase.", no_args_is_help=True)

#: Exit code of an erasure a legal hold refused (nothing was deleted); see officehub.cli.app.
EXIT_LEGAL_HOLD = 3
#: Exit code of an erasure that went through in the hub but failed in a system (the report says where).
EXIT_PARTIAL = 1


def _holders(pairs: list[tuple[str, str]]) -> str:
    return ", ".join(f"{system} {vendor_id}" for system, vendor_id in pairs)


def find(query: Annotated[str, typer.Argument(help="E-mail, phone number, part of a name, canonical or vendor id.")],
         project: ProjectOption = None, as_json: JsonOption = False) -> None:
    """Every customer and employee record that may be the person, with the systems that hold it."""
    from officehub.services import subjects
    from officehub.services.session import acting

    with hub_session(project) as (_, store), acting(store, actor()) as ctx:
        hits = subjects.find(ctx, query)
    if as_json:
        emit_json([{"entity": h.entity, "canonical_id": h.canonical_id, "name": h.name, "status": h.status,
                    "systems": [list(p) for p in h.holders]} for h in hits])
        return
    console.print(table(f"records matching {query!r}", ["entity", "canonical id", "name", "status", "held in"],
                        [(h.entity, h.canonical_id, h.name, h.status, _holders(h.holders)) for h in hits]))
    if not hits:
        console.print("Nothing found: the hub holds no active customer or employee record matching that.",
                      highlight=False)


def _dump(payload: Any) -> str:
    return json.dumps(payload, ensure_ascii=False, indent=2, default=str) + "\n"


def export(canonical_id: Annotated[str, typer.Argument(help="Canonical id (see `officehub subject find`).")],
           output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to this file.")] = None,
           reveal: RevealOption = False, reason: ReasonOption = None,
           project: ProjectOption = None) -> None:
    """Everything the hub holds about one record, as JSON (stdout unless --output); audited.

    Medical, criminal and legal values read <withheld> unless --reveal (with --reason).
    """
    from officehub.services import subjects
    from officehub.services.session import acting

    if reveal:
        stated_reason(reason, "subject export --reveal")
    with hub_session(project) as (_, store), acting(store, actor()) as ctx:
        data = subjects.export(ctx, canonical_id, to=str(output) if output else "stdout", reveal=reveal,
                               reason=reason)
    if output is None:
        emit_json(data)
        return
    output.write_text(_dump(data), encoding="utf-8")
    errors.print(f"Wrote {data['entity']} {canonical_id} to {output}.", highlight=False)


def _report_table(report: subjects.ErasureReport, verdict: str) -> Table:
    return table(f"erasure of {report.entity} {report.canonical_id}: {verdict}",
                 ["system", "vendor id", "outcome", "detail"],
                 [(line.system, line.vendor_id, line.outcome, line.detail) for line in report.lines])


def _confirm(project: Path | None, canonical_id: str) -> None:
    """Show what the erasure would do (on stderr) and ask; a legal hold needs no question, it refuses."""
    from officehub.services import subjects

    with hub_session(project) as (loaded, store):
        preview = subjects.erase(loaded, store, actor(), canonical_id, dry_run=True)
    if preview.held_by:
        return
    errors.print(_report_table(preview, "what would happen"))
    try:
        confirmed = typer.confirm("Erase this record? This cannot be undone", default=False, err=True)
    except typer.Abort:  # end of input: no answer is no
        confirmed = False
    if not confirmed:
        raise FatalError("erasure not confirmed: nothing was changed (--yes skips the question)")


def _exit_code(report: subjects.ErasureReport) -> int:
    if report.held_by:
        return EXIT_LEGAL_HOLD
    return EXIT_PARTIAL if any(line.outcome == "failed" for line in report.lines) else 0


def _explain(report: subjects.ErasureReport, dry_run: bool) -> None:
    if report.held_by:
        errors.print(f"[red]refused[/] a legal hold keeps {report.entity} {report.canonical_id}: nothing was "
                     "deleted anywhere", highlight=False, soft_wrap=True)
        return
    by_hand = [line for line in report.lines if line.outcome in ("not supported", "failed")]
    for line in by_hand:
        errors.print(f"[yellow]by hand[/] {line.system} {line.vendor_id or ''}: {line.detail}",
                     highlight=False, soft_wrap=True)
    if not dry_run and by_hand:
        errors.print(f"{len(by_hand)} place(s) still to erase by hand; the request is complete only when they are.",
                     highlight=False)


def erase(canonical_id: Annotated[str, typer.Argument(help="Canonical id (see `officehub subject find`).")],
          dry_run: Annotated[bool, typer.Option("--dry-run", help="Say what would happen; change nothing.")] = False,
          yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
          report_file: Annotated[Path | None, typer.Option("--report", help="Also write the report (JSON) here.")]
          = None,
          project: ProjectOption = None, as_json: JsonOption = False) -> None:
    """Erase a record in every system that supports deletes and in the hub, unless a legal hold applies.

    Exit 0 when erased (or on a dry run), 3 when a legal hold refused it, 1 when a system failed to delete.
    """
    from officehub.services import subjects

    if not (yes or dry_run):
        _confirm(project, canonical_id)
    with hub_session(project) as (loaded, store):
        report = subjects.erase(loaded, store, actor(), canonical_id, dry_run=dry_run)
    if report_file is not None:
        report_file.write_text(_dump(report.as_dict()), encoding="utf-8")
    if as_json:
        emit_json({**report.as_dict(), "dry_run": dry_run})
    else:
        verdict = "dry run" if dry_run else "erased" if report.erased else "refused (legal hold)"
        console.print(_report_table(report, verdict))
    _explain(report, dry_run)
    raise typer.Exit(_exit_code(report))


def register(app: typer.Typer) -> None:
    """Attach the subject commands to the main app."""
    subject_app.command("find")(find)
    subject_app.command("export")(export)
    subject_app.command("erase")(erase)
    app.add_typer(subject_app, name="subject")
