"""The sync engine: ingest and publish pipelines over Arrow batches.

The names below are imported from their submodules on first use (PEP 562), so a
command that only reads the hub store does not import the pipelines.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from officehub.lazy import lazy_exports

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


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
