"""Commands about the project itself: init, check, model, discover, store, demo.

The canonical model and the configuration are imported inside the commands that use them.
"""

from __future__ import annotations

import shutil
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer

from officehub.canonical_model.errors import FatalError
from officehub.cli import commands_model
from officehub.cli.options import JsonOption, ProjectOption, project_dir
from officehub.cli.output import console, emit_json, table

TEMPLATES = Path(__file__).parent / "templates"

model_app = typer.Typer(help="The canonical model: entities, fields and their sensitivity classes.",
                        no_args_is_help=True)
store_app = typer.Typer(help="The hub store: schema migrations.", no_args_is_help=True)


def init(directory: Annotated[Path, typer.Argument(help="Folder to create the project in.")] = Path("."),
         force: Annotated[bool, typer.Option(help="Overwrite existing files.")] = False) -> None:
    """Create a new project folder with commented example configuration."""
    from officehub.config import CONFIG_FILE

    if (directory / CONFIG_FILE).exists() and not force:
        raise FatalError(f"{directory / CONFIG_FILE} already exists (use --force to overwrite)")
    for source in sorted(TEMPLATES.rglob("*.yaml")):
        target = directory / source.relative_to(TEMPLATES)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    console.print(f"Created a project in {directory}. Next: describe your systems in "
                  f"{directory / 'systems'}, then run [bold]officehub check[/].", highlight=False)


#: Said by `check` when no key signs audit checkpoints (docs/adr/0010); ``{config}`` is the configuration file.
UNANCHORED = ("{config}: hub.audit_key is not set, so the audit trail is unanchored: cutting off its newest "
              "entries or rewriting it would go unnoticed ('officehub audit keygen PATH' makes a key)")


def check(project: ProjectOption = None, as_json: JsonOption = False,
          connect: Annotated[bool, typer.Option("--connect", help=(
              "Also connect to every source system and check that each mapping's streams, keys and "
              "columns exist there (reads names only, no rows)."))] = False) -> None:
    """Validate the configuration; list every problem with its file and line."""
    from officehub.config import CONFIG_FILE, ConfigError, load_project
    from officehub.config.sharing import unagreed_publishes

    loaded = load_project(project_dir(project))
    cfg = loaded.config
    for entity, _ in cfg.identity.items():
        loaded.match_model(entity)  # a missing, invalid or untrained model file is a problem with its file
    counts = {"systems": len(cfg.systems), "mappings": len(cfg.mappings), "pipelines": len(cfg.pipelines)}
    warnings = ([] if cfg.hub.audit_key else [UNANCHORED.format(config=CONFIG_FILE)]) + unagreed_publishes(loaded)
    if connect:
        from officehub.config.live_check import check_sources

        live = check_sources(loaded)
        if live.problems:
            raise ConfigError(live.problems)
        warnings += [f"{where}: offers no columns yet (no file, or no declared schema), so its mapping's "
                     "columns were not checked" for where in live.unchecked]
    if as_json:
        emit_json({"ok": True, **counts, "warnings": warnings})
        return
    console.print(f"[green]ok[/] {loaded.base_dir / CONFIG_FILE}: {counts['systems']} systems, "
                  f"{counts['mappings']} mappings, {counts['pipelines']} pipelines", highlight=False)
    for warning in warnings:
        console.print(f"[yellow]warning[/] {warning}", highlight=False)


def _project_model(project: Path | None) -> None:
    """Put the project's model in force (declared entities, extensions) when there is a project here."""
    from officehub.config import CONFIG_FILE, load_project

    folder = project_dir(project)
    if (folder / CONFIG_FILE).is_file():
        load_project(folder)


def schema(entity: Annotated[str | None, typer.Argument(help="An entity: customer, product, employee or "
                                                                "one the project declares.")] = None,
           project: ProjectOption = None) -> None:
    """Print the JSON Schema of one entity (or all), with each field's sensitivity class."""
    from officehub.canonical_model import ENTITIES, json_schema, json_schemas

    _project_model(project)
    if entity is not None and entity not in ENTITIES:
        raise FatalError(f"unknown entity '{entity}' (known: {', '.join(ENTITIES)})")
    emit_json(json_schema(entity) if entity else json_schemas())


def fields(entity: Annotated[str, typer.Argument(help="An entity: customer, product, employee or one the "
                                                      "project declares.")],
           project: ProjectOption = None, as_json: JsonOption = False) -> None:
    """List an entity's fields as mappings address them: type, class, whether required, free text, constraints.

    In a project folder (or with -p) the project's model applies: declared entities and extensions.
    """
    from officehub.canonical_model import ENTITIES, layout

    _project_model(project)
    if entity not in ENTITIES:
        raise FatalError(f"unknown entity '{entity}' (known: {', '.join(ENTITIES)})")
    lay = layout(entity)
    rows = [(f.path, str(f.arrow_type), f.sensitivity.value if f.sensitivity else "UNCLASSIFIED",
             "yes" if f.required else (f"with {f.required_within}" if f.required_within else ""), f.free_text,
             f.rules)
            for f in lay.fields]
    for coll in lay.collections:
        rows += [(f"{coll.name}[].{f.path}", str(f.arrow_type), f.sensitivity.value if f.sensitivity else "UNCLASSIFIED",
                  "yes" if f.required else "", f.free_text, f.rules) for f in coll.fields]
    if as_json:
        emit_json([dict(zip(("path", "type", "sensitivity", "required", "free_text", "constraints"), r)) for r in rows])
        return
    console.print(table(f"{entity} (schema version {lay.model.schema_version})",
                        ["field", "type", "sensitivity", "required", "free text", "constraints"],
                        [(*r[:4], "yes" if r[4] else "", "; ".join(r[5])) for r in rows]))
    if lay.required_one_of:
        console.print(f"A {entity} needs at least one of: {', '.join(lay.required_one_of)}.")


def discover(system: Annotated[str, typer.Argument(help="Name of a system in the configuration.")],
             project: ProjectOption = None, as_json: JsonOption = False) -> None:
    """List the streams a system offers, with their fields, keys and cursor candidates."""
    from officehub.config import load_project

    loaded = load_project(project_dir(project))
    if system not in loaded.config.systems:
        raise FatalError(f"no system '{system}' (configured: {', '.join(loaded.config.systems) or 'none'})")
    with loaded.connector(system) as connector:
        connector.check()
        streams = connector.discover()
    if as_json:
        emit_json([asdict(s) for s in streams])
        return
    rows = [(s.name, s.kind, len(s.fields), ", ".join(s.primary_key), ", ".join(s.cursor_candidates),
             ", ".join(f.name for f in s.fields)) for s in streams]
    console.print(table(f"streams of {system}", ["stream", "kind", "fields", "key", "cursor candidates", "field names"],
                        rows, numeric=["fields"]))


def demo(directory: Annotated[Path, typer.Argument(help="The demo estate's folder.")] = Path("examples/demo"),
         customers: Annotated[int, typer.Option(min=1)] = 500,
         employees: Annotated[int, typer.Option(min=1)] = 120,
         products: Annotated[int, typer.Option(min=1)] = 200,
         as_json: JsonOption = False) -> None:
    """Seed the demo estate's legacy apps, run every pipeline and print the summary."""
    from officehub.cli.commands_data import run_and_report
    from officehub.config import CONFIG_FILE, load_project

    try:
        from officehub.demo.seed import seed_estate
    except ImportError:
        raise FatalError("the demo needs Faker: pip install 'officehub[demo]'") from None
    if not (directory / CONFIG_FILE).is_file():
        raise FatalError(f"no demo estate in {directory} (expected {directory / CONFIG_FILE})")
    for state in (".officehub", "out"):  # every demo starts from an empty hub and empty destinations
        shutil.rmtree(directory / state, ignore_errors=True)
    summary = seed_estate(directory / "data", customers=customers, employees=employees, products=products)
    if not as_json:
        console.print(f"Seeded {summary.customers} CRM customers, {summary.debtors} accounting debtors with their "
                      f"suppliers and invoices, {summary.employees} HR employees, {summary.products} inventory items "
                      f"and their quality inspections ({sum(summary.dirty.values())} rows deliberately dirty).")
    loaded = load_project(directory)
    code = run_and_report(loaded, loaded.pipelines_in_order(), as_json)
    if not as_json:
        console.print(f"Destinations: {directory / 'out'} · quarantine: officehub -p {directory} quarantine list · "
                      f"likely duplicates to review: officehub -p {directory} match review")
    raise typer.Exit(code)


def register(app: typer.Typer) -> None:
    """Attach these commands to the main app."""
    app.command()(init)
    app.command()(check)
    app.command()(discover)
    app.command()(demo)
    model_app.command()(schema)
    model_app.command()(fields)
    commands_model.register(model_app, store_app)
    app.add_typer(model_app, name="model")
    app.add_typer(store_app, name="store")


__all__ = ["register"]
