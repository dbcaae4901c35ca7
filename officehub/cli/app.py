"""The ``officehub`` command line.

Exit codes: 0 success; 1 a pipeline run failed (or, for `subject erase`, a
system failed to delete: the report says which); 2 configuration or usage error
(fix before retrying); 3 `subject erase` refused because a legal hold applies
(nothing was deleted anywhere); 70 internal error (a bug: rerun with --debug and
report it); 75 temporary failure (a system was unreachable or locked: retry later).

The command modules import the engine, the store and the configuration inside their
commands, so the app itself (and ``--help``) starts without pydantic, SQLAlchemy or pyarrow.
"""

from __future__ import annotations

import logging
import sys
import traceback
from pathlib import Path
from typing import Annotated

import typer

from officehub.canonical_model.errors import OfficehubError
from officehub.cli import (
    commands_alerts,
    commands_audit,
    commands_data,
    commands_drift,
    commands_identity,
    commands_matching,
    commands_metrics,
    commands_policy,
    commands_project,
    commands_serve,
    commands_site,
    commands_subject,
)
from officehub.cli.options import PROJECT_HELP, global_project
from officehub.cli.output import errors

EXIT_INTERNAL = 70

app = typer.Typer(
    name="officehub",
    help="Integration hub for back-office systems: sync records between vendor systems through one "
         "canonical model, with field-level data-sharing policies.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
_state = {"debug": False}


@app.callback()
def _main(project: Annotated[Path, typer.Option("--project", "-p", envvar="OFFICEHUB_PROJECT",
                                                help=PROJECT_HELP)] = Path("."),
          debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks and debug logs.")] = False,
          verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show progress logs.")] = False) -> None:
    _state["debug"] = debug
    global_project["path"] = project
    level = logging.DEBUG if debug else logging.INFO if verbose else logging.WARNING
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)


commands_project.register(app)
commands_data.register(app)
commands_drift.register(app)
commands_policy.register(app)
commands_audit.register(app)
commands_identity.register(app)
commands_matching.register(app)
commands_subject.register(app)
commands_site.register(app)
commands_serve.register(app)
commands_alerts.register(app)
commands_metrics.register(app)


def _report(exc: BaseException) -> int:
    # Imported on the error path only: the configuration is heavy, and most commands have loaded it already.
    from officehub.config import ConfigError

    if isinstance(exc, ConfigError):
        for issue in exc.issues:
            errors.print(f"[red]error[/] {issue}", highlight=False, soft_wrap=True)
        errors.print(f"{len(exc.issues)} problem(s) in the configuration.", highlight=False)
        return exc.exit_code
    if isinstance(exc, OfficehubError):
        errors.print(f"[red]error[/] {exc.describe()}", highlight=False, soft_wrap=True)
        return exc.exit_code
    # Not one of ours: the message may quote data, so only the type is shown.
    errors.print(f"[red]internal error[/] ({type(exc).__name__}); rerun with --debug for the traceback",
                 highlight=False)
    return EXIT_INTERNAL


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``officehub`` console script."""
    try:
        app(args=argv, prog_name="officehub")  # exits by itself on success and on usage errors
    except Exception as exc:  # noqa: BLE001 - the one place every error becomes an exit code
        if _state["debug"]:
            traceback.print_exc()
        sys.exit(_report(exc))
