"""``officehub metrics``: the hub's Prometheus metrics printed, written as a node-exporter textfile, or pushed.

For runs with no server to scrape (cron, Airflow): the figures are read from the hub store by
:mod:`officehub.services.metrics` and written or pushed by :mod:`officehub.services.metrics_export`,
imported inside the command.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from officehub.canonical_model.errors import FatalError
from officehub.cli.options import ProjectOption
from officehub.cli.output import errors
from officehub.cli.session import hub_session


def metrics(textfile: Annotated[Path | None, typer.Option(
                "--textfile", help="Write them to this .prom file (atomically), for node-exporter's "
                                   "textfile collector.")] = None,
            push: Annotated[str | None, typer.Option(
                "--push", help="Push them to the Pushgateway at this address.")] = None,
            job: Annotated[str, typer.Option("--job", help="The job label of pushed metrics.")] = "officehub",
            project: ProjectOption = None) -> None:
    """The hub's metrics (runs, quarantine, review queue, sites, agreements) in Prometheus' text format.

    With neither --textfile nor --push they are printed on stdout.
    """
    from officehub.connectors.urls import display_url
    from officehub.services import metrics_export

    if textfile is not None and textfile.suffix != ".prom":
        raise FatalError(f"--textfile {textfile}: node-exporter reads only files ending in .prom")
    with hub_session(project) as (loaded, store):
        if textfile is None and push is None:
            typer.echo(metrics_export.text(loaded, store).decode(), nl=False)
            return
        if textfile is not None:
            written = metrics_export.write_textfile(loaded, store, textfile)
            errors.print(f"metrics written to {written}", highlight=False)
        if push is not None:
            metrics_export.push(loaded, store, push, job)
            errors.print(f"metrics pushed to {display_url(push)} as job {job}", highlight=False)


def register(app: typer.Typer) -> None:
    """Attach the ``metrics`` command to the main app."""
    app.command("metrics")(metrics)
