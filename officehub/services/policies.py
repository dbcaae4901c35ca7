"""What the policy commands need from the hub store: real records through a plan (audited), lowered classes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from officehub.config import Project
from officehub.engine.preview import preview_records
from officehub.store import model_state
from officehub.store.hub import HubStore, resolve_url


def preview(project: Project, store: HubStore, actor: str, destination: str, sample: int) -> list[dict[str, Any]]:
    """``sample`` recent records per publish pipeline to ``destination``, before and after its policy.

    Originals are abbreviated and special-category values show only their class; every preview is
    audited (``policy.preview``, with how many records were shown).
    """
    return preview_records(project, store, destination, sample, actor)


def lowered_classes(project: Project) -> list[tuple[str, str]]:
    """Fields whose sensitivity class the model lowered, as (field, what happened); none without a hub store.

    Opens the store without checking the model against it: a lowered class is what ``policy check`` reports.
    """
    hub = project.config.hub
    url = resolve_url(hub.store, project.base_dir)
    if url.get_backend_name() == "sqlite" and not Path(url.database or "").is_file():
        return []  # no hub store yet, so no model was ever applied to one
    store = HubStore.open(hub.store, project.base_dir, password=hub.store_password, check_model=False)
    try:
        with store.begin() as conn:
            return model_state.class_events(conn)
    finally:
        store.close()
