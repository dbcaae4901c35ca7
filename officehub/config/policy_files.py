"""Loading policy files with file and line for every problem, and checking them against the project."""

from __future__ import annotations

from contextlib import suppress
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from officehub.canonical_model import layout
from officehub.config.globs import glob_project
from officehub.config.models import ProjectConfig
from officehub.config.yaml_source import Positions, YamlError, load_yaml
from officehub.policies import PolicyDocument, PolicySet, Rule, template


def policy_paths(patterns: list[str], base_dir: Path) -> list[Path]:
    """The policy files a project's globs name, in a stable order (a pattern the loader refused names none)."""
    found: list[Path] = []
    for pattern in patterns:
        with suppress(ValueError):
            found += glob_project(base_dir, pattern)
    return found


def _check_document(doc: PolicyDocument, root: tuple, config: ProjectConfig | None, add) -> None:  # type: ignore[no-untyped-def]
    for index, name in enumerate(doc.uses):
        try:
            template(name)
        except ValueError as exc:
            add(root + ("uses", index), str(exc))
    if config is not None:
        for index, agreement in enumerate(doc.agreements):
            # A destination is a system the hub publishes to, or an application reading through the hub API.
            if agreement.destination not in config.systems and agreement.destination not in config.serve.clients:
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
            if leaf.base_type is not bool:
                add(root + ("rules", index, "consent"), f"rule {rule.id}: '{rule.consent}' is not a yes/no field")
    for index, rule in enumerate(doc.rules):
        # A destination's own key (hash or tokenize ``key``) must be in the ring, or every publish fails.
        key = rule.params.get("key")
        if config is not None and key is not None and key not in config.hub.keys:
            add(root + ("rules", index, "params", "key"), f"rule {rule.id}: key '{key}' is not one of hub.keys")


def _check_conditions(loaded: list[tuple[PolicyDocument, tuple]], config: ProjectConfig | None, add) -> None:  # type: ignore[no-untyped-def]
    """A ``when`` entry that can never match disables its rule without a word: each is an error.

    Checked once every file is read, since a rule may name the purpose of an agreement in another file.
    """
    countries = ({**{name: client.country for name, client in config.serve.clients.items()},
                  **{name: system.country for name, system in config.systems.items()}}
                 if config is not None else None)
    purposes = {a.purpose for doc, _ in loaded for a in doc.agreements}
    for doc, root in loaded:
        for index, rule in enumerate(doc.rules):
            for where, message in rule.when.unmatchable(countries, purposes):
                add(root + ("rules", index, "when", *where), f"rule {rule.id}: {message}")


def _check_citations(policy_set: PolicySet, roots: list[tuple], add) -> PolicySet:  # type: ignore[no-untyped-def]
    """Every legal basis cited must be in the register, which a document's declarations join: checked last."""
    for index, where, message in policy_set.citation_problems():
        add(roots[index] + where, message)
    return policy_set


def _params_location(loc: tuple) -> tuple:
    """An action's parameter errors surface on the rule; point them at the rule's ``params`` instead."""
    if len(loc) >= 3 and loc[0] == "rules" and loc[2] not in Rule.model_fields:
        return (*loc[:2], "params", *loc[2:])
    return loc


def load_policies(paths: list[Path], base_dir: Path, positions: Positions, add,  # type: ignore[no-untyped-def]
                  config: ProjectConfig | None = None) -> PolicySet:
    """Validate each file into a PolicyDocument; ``add(path, message)`` receives every problem."""
    loaded: list[tuple[PolicyDocument, tuple]] = []
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
        loaded.append((doc, root))
    _check_conditions(loaded, config, add)
    return _check_citations(PolicySet(tuple(doc for doc, _ in loaded)), [root for _, root in loaded], add)


def policies_with(project_policies: list[str], base_dir: Path, config: ProjectConfig, file: str,
                  text: str) -> PolicySet:
    """The project's policies with policy file ``file`` (relative to ``base_dir``) holding ``text`` instead.

    Checked exactly as ``load_project`` checks policy files; ConfigError with every problem (file and
    line) otherwise. ``file`` must be one the project's ``policies:`` globs name, or it would not
    take effect.
    """
    import shutil
    import tempfile

    from officehub.config.project import ConfigError, ConfigIssue

    relative = Path(file)
    if relative.is_absolute() or ".." in relative.parts or relative.suffix not in (".yaml", ".yml"):
        raise ConfigError([ConfigIssue(file, 0, "a policy file is a .yaml path inside the project folder")])
    if not any(relative.match(pattern) for pattern in project_policies):
        raise ConfigError([ConfigIssue(file, 0, "no 'policies:' pattern of officehub.yaml names this file, so it "
                                                f"would not take effect (patterns: {', '.join(project_policies)})")])
    with tempfile.TemporaryDirectory(prefix="officehub-policy-") as scratch:
        root = Path(scratch)
        for path in policy_paths(project_policies, base_dir):
            target = root / path.relative_to(base_dir)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text, encoding="utf-8")
        positions, issues = Positions(), []

        def add(path: tuple, message: str) -> None:
            where = positions.locate(path)
            issues.append(ConfigIssue(where[0], where[1], message) if where else
                          ConfigIssue(str(path[1]) if len(path) > 1 else file, 0, message))

        found = load_policies(policy_paths(project_policies, root), root, positions, add, config)
    if issues:
        raise ConfigError(issues)
    return found
