"""OpenLineage run events of every ingest and publish (see :mod:`officehub.engine.lineage.emitter`)."""

from officehub.engine.lineage.emitter import ParentRun, RunLineage, started, under_parent

__all__ = ["ParentRun", "RunLineage", "started", "under_parent"]
