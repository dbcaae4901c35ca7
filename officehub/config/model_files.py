"""A project's model files: its own entities and extensions of the built-ins, checked and put in force.

Model files are included like mappings (``include: [model/*.yaml]``) and hold the sections
``entities:`` and ``extend:`` (docs/model.md). They are read before the mappings, which
name the fields they declare.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from officehub.canonical_model import install
from officehub.canonical_model.declaration import EntityDecl, ExtensionDecl, FieldDecl, ModelFile, check_name
from officehub.canonical_model.declared import DeclarationError, build_entity, merge
from officehub.canonical_model.entities import BUILTIN_DECLARATIONS

#: Report a problem at a path of the merged configuration (file and line are found from it).
Report = Callable[[tuple, str], None]


def merge_extension(merged: dict[str, Any], extension: Any, file: str, report: Report) -> None:
    """Add an included file's ``extend:`` section field by field: two files may extend one entity."""
    if not isinstance(extension, dict):
        report(("extend",), f"extend in {file}: expected entities, each with 'fields'")
        return
    target = merged.setdefault("extend", {})
    for entity, body in extension.items():
        fields = (body or {}).get("fields") if isinstance(body, dict) else None
        if not isinstance(fields, dict):
            report(("extend", entity), f"extend.{entity} in {file}: expected 'fields'")
            continue
        into = target.setdefault(entity, {"fields": {}})["fields"]
        for name, spec in fields.items():
            if name in into:
                report(("extend", entity, "fields", name), f"extend.{entity}.fields.{name} is declared twice "
                                                           f"(again in {file})")
            into[name] = spec


def install_project_model(raw: dict[str, Any], report: Report) -> ModelFile:
    """Check the project's ``entities`` and ``extend`` and put the model in force.

    Every problem is reported, each with the path of what it is about, all at once. The
    declarations without a problem are put in force even when others have one, so that
    mappings of a sound entity are not reported as naming an unknown one.
    """
    entities = _each(raw.get("entities"), "entities", EntityDecl, report)
    extensions = _each(raw.get("extend"), "extend", ExtensionDecl, report)
    for name in [n for n in entities if n in BUILTIN_DECLARATIONS]:
        report(("entities", name), f"entities.{name}: a built-in entity; add fields to it with 'extend'")
        del entities[name]
    known = set(BUILTIN_DECLARATIONS) | set(entities)
    merged = dict(BUILTIN_DECLARATIONS) | entities
    for name, extension in list(extensions.items()):
        base = merged.get(name)
        again = sorted(set(base.fields) & set(extension.fields)) if base else []
        if base is None:
            report(("extend", name), f"extend.{name}: no such entity (known: {', '.join(sorted(known))})")
        for field in again:
            report(("extend", name, "fields", field), f"extend.{name}.fields.{field}: {name} already has this field")
        if base is None:
            del extensions[name]
        elif again:  # the rest of the extension still stands
            extensions[name] = extension.model_copy(
                update={"fields": {k: v for k, v in extension.fields.items() if k not in again}})
    for section, items in (("entities", entities), ("extend", extensions)):
        for name, body in list(items.items()):
            problems = _field_problems(section, name, body.fields, known)
            if not problems:
                base = merged.get(name) if section == "extend" else None
                whole = base.model_copy(update={"fields": {**base.fields, **body.fields}}) if base else body
                problems = _build_problem(section, name, whole)
            for path, message in problems:
                report(path, message)
            if problems:
                del items[name]
    declared = ModelFile(entities=entities, extend=extensions)
    install(merge([ModelFile(entities=BUILTIN_DECLARATIONS), declared]))
    return declared


def _each(section: Any, name: str, model: type[EntityDecl] | type[ExtensionDecl],
          report: Report) -> dict[str, Any]:
    """The items of a section that validate on their own; the others reported and left out."""
    if section is None:
        return {}
    if not isinstance(section, dict):
        report((name,), f"{name}: expected a mapping of entity names to declarations")
        return {}
    valid = {}
    for key, body in section.items():
        try:
            check_name(str(key), "entity")
            valid[key] = model.model_validate(body)
        except ValidationError as exc:
            for err in exc.errors(include_input=False, include_url=False):
                loc = (name, key, *err["loc"])
                report(loc, f"{'.'.join(str(p) for p in loc)}: {err['msg']}")
        except ValueError as exc:
            report((name, key), f"{name}.{key}: {exc}")
    return valid


def _field_problems(section: str, entity: str, fields: dict[str, FieldDecl], known: set[str],
                    prefix: tuple = ()) -> list[tuple[tuple, str]]:
    problems = []
    for name, field in fields.items():
        path = (section, entity, "fields", *prefix, name)
        where = ".".join(str(p) for p in path)
        if not prefix and field.sensitivity is None:
            problems.append((path, f"{where}: a sensitivity class ('class') is required; there is no default"))
        if field.type == "reference" and field.entity not in known:
            problems.append((path, f"{where}: refers to entity '{field.entity}', which is not declared"))
        if field.fields:
            problems += _field_problems(section, entity, field.fields, known, (*prefix, name, "fields"))
    return problems


def _build_problem(section: str, name: str, entity: EntityDecl) -> list[tuple[tuple, str]]:
    try:
        build_entity(name, entity)
    except DeclarationError as exc:
        path = (section, name, "fields", *exc.where.split(".")[1:2])
        return [(path, f"{section}.{exc}")]
    return []
