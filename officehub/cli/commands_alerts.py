"""Commands on alerts: judge the rules and send what is owed, list incidents, test a channel.

The judging and sending are :mod:`officehub.services.alerts`, imported inside the commands.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from officehub.canonical_model.errors import OfficehubError, RetriableError
from officehub.cli.commands_identity import actor
from officehub.cli.options import JsonOption, ProjectOption, project_dir
from officehub.cli.output import console, emit_json, errors, table
from officehub.cli.session import hub_session

if TYPE_CHECKING:
    from officehub.config import Project
    from officehub.services.alerts import CheckReport

alerts_app = typer.Typer(help="Alerts: failed runs, quarantine, row counts, agreements, site links, the audit "
                              "trail — each incident sent once.", no_args_is_help=True)


def print_report(report: CheckReport, *, summary: bool = True) -> None:
    """The check's outcome for a person: incidents opened and closed, deliveries, and (on stderr, so scripts'
    logs show it too) what failed."""
    if summary:
        console.print(f"alerts: {len(report.opened)} incident(s) opened, {len(report.closed)} closed, "
                      f"{len(report.delivered)} message(s) sent, {report.open_incidents} open", highlight=False)
    for failure in report.failures:
        errors.print(f"[red]error[/] incident {failure['incident']}: channel {failure['channel']}: "
                     f"{failure['problem']} (tried again at the next check)", highlight=False, soft_wrap=True)
    for problem in report.problems:
        errors.print(f"[red]error[/] {problem}", highlight=False, soft_wrap=True)


def exit_code(report: CheckReport) -> int:
    """0, or 75 (try again later) when a channel or a rule failed; an open incident is no error of the check."""
    return 0 if report.ok else RetriableError.exit_code


def check_after_runs(project: Project) -> int:
    """Check alerts after pipeline runs, when any rule is configured; returns the check's exit code.

    Everything it says goes to stderr: stdout carries the runs' own report (JSON for scripts).
    """
    if not project.config.alerts.configured:
        return 0
    from officehub.services import alerts
    from officehub.store.hub import HubStore

    hub = project.config.hub
    try:
        store = HubStore.open(hub.store, project.base_dir, password=hub.store_password)
        try:
            report = alerts.check(project, store, actor())
        finally:
            store.close()
    except OfficehubError as exc:  # the runs are done and recorded: say why alerts were not checked
        errors.print(f"[red]error[/] alerts not checked: {exc.describe()}", highlight=False, soft_wrap=True)
        return exc.exit_code
    if report.opened or report.delivered:
        errors.print(f"alerts: {len(report.opened)} incident(s) opened, {len(report.delivered)} message(s) sent",
                     highlight=False)
    print_report(report, summary=False)
    return exit_code(report)


def alerts_check(project: ProjectOption = None, as_json: JsonOption = False) -> None:
    """Judge every alert rule now and send each new incident (and each cleared one) to its channels."""
    from officehub.services import alerts

    with hub_session(project) as (loaded, store):
        report = alerts.check(loaded, store, actor())
    if as_json:
        emit_json(report.as_dict())
    print_report(report, summary=not as_json)
    raise typer.Exit(exit_code(report))


def alerts_list(open_only: Annotated[bool, typer.Option("--open", help="Only incidents not closed yet.")] = False,
                limit: Annotated[int, typer.Option(min=1)] = 100,
                project: ProjectOption = None, as_json: JsonOption = False) -> None:
    """Alert incidents, newest first."""
    from officehub.services import alerts
    from officehub.services.session import acting

    with hub_session(project) as (_, store), acting(store, actor()) as ctx:
        rows = alerts.incidents(ctx, open_only=open_only, limit=limit)
    if as_json:
        emit_json(rows)
        return
    console.print(table("alert incidents", ["id", "rule", "subject", "state", "opened", "closed", "sent", "text"],
                        [(r["id"], r["rule"], r["subject"], r["state"], r["opened_at"], r["closed_at"] or "",
                          r["sent_at"] or "not yet", r["text"]) for r in rows]))


def alerts_test(channel: Annotated[str, typer.Argument(help="The channel's name under alerts.channels.")],
                project: ProjectOption = None) -> None:
    """Send a test message through one channel."""
    from officehub.config import load_project
    from officehub.services import alerts

    alerts.send_test(load_project(project_dir(project)), channel)
    console.print(f"channel {channel} took the test message", highlight=False)


def register(app: typer.Typer) -> None:
    """Attach the ``alerts`` sub-commands to the main app."""
    for name, command in (("check", alerts_check), ("list", alerts_list), ("test", alerts_test)):
        alerts_app.command(name)(command)
    app.add_typer(alerts_app, name="alerts")
