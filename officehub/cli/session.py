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
    # The store is opened here rather than through officehub.engine.open_store, which would import the
    # sync engine (the pipelines and the connectors' formats) for a command that only reads the store.
    from officehub.config import load_project
    from officehub.store.hub import HubStore

    loaded = load_project(project_dir(project))
    hub = loaded.config.hub
    store = HubStore.open(hub.store, loaded.base_dir, password=hub.store_password)
    try:
        yield loaded, store
    finally:
        store.close()
