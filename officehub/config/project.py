"""Loading a project: read, merge includes, validate everything, report every problem at once."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from officehub.canonical_model import ENTITIES, Sensitivity
from officehub.canonical_model.errors import FatalError
from officehub.config.capabilities import check_capabilities
from officehub.config.globs import glob_project
from officehub.config.model_files import install_project_model, merge_extension
from officehub.config.models import PipelineConfig, ProjectConfig, SystemConfig
from officehub.config.policy_files import load_policies, policy_paths
from officehub.config.yaml_source import Positions, YamlError, load_yaml
from officehub.connectors import Connector, connector_class
from officehub.identity.match_model import MatchModel, read_model
from officehub.mapping import InboundMapping, MappingError, MappingSpec, OutboundMapping, lineage
from officehub.mapping.compiled import compile_fields, missing_within_groups
from officehub.policies import KeyRing, PolicySet
from officehub.store.audit_anchor import AuditKeys, public_key_from_text, signing_key_from_text

CONFIG_FILE = "officehub.yaml"
_MERGED_SECTIONS = ("systems", "mappings", "pipelines", "entities")


@dataclass(frozen=True)
class ConfigIssue:
    """One problem in the configuration, with where it is."""

    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}" if self.line else f"{self.file}: {self.message}"


class ConfigError(FatalError):
    """The configuration has problems; ``issues`` lists every one of them."""

    def __init__(self, issues: list[ConfigIssue]) -> None:
        self.issues = issues
        super().__init__(f"{len(issues)} configuration problem(s); first: {issues[0]}")


class _Collector:
    def __init__(self, positions: Positions, default_file: str) -> None:
        self.positions = positions
        self.default_file = default_file
        self.issues: list[ConfigIssue] = []
        #: Names of items that failed validation, so references to them are not reported again.
        self.invalid: set[str] = set()

    def add(self, path: tuple, message: str) -> None:
        file, line = self.positions.locate(path) or (self.default_file, 0)
        self.issues.append(ConfigIssue(file, line, message))

    def add_validation(self, prefix: tuple, exc: ValidationError) -> None:
        for err in exc.errors(include_input=False, include_url=False):
            loc = prefix + tuple(err["loc"])
            where = ".".join(str(p) for p in loc)
            self.add(loc, f"{where}: {err['msg']}")


def _merge_include(merged: dict[str, Any], extra: Any, file: str, collector: _Collector) -> None:
    if extra is None:  # a file with only comments
        return
    if not isinstance(extra, dict):
        collector.issues.append(ConfigIssue(file, 1, "an included file must be a mapping of sections"))
        return
    for section, items in extra.items():
        if section in _MERGED_SECTIONS and isinstance(items, dict):
            target = merged.setdefault(section, {})
            for name, value in items.items():
                if name in target:
                    collector.add((section, name), f"{section}.{name} is defined twice (again in {file})")
                target[name] = value
        elif section == "extend":
            merge_extension(merged, items, file, collector.add)
        elif section == "policies" and isinstance(items, list):
            merged.setdefault("policies", []).extend(items)
        else:
            collector.issues.append(ConfigIssue(file, 1, f"section '{section}' cannot be set in an included file"))


class Project:
    """A validated project: its config, folder and the means to open its systems."""

    def __init__(self, config: ProjectConfig, base_dir: Path, positions: Positions,
                 policies: PolicySet | None = None) -> None:
        self.config = config
        self.base_dir = base_dir
        self.positions = positions
        self.policies = policies or PolicySet()
        self._models: dict[str, MatchModel | None] = {}

    def keyring(self) -> KeyRing:
        """The pseudonymisation and tokenisation keys, resolved from their env vars or files."""
        hub = self.config.hub
        secrets = {kid: ref.resolve(self.base_dir).get_secret_value().encode() for kid, ref in hub.keys.items()}
        return KeyRing(secrets, hub.active_key)

    @cached_property
    def audit_keys(self) -> AuditKeys:
        """The key that signs audit checkpoints and the public keys that verify them, resolved once."""
        hub = self.config.hub
        signer = None if hub.audit_key is None else signing_key_from_text(
            hub.audit_key.resolve(self.base_dir).get_secret_value(), "hub.audit_key")
        return AuditKeys.of(signer, [public_key_from_text(text) for text in hub.audit_verify_keys])

    @property
    def name(self) -> str:
        """The hub's name."""
        return self.config.hub.name

    def connector(self, system: str) -> Connector:
        """A connector for ``system``, configured and ready to use."""
        cfg = self.config.systems[system]
        cls = connector_class(cfg.type)
        return cls(system, cls.Config.model_validate(cfg.connector_settings()), self.base_dir)

    def derived_classes(self) -> dict[str, Sensitivity]:
        """Classes the ingest mappings declare for derived fields, as ``{"entity.path": class}``."""
        return lineage.derived_classes(lineage.feeds(ingest_mappings(self.config)))

    def match_model_path(self, entity: str) -> Path | None:
        """The model file of ``entity``'s probabilistic matching, when its rules use one."""
        rule = self.config.identity.for_entity(entity).match.probabilistic
        return None if rule is None else self.base_dir / rule.model

    def match_model(self, entity: str) -> MatchModel | None:
        """``entity``'s trained match model, read once; None when its rules use none.

        A model file that is missing, invalid or untrained stops the run with a one-line error
        naming the file: matching without the weights the rules ask for would link wrongly.
        """
        if entity not in self._models:
            path = self.match_model_path(entity)
            model = None
            if path is not None:
                where = path.relative_to(self.base_dir) if path.is_relative_to(self.base_dir) else path
                if not path.exists():
                    raise ConfigError([ConfigIssue(str(where), 1, f"no match model for {entity} yet: run "
                                                   f"officehub match train {entity}")])
                try:
                    model = read_model(path)
                except ValueError as exc:
                    raise ConfigError([ConfigIssue(str(where), 1, str(exc))]) from None
                if not model.is_trained:
                    raise ConfigError([ConfigIssue(str(where), 1, f"the {entity} match model is not trained: run "
                                                   f"officehub match train {entity}")])
            self._models[entity] = model
        return self._models[entity]

    def pipelines_in_order(self) -> list[str]:
        """Every pipeline: ingests first, then publishes, each in the order written."""
        items = list(self.config.pipelines.items())
        return [n for n, p in items if p.kind == "ingest"] + [n for n, p in items if p.kind == "publish"]


def _read(base_dir: Path, collector: _Collector, positions: Positions) -> dict[str, Any]:
    main = base_dir / CONFIG_FILE
    if not main.is_file():
        raise ConfigError([ConfigIssue(str(main), 0, "no officehub.yaml here (run 'officehub init' to create one)")])
    merged = load_yaml(main, positions, CONFIG_FILE) or {}
    if not isinstance(merged, dict):
        raise ConfigError([ConfigIssue(CONFIG_FILE, 1, "officehub.yaml must be a mapping of sections")])
    includes = merged.get("include") or []
    if not isinstance(includes, list):
        includes = []  # the model's validation reports it
    for pattern in includes:
        try:
            files = glob_project(base_dir, str(pattern))
        except ValueError as exc:
            collector.add(("include",), f"include {exc}")
            continue
        if not files:
            collector.add(("include",), f"include '{pattern}' matches no file")
        for path in files:
            rel = str(path.relative_to(base_dir))
            _merge_include(merged, load_yaml(path, positions, rel), rel, collector)
    return merged


def _check_references(config: ProjectConfig, collector: _Collector, base_dir: Path) -> None:
    for name, system in config.systems.items():
        try:
            cls = connector_class(system.type)
            cls.Config.model_validate(system.connector_settings())
        except FatalError as exc:
            collector.add(("systems", name, "type"), exc.message)
        except ValidationError as exc:
            collector.add_validation(("systems", name), exc)
        except LookupError as exc:
            collector.add(("systems", name), str(exc))
    used_by = {p.mapping: p.kind for p in config.pipelines.values()}
    for name, mapping in config.mappings.items():
        if mapping.system not in config.systems:
            collector.add(("mappings", name, "system"), f"mappings.{name}: unknown system '{mapping.system}'")
        for path, fspec in mapping.fields.items():
            if fspec.ids_from and fspec.ids_from not in config.systems:
                collector.add(("mappings", name, "fields", path, "ids_from"),
                              f"mappings.{name}: field '{path}' takes ids from unknown system '{fspec.ids_from}'")
        try:
            if used_by.get(name) == "publish":
                OutboundMapping(mapping, name)
            elif used_by.get(name) == "ingest":
                InboundMapping(mapping, name)
            else:  # no pipeline uses it yet: only what holds either way (which fields it must map depends)
                compile_fields(mapping)
        except MappingError as exc:
            for path, message in exc.problems:
                collector.add(("mappings", name, *path), f"mappings.{name}: {message}")
    _check_enriched_groups(config, used_by, collector)
    for name, pipeline in config.pipelines.items():
        if pipeline.mapping not in config.mappings and pipeline.mapping not in collector.invalid:
            collector.add(("pipelines", name, "mapping"), f"pipelines.{name}: unknown mapping '{pipeline.mapping}'")
    for index, pattern in enumerate(config.policies):
        try:
            if not glob_project(base_dir, pattern):
                collector.add(("policies", index), f"policy file '{pattern}' not found")
        except ValueError as exc:
            collector.add(("policies", index), f"policy file {exc}")
    _check_api_clients(config, collector)


def _check_api_clients(config: ProjectConfig, collector: _Collector) -> None:
    """Each API client reads known entities and submits through ingest pipelines of an ``api`` system."""
    for name, client in config.serve.clients.items():
        where = ("serve", "clients", name)
        for entity in client.entities:
            if entity not in ENTITIES:
                collector.add((*where, "entities"), f"serve.clients.{name}: unknown entity '{entity}'")
        for entity, pipeline_name in client.submits.items():
            pipeline = config.pipelines.get(pipeline_name)
            mapping = config.mappings.get(pipeline.mapping) if pipeline else None
            system = config.systems.get(mapping.system) if mapping else None
            if pipeline is None or pipeline.kind != "ingest":
                problem = f"'{pipeline_name}' is not an ingest pipeline"
            elif mapping is None or system is None or system.type != "api":
                problem = f"pipeline '{pipeline_name}' does not read from a system of type api"
            elif mapping.target != entity:
                problem = f"pipeline '{pipeline_name}' brings in {mapping.target} records, not {entity}"
            else:
                continue
            collector.add((*where, "submits", entity), f"serve.clients.{name}: {entity}: {problem}")


def _check_enriched_groups(config: ProjectConfig, used_by: dict[str, str], collector: _Collector) -> None:
    """An enriching mapping that fills part of a group needs the group's required fields from some
    ingest mapping of the same system and entity (itself or the one that creates the records)."""
    ingest = {name: spec for name, spec in config.mappings.items() if used_by.get(name) == "ingest"}
    for name, spec in ingest.items():
        if not spec.extends or spec.collection:
            continue
        mapped = {path for other in ingest.values() if (other.system, other.target) == (spec.system, spec.target)
                  for path in other.fields}
        for path, message in missing_within_groups(spec, mapped):
            collector.add(("mappings", name, *path), f"mappings.{name}: {message}")


def ingest_mappings(config: ProjectConfig) -> dict[str, MappingSpec]:
    """The mappings that bring data into the hub: every one no publish pipeline uses."""
    published = {p.mapping for p in config.pipelines.values() if p.kind == "publish"}
    return {name: spec for name, spec in config.mappings.items() if name not in published}


def _check_lineage(config: ProjectConfig, collector: _Collector) -> None:
    """Special-category columns copied into ordinary fields must be declared (see mapping.lineage)."""
    ingest = ingest_mappings(config)
    for problem in lineage.problems(lineage.feeds(ingest)):
        collector.add(("mappings", problem.mapping, *problem.where), f"mappings.{problem.mapping}: {problem.message}")
    for name in config.mappings.keys() - ingest.keys():
        for key, fspec in config.mappings[name].fields.items():
            if fspec.sensitivity:  # a publish mapping sends fields under their hub class: this would be ignored
                collector.add(("mappings", name, "fields", key, "class"),
                              f"mappings.{name}: field '{key}' declares a class, which only an ingest mapping can")


_SECTION_MODELS = {"systems": SystemConfig, "mappings": MappingSpec, "pipelines": PipelineConfig}


def _validate(raw: dict[str, Any], collector: _Collector) -> ProjectConfig:
    """Validate item by item, so one bad system does not hide the problems of the others."""
    sections: dict[str, dict[str, Any]] = {}
    for section, model in _SECTION_MODELS.items():
        items = raw.get(section) or {}
        if not isinstance(items, dict):
            collector.add((section,), f"{section}: expected a mapping of names to settings")
            items = {}
        sections[section] = {}
        for name, value in items.items():
            if not isinstance(name, str):  # `null:` or `12:` as a name: the model's fallback below could not hold it
                collector.add((section, name), f"{section}: a name must be text, not {type(name).__name__}")
                continue
            try:
                sections[section][name] = model.model_validate(value)
            except ValidationError as exc:
                collector.add_validation((section, name), exc)
                collector.invalid.add(name)
    rest = {k: v for k, v in raw.items() if k not in _SECTION_MODELS}
    try:
        return ProjectConfig.model_validate({**rest, **sections})
    except ValidationError as exc:
        collector.add_validation((), exc)
        return ProjectConfig(**sections)


def load_project(path: Path | str = ".") -> Project:
    """Load and validate the project in ``path`` (a folder or its officehub.yaml)."""
    path = Path(path)
    base_dir = (path.parent if path.is_file() else path).resolve()
    positions = Positions()
    collector = _Collector(positions, CONFIG_FILE)
    try:
        raw = _read(base_dir, collector, positions)
    except YamlError as exc:
        raise ConfigError([ConfigIssue(exc.file, exc.line, exc.problem)]) from None
    # The model first: mappings and policies name the fields it declares.
    install_project_model(raw, collector.add)
    config = _validate(raw, collector)
    _check_references(config, collector, base_dir)
    check_capabilities(config, collector.add)
    _check_lineage(config, collector)
    policies = load_policies(policy_paths(config.policies, base_dir), base_dir, positions, collector.add, config)
    if collector.issues:
        raise ConfigError(collector.issues)
    return Project(config, base_dir, positions, policies)
