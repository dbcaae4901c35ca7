"""Commands that move or inspect data: sync, runs, quarantine.

The engine, the configuration and the services (:mod:`officehub.services.runs`,
:mod:`officehub.services.quarantine`) are imported inside the commands that use them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from officehub.canonical_model.errors import FatalError
from officehub.cli.commands_identity import actor
from officehub.cli.options import JsonOption, ProjectOption, ReasonOption, RevealOption, project_dir, stated_reason
from officehub.cli.output import console, emit_json, errors, progress_bars, result_dict, summary_table, table
from officehub.cli.session import hub_session

if TYPE_CHECKING:
    from officehub.config import Project

quarantine_app = typer.Typer(help="Records that did not make it, with why and where from.", no_args_is_help=True)


def run_and_report(project: Project, names: list[str], as_json: bool) -> int:
    """Run pipelines with progress bars, print the summary; returns the exit code."""
    from officehub.engine import sync as run_sync

    with progress_bars(enabled=not as_json and errors.is_terminal) as factory:
        results = run_sync(project, names, factory)
    if as_json:
        emit_json([result_dict(r) for r in results])
    else:
        console.print(summary_table(results))
    for r in results:  # on stderr in both modes, so scripts' logs show it too
        if r.error:
            errors.print(f"[red]error[/] pipeline {r.pipeline}: {r.error}", highlight=False, soft_wrap=True)
    # So that a failed run alerts at once; the runs' outcome decides the exit code, the check reports its own.
    from officehub.cli.commands_alerts import check_after_runs

    check_after_runs(project)
    failed = [r for r in results if r.status != "succeeded"]
    return max((r.exit_code for r in failed), default=0) if failed else 0


def sync(pipelines: Annotated[list[str] | None, typer.Argument(help="Pipelines to run.")] = None,
         all_: Annotated[bool, typer.Option("--all", help="Run every pipeline: ingests, then publishes.")] = False,
         project: ProjectOption = None, as_json: JsonOption = False) -> None:
    """Run pipelines now, from their last checkpoint."""
    from officehub.config import load_project

    loaded = load_project(project_dir(project))
    if all_ == bool(pipelines):
        raise FatalError("name the pipelines to run, or give --all")
    unknown = [n for n in pipelines or [] if n not in loaded.config.pipelines]
    if unknown:
        raise FatalError(f"unknown pipeline(s): {', '.join(unknown)} (configured: {', '.join(loaded.config.pipelines)})")
    # Ingests before publishes whatever the order named, so a publish sends what the ingest just stored.
    names = [n for n in loaded.pipelines_in_order() if all_ or n in (pipelines or [])]
    raise typer.Exit(run_and_report(loaded, names, as_json))


def runs(pipeline: Annotated[str | None, typer.Option(help="Only this pipeline.")] = None,
         limit: Annotated[int, typer.Option(min=1)] = 20,
         project: ProjectOption = None, as_json: JsonOption = False) -> None:
    """History of pipeline runs with their figures, newest first."""
    from officehub.services import runs as run_history
    from officehub.services.session import acting

    with hub_session(project) as (_, store), acting(store, actor()) as ctx:
        history = run_history.history(ctx, pipeline=pipeline, limit=limit)
    if as_json:
        emit_json(history)
        return
    columns = ["id", "pipeline", "kind", "status", "started", "read", "written", "unchanged", "quarantined",
               "flagged", "redacted", "error"]
    rows = [(r["id"], r["pipeline"], r["kind"], r["status"], f"{r['started_at']:%Y-%m-%d %H:%M:%S}",
             r["records_read"], r["records_written"], r["records_unchanged"], r["records_quarantined"],
             r["fields_flagged"] + r["fields_nulled"], r["fields_redacted"], r["error"]) for r in history]
    console.print(table("runs", columns, rows, numeric=columns[5:11]))


def quarantine_list(pipeline: Annotated[str | None, typer.Option(help="Only this pipeline.")] = None,
                    include_resolved: Annotated[bool, typer.Option(
                        "--all", help="Include closed entries (resolved, superseded, replayed).")] = False,
                    limit: Annotated[int, typer.Option(min=1, help="At most this many entries.")] = 100,
                    offset: Annotated[int, typer.Option(min=0, help="Skip this many entries first.")] = 0,
                    project: ProjectOption = None, as_json: JsonOption = False) -> None:
    """Records waiting in quarantine, a page at a time: reason and source position (no values)."""
    from officehub.services import quarantine
    from officehub.services.session import acting

    with hub_session(project) as (_, store), acting(store, actor()) as ctx:
        found = quarantine.page(ctx, pipeline=pipeline, include_closed=include_resolved, limit=limit, offset=offset)
    if as_json:
        emit_json(found)
        return
    total, items = found["total"], found["items"]
    rows = [(q["id"], q["pipeline"], f"{q['system']}/{q['stream']}", q["position"], q["reason"], q["status"])
            for q in items]
    console.print(table("quarantine", ["id", "pipeline", "source", "position", "reason", "status"], rows))
    # A page that stops short of the total says so, with the option that shows the rest.
    shown = f"showing {offset + 1}–{offset + len(items)} of {total}" if items else f"showing none of {total}"
    more = f" (next page: --offset {offset + len(items)})" if offset + len(items) < total and items else ""
    console.print(shown + more, highlight=False)


def quarantine_show(item: Annotated[int, typer.Argument(help="Quarantine id.")],
                    reveal: RevealOption = False, reason: ReasonOption = None,
                    project: ProjectOption = None, as_json: JsonOption = False) -> None:
    """One quarantined record: reason, position and its fields (values only with --reveal and --reason, audited)."""
    from officehub.services import quarantine
    from officehub.services.session import acting

    if reveal:
        stated_reason(reason, "quarantine show --reveal")
    with hub_session(project) as (_, store), acting(store, actor()) as ctx:
        found = quarantine.show(ctx, item, reveal=reveal, reason=reason)
    if as_json:
        emit_json(found)
        return
    for key in ("id", "pipeline", "system", "stream", "position", "reason", "status", "run_id", "created_at"):
        console.print(f"[bold]{key:>10}[/] {found[key]}", highlight=False)
    console.print(table("raw record" + ("" if reveal else " (values hidden; --reveal shows them)"),
                        ["field", "value"], found["raw"].items()))


def quarantine_replay(pipeline: Annotated[str | None, typer.Option(help="Only this pipeline.")] = None,
                      ids: Annotated[list[int] | None, typer.Option("--id", help="Only these records.")] = None,
                      project: ProjectOption = None, as_json: JsonOption = False) -> None:
    """Run quarantined records through their (fixed) mapping again; those that pass are stored."""
    from officehub.services import quarantine

    with hub_session(project) as (loaded, store):
        replayed = quarantine.replay(loaded, store, pipeline=pipeline, ids=ids)
    if as_json:
        emit_json([{**result_dict(r.result), "superseded": r.superseded} for r in replayed])
        return
    console.print(summary_table([r.result for r in replayed]))
    for r in replayed:
        if r.superseded:
            console.print(f"{r.result.pipeline}: {r.superseded} superseded (the hub holds newer data of the record "
                          "from its source; not applied)", highlight=False)


def register(app: typer.Typer) -> None:
    """Attach these commands to the main app."""
    app.command()(sync)
    app.command()(runs)
    quarantine_app.command("list")(quarantine_list)
    quarantine_app.command("show")(quarantine_show)
    quarantine_app.command("replay")(quarantine_replay)
    app.add_typer(quarantine_app, name="quarantine")
