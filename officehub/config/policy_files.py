"""Loading policy files with file and line for every problem, and checking them against the project."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
from pydantic import ValidationError

from canonical_model import layout
from officehub.config.models import ProjectConfig
from officehub.config.yaml_source import Positions, YamlError, load_yaml
from policies import PolicyDocument, PolicySet, Rule, template


def policy_paths(patterns: list[str], base_dir: Path) -> list[Path]:
    """The policy files a project's globs name, in a stable order."""
    return [path for pattern in patterns for path in sorted(base_dir.glob(pattern))]


def _check_document(doc: PolicyDocument, root: tuple, config: ProjectConfig | None, add) -> None:  # type: ignore[no-untyped-def]
    for index, name in enumerate(doc.uses):
        try:
            template(name)
        except ValueError as exc:
            add(root + ("uses", index), str(exc))
    if config is not None:
        for index, agreement in enumerate(doc.agreements):
            if agreement.destination not in config.systems:
                add(root + ("agreements", index, "destination"),
                    f"agreement {agreement.id}: unknown destination '{agreement.destination}'")
    for index, rule in enumerate(doc.rules):
        if rule.consent:
            entity, _, path = rule.consent.partition(".")
            try:
                leaf = layout(entity).field(path)
            except KeyError:
                add(root + ("rules", index, "consent"), f"rule {rule.id}: no field '{rule.consent}'")
                continue
            if not pa.types.is_boolean(leaf.arrow_type):
                add(root + ("rules", index, "consent"), f"rule {rule.id}: '{rule.consent}' is not a yes/no field")


def _params_location(loc: tuple) -> tuple:
    """An action's parameter errors surface on the rule; point them at the rule's ``params`` instead."""
    if len(loc) >= 3 and loc[0] == "rules" and loc[2] not in Rule.model_fields:
        return (*loc[:2], "params", *loc[2:])
    return loc


def load_policies(paths: list[Path], base_dir: Path, positions: Positions, add,  # type: ignore[no-untyped-def]
                  config: ProjectConfig | None = None) -> PolicySet:
    """Validate each file into a PolicyDocument; ``add(path, message)`` receives every problem."""
    documents = []
    for path in paths:
        rel = str(path.relative_to(base_dir)) if path.is_relative_to(base_dir) else str(path)
        root = ("policy-file", rel)
        try:
            raw: Any = load_yaml(path, positions, rel, root)
            doc = PolicyDocument.model_validate(raw or {})
        except YamlError as exc:
            positions.where[root] = (exc.file, exc.line)
            add(root, exc.problem)
            continue
        except ValidationError as exc:
            for err in exc.errors(include_input=False, include_url=False):
                where = _params_location(tuple(err["loc"]))
                add(root + where, f"{'.'.join(str(p) for p in where) or 'policy'}: {err['msg']}")
            continue
        _check_document(doc, root, config, add)
        documents.append(doc)
    return PolicySet(tuple(documents))
