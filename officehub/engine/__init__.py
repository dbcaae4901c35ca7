"""The sync engine: ingest and publish pipelines over Arrow batches."""

from officehub.engine.ingest import Ingest
from officehub.engine.publish import Publish
from officehub.engine.runner import RunResult, build_step, open_store, run_pipeline, sync

__all__ = ["Ingest", "Publish", "RunResult", "build_step", "open_store", "run_pipeline", "sync"]
