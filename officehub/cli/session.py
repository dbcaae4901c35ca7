"""Opening a project and its hub store for one command, and closing them again."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from officehub.cli.options import project_dir

if TYPE_CHECKING:
    from officehub.config import Project
    from officehub.store.hub import HubStore


@contextmanager
def hub_session(project: Path | None) -> Iterator[tuple[Project, HubStore]]:
    """The loaded project and its (migrated) hub store; the store is closed afterwards."""
    # Imported here, not at the top: the configuration and the store pull in pydantic and SQLAlchemy,
    # which commands that never open a project (and `--help`) should not wait for.
    from officehub.config import load_project
    from officehub.engine import open_store

    loaded = load_project(project_dir(project))
    store = open_store(loaded)
    try:
        yield loaded, store
    finally:
        store.close()
