"""What the CLI shows: rich tables and progress bars for people, JSON for scripts.

Only the consoles are made at import: rich's tables and progress bars are imported when a
command draws one, and the engine's types only by type checkers, so ``officehub --help``
pays for neither.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from rich.console import Console

if TYPE_CHECKING:
    from rich.table import Table

    from officehub.engine import RunResult
    from officehub.store.bookkeeping import RunMetrics

# Piped output (logs, CI) is not cut to 80 columns: tables stay readable there too.
console = Console(width=None if sys.stdout.isatty() else 200)
errors = Console(stderr=True, width=None if sys.stderr.isatty() else 200)


def _default(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(type(value).__name__)


def emit_json(payload: Any) -> None:
    """Print ``payload`` as JSON on stdout (for scripts)."""
    sys.stdout.write(json.dumps(payload, default=_default, ensure_ascii=False, indent=2) + "\n")


def table(title: str | None, columns: Sequence[str], rows: Iterable[Sequence[Any]],
          numeric: Iterable[str] = ()) -> Table:
    """A rich table; ``numeric`` columns are right-aligned."""
    from rich.table import Table

    numbers = set(numeric)
    out = Table(title=title, title_justify="left", header_style="bold")
    for name in columns:
        out.add_column(name, justify="right" if name in numbers else "left")
    for row in rows:
        out.add_row(*("" if v is None else str(v) for v in row))
    return out


def result_dict(result: RunResult) -> dict[str, Any]:
    """A run result as plain data."""
    return {"pipeline": result.pipeline, "kind": result.kind, "run_id": result.run_id, "status": result.status,
            "seconds": round(result.seconds, 3), "error": result.error, **asdict(result.metrics)}


def summary_table(results: Sequence[RunResult]) -> Table:
    """Per pipeline: records read, written, unchanged, linked, deleted, quarantined, fields flagged or nulled
    (values that did not convert, ``on_error``), fields redacted, seconds."""
    columns = ["pipeline", "kind", "status", "read", "written", "unchanged", "linked", "deleted", "quarantined",
               "flagged", "redacted", "seconds"]
    rows = [(r.pipeline, r.kind, "[green]ok[/]" if r.status == "succeeded" else "[red]failed[/]",
             r.metrics.records_read, r.metrics.records_written, r.metrics.records_unchanged,
             r.metrics.records_linked, r.metrics.records_deleted, r.metrics.records_quarantined,
             r.metrics.fields_flagged + r.metrics.fields_nulled, r.metrics.fields_redacted, f"{r.seconds:.2f}")
            for r in results]
    return table(None, columns, rows, numeric=columns[3:])


@contextmanager
def progress_bars(enabled: bool) -> Iterator[Callable[[str, Callable[[], int | None]], Callable[[RunMetrics], None]]]:
    """A progress-factory for the engine: one bar per pipeline, shown only on a terminal."""
    if not enabled:
        yield lambda _name, _total: (lambda _metrics: None)
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    bars = Progress(SpinnerColumn(), TextColumn("{task.description:<28}"), BarColumn(), MofNCompleteColumn(),
                    TextColumn("[dim]{task.fields[note]}"), TimeElapsedColumn(), console=errors, transient=False)

    def factory(name: str, estimate: Callable[[], int | None]) -> Callable[[RunMetrics], None]:
        task = bars.add_task(name, total=estimate(), note="")

        def update(metrics: RunMetrics) -> None:
            bars.update(task, completed=metrics.records_read,
                        note=f"{metrics.records_quarantined} quarantined" if metrics.records_quarantined else "")
        return update

    with bars:
        yield factory
