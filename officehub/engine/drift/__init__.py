"""Schema drift: each ingest run compares the columns its source offers with last time's.

:mod:`.compare` finds what changed (pure), :mod:`.special` tells whether a new column looks
like special-category data (pure), :mod:`.guard` applies the pipeline's ``schema_changes``
handling to a run's batches.
"""

from officehub.engine.drift.compare import Change, Column, compare
from officehub.engine.drift.guard import guarded

__all__ = ["Change", "Column", "compare", "guarded"]
