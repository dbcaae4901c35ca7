"""Who hears of each finished run: observers registered under the entry-point group ``officehub.run_observers``.

The engine reports a run's end here and knows nothing of what listens (the metrics export, for one,
lives with the services). Built-in observers register the same way a third-party package would, so runs
under the CLI, Airflow and the server report alike. An observer that fails is logged and skipped: the
run is already over and on record.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import cache
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from officehub.config import Project
    from officehub.store.hub import HubStore

log = logging.getLogger(__name__)

GROUP = "officehub.run_observers"
Observer = Callable[["Project", "HubStore", Any], None]


@cache
def observers() -> tuple[tuple[str, Observer], ...]:
    """The registered observers, loaded once per process; one that cannot be loaded is left out."""
    found = []
    for point in sorted(entry_points(group=GROUP), key=lambda p: p.name):
        try:
            found.append((point.name, point.load()))
        except Exception as exc:  # noqa: BLE001 - a broken plugin must not stop runs
            log.warning("run observer %s not loaded (%s)", point.name, type(exc).__name__)
    return tuple(found)


def run_finished(project: Project, store: HubStore, result: Any) -> None:
    """Tell every observer that a run ended (``result`` is the runner's RunResult)."""
    for name, observer in observers():
        try:
            observer(project, store, result)
        except Exception as exc:  # noqa: BLE001 - see the module docstring
            log.warning("run observer %s failed after pipeline %s (%s)", name, result.pipeline, type(exc).__name__)
