"""The sync engine: ingest and publish pipelines over Arrow batches.

The names below are imported from their submodules on first use (PEP 562), so a
command that only reads the hub store does not import the pipelines.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from officehub.engine.ingest import Ingest
    from officehub.engine.publish import Publish
    from officehub.engine.runner import RunResult, build_step, open_store, run_pipeline, sync

__all__ = ["Ingest", "Publish", "RunResult", "build_step", "open_store", "run_pipeline", "sync"]

#: The submodule defining each public name.
_EXPORTS: dict[str, str] = {
    "Ingest": "officehub.engine.ingest",
    "Publish": "officehub.engine.publish",
    **dict.fromkeys(("RunResult", "build_step", "open_store", "run_pipeline", "sync"), "officehub.engine.runner"),
}


def __getattr__(name: str) -> Any:
    """Import a public name from its submodule the first time it is asked for (PEP 562)."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    """The package's names, the ones not imported yet included."""
    return sorted({*globals(), *__all__})
