"""Commands that bring the hub store to the canonical model: ``model diff`` and ``store upgrade``."""

from __future__ import annotations

import getpass
from typing import TYPE_CHECKING, Annotated

import typer

from officehub.cli.options import JsonOption, ProjectOption, project_dir
from officehub.cli.output import console, emit_json, table

if TYPE_CHECKING:
    from officehub.store import model_state
    from officehub.store.hub import HubStore


def _store(project: ProjectOption) -> HubStore:
    from officehub.config import load_project
    from officehub.store.hub import HubStore

    loaded = load_project(project_dir(project))
    hub = loaded.config.hub
    # Migrated to the newest revision, but not yet required to fit the model: that is what these commands do.
    return HubStore.open(hub.store, loaded.base_dir, password=hub.store_password, check_model=False)


def _show(diff: model_state.ModelDiff, title: str) -> None:
    destructive = diff.destructive
    rows = [(c.kind, f"{c.table}.{c.column}" if c.column else c.table, c.detail or "",
             "[red]yes[/]" if c in destructive else "") for c in diff.changes]
    console.print(table(title, ["change", "where", "detail", "destroys / lowers"], rows))


def diff(project: ProjectOption = None, as_json: JsonOption = False) -> None:
    """Show what the model in force changes in the hub store (tables, columns, lowered classes)."""
    from officehub.store import model_state

    store = _store(project)
    try:
        with store.begin() as conn:
            pending = model_state.pending(conn)
    finally:
        store.close()
    if as_json:
        emit_json(pending.as_dict())
        return
    if not pending.changes:
        console.print("the hub store fits the model in force")
        return
    _show(pending, "changes the model makes to the hub store")
    if pending.destructive:
        console.print(f"{len(pending.destructive)} change(s) destroy data or lower protection: "
                      "'officehub store upgrade --allow-destructive' applies them (audited)", highlight=False)


def upgrade(project: ProjectOption = None,
            allow_destructive: Annotated[bool, typer.Option(
                "--allow-destructive", help="Also drop fields and entities, narrow types and lower classes.")] = False,
            as_json: JsonOption = False) -> None:
    """Migrate the hub store to this version of officehub and shape it for the model in force."""
    from officehub.config import load_project
    from officehub.store import model_state
    from officehub.store.hub import HubStore

    loaded = load_project(project_dir(project))
    hub = loaded.config.hub
    store = HubStore(hub.store, loaded.base_dir, hub.store_password)
    try:
        before, after = store.upgrade()
        with store.begin() as conn:
            applied = model_state.upgrade(conn, f"user:{getpass.getuser()}", allow_destructive=allow_destructive)
    finally:
        store.close()
    if as_json:
        emit_json({"revision": after, "was": before, **applied.as_dict()})
        return
    console.print(f"hub store at revision {after}" + ("" if before == after else f" (was {before or 'empty'})"))
    if applied.changes:
        _show(applied, "applied to the hub store")
    else:
        console.print("the hub store fits the model in force")


def register(model_app: typer.Typer, store_app: typer.Typer) -> None:
    """Attach ``model diff`` and ``store upgrade``."""
    model_app.command()(diff)
    store_app.command()(upgrade)


__all__ = ["register"]
