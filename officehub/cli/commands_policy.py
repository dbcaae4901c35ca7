"""Commands for compliance officers: policy check/explain/diff/preview/test/detokenize.

The policies, the configuration and the services (the audited preview and detokenize of
:mod:`officehub.services.policies` and :mod:`officehub.services.tokens`) are imported inside
the commands.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from officehub.canonical_model.errors import FatalError
from officehub.cli.commands_identity import actor
from officehub.cli.options import JsonOption, ProjectOption, ReasonOption, project_dir, stated_reason
from officehub.cli.output import console, emit_json, table
from officehub.cli.session import hub_session

if TYPE_CHECKING:
    from officehub.config import Project
    from officehub.policies import PolicySet
    from officehub.policies.analysis import Finding

policy_app = typer.Typer(help="Data-sharing policies: check, explain, diff, preview, test.", no_args_is_help=True)


def _countries(project: Project) -> dict[str, str | None]:
    return {name: system.country for name, system in project.config.systems.items()}


def _load_set(project: Project, files: list[Path] | None) -> PolicySet:
    """The project's policies, or the given files/folders (validated with file and line)."""
    from officehub.config import ConfigError, ConfigIssue
    from officehub.config.policy_files import load_policies
    from officehub.config.yaml_source import Positions

    if not files:
        return project.policies
    paths = [p for f in files for p in (sorted(f.glob("*.yaml")) if f.is_dir() else [f])]
    positions, issues = Positions(), []

    def add(path: tuple, message: str) -> None:
        file, line = positions.locate(path) or (str(path[1]) if len(path) > 1 else "?", 0)
        issues.append(ConfigIssue(file, line, message))
    policy_set = load_policies(paths, Path.cwd(), positions, add, project.config)
    if issues:
        raise ConfigError(issues)
    return policy_set


def _lowered_classes(project: Project) -> list[Finding]:
    """A lowered sensitivity class is a policy event: the fields it concerns, from the hub store."""
    from officehub.policies.analysis import Finding
    from officehub.services import policies

    return [Finding("warning", subject, message) for subject, message in policies.lowered_classes(project)]


def policy_check(files: Annotated[list[Path] | None, typer.Argument(help="Policy files (default: the project's).")] = None,
                 project: ProjectOption = None, as_json: JsonOption = False) -> None:
    """Validate policies; report unsound rules, special-category releases to confirm, unclassified fields."""
    from officehub.config import load_project
    from officehub.engine.publish import policy_context
    from officehub.policies import CompileContext
    from officehub.policies.analysis import check as check_policies

    loaded = load_project(project_dir(project))
    policy_set = _load_set(loaded, files)
    ctx = CompileContext(policy_set, policy_context(loaded).keys, derived=loaded.derived_classes())
    findings = check_policies(policy_set, ctx, _countries(loaded)) + _lowered_classes(loaded)
    summary = f"{len(policy_set.documents)} policy file(s), {len(policy_set.rules)} rules"
    if as_json:
        emit_json([vars(f) for f in findings])
    elif findings:
        console.print(table(summary, ["level", "subject", "finding"], [(f.level, f.subject, f.message) for f in findings]))
    else:
        console.print(f"[green]ok[/] {summary}: no findings", highlight=False)
    raise typer.Exit(2 if any(f.level == "error" for f in findings) else 0)


def policy_explain(destination: Annotated[str, typer.Option(help="A system or site that receives data.")],
                   entity: Annotated[str | None, typer.Option(help="Only this entity.")] = None,
                   purpose: Annotated[str | None, typer.Option(help="Purpose of the agreement.")] = None,
                   project: ProjectOption = None, as_json: JsonOption = False) -> None:
    """For each field: what the destination receives, which rule decided it, and why."""
    from officehub.canonical_model import ENTITIES
    from officehub.config import load_project
    from officehub.engine.publish import policy_context
    from officehub.policies import Destination, compile_plan
    from officehub.policies.analysis import explain as explain_plan

    loaded = load_project(project_dir(project))
    ctx = policy_context(loaded)
    country = loaded.config.systems[destination].country if destination in loaded.config.systems else None
    if entity is not None and entity not in ENTITIES:
        raise FatalError(f"unknown entity '{entity}' (known: {', '.join(ENTITIES)})")
    entities = [entity] if entity else list(ENTITIES)
    result = {e: compile_plan(e, Destination(destination, country, purpose), ctx) for e in entities}
    if as_json:
        emit_json({e: {"agreement": p.agreement.model_dump(mode="json") if p.agreement else None,
                       "policy_version": p.policy_version, "fields": explain_plan(p)} for e, p in result.items()})
        return
    for e, plan in result.items():
        a = plan.agreement
        title = f"{e} → {destination}" + (f" · agreement {a.id}: {a.purpose} ({a.legal_basis})" if a else
                                          " · built-in defaults (no policies configured)")
        rows = [(r["field"], r["class"], r["action"], r["rule"], r["reason"]) for r in explain_plan(plan)]
        console.print(table(title, ["field", "class", "action", "rule", "why"], rows))


def policy_diff(old: Annotated[Path, typer.Argument(help="Old policy file or folder.")],
                new: Annotated[Path, typer.Argument(help="New policy file or folder.")],
                project: ProjectOption = None, as_json: JsonOption = False) -> None:
    """What each destination would receive differently under NEW, field by field."""
    from officehub.config import load_project
    from officehub.engine.publish import policy_context
    from officehub.policies import CompileContext
    from officehub.policies.analysis import diff as diff_policies

    loaded = load_project(project_dir(project))
    keys, derived = policy_context(loaded).keys, loaded.derived_classes()
    old_set, new_set = _load_set(loaded, [old]), _load_set(loaded, [new])
    rows = diff_policies(old_set, new_set, CompileContext(old_set, keys, derived=derived),
                         CompileContext(new_set, keys, derived=derived),
                         _countries(loaded))
    if as_json:
        emit_json(rows)
        return
    console.print(table(f"{len(rows)} field(s) change", ["destination", "entity", "field", "old", "new", "rule"],
                        [tuple(r.values()) for r in rows]))


def policy_preview(destination: Annotated[str, typer.Option(help="A destination system.")],
                   sample: Annotated[int, typer.Option(min=1, max=100)] = 3,
                   project: ProjectOption = None, as_json: JsonOption = False) -> None:
    """Real records from the hub store, before and after the destination's policy (originals abbreviated).

    Medical, criminal and legal values show only their class and whether one exists; every preview is audited.
    """
    from officehub.services import policies

    with hub_session(project) as (loaded, store):
        previews = policies.preview(loaded, store, actor(), destination, sample)
    if as_json:
        emit_json(previews)
        return
    for item in previews:
        console.print(table(f"{item['entity']} {item['canonical_id']} → {destination}",
                            ["field", "in the hub (abbreviated)", "action", "destination receives"],
                            [(r["field"], r["before"], r["action"], r["after"]) for r in item["fields"]]))


def policy_test(files: Annotated[list[Path] | None, typer.Argument(help="Test files (default: policy-tests/*.yaml).")] = None,
                project: ProjectOption = None, as_json: JsonOption = False) -> None:
    """Run policy test cases: given a record to a destination, expect fields and values."""
    from pydantic import ValidationError

    from officehub.config import ConfigError, ConfigIssue, load_project
    from officehub.config.yaml_source import Positions, YamlError, load_yaml
    from officehub.engine.publish import policy_context
    from officehub.policies.testing import TestFile, run_file

    loaded = load_project(project_dir(project))
    paths = files or sorted((loaded.base_dir / "policy-tests").glob("*.yaml"))
    if not paths:
        raise FatalError("no policy test files (policy-tests/*.yaml)")
    outcomes = []
    for path in paths:
        try:
            # The project's own loader: duplicate keys and alias bombs are refused here too.
            tests = TestFile.model_validate(load_yaml(path, Positions(), str(path)))
        except YamlError as exc:
            raise ConfigError([ConfigIssue(exc.file, exc.line, exc.problem)]) from None
        except ValidationError as exc:
            raise FatalError(f"{path}: not a policy test file ({type(exc).__name__})") from None
        outcomes += [(path.name, o) for o in run_file(tests, policy_context(loaded))]
    if as_json:
        emit_json([{"file": f, "case": o.name, "passed": o.passed, "failures": list(o.failures)} for f, o in outcomes])
    else:
        console.print(table("policy tests", ["file", "case", "result", "failures"],
                            [(f, o.name, "[green]pass[/]" if o.passed else "[red]FAIL[/]", "; ".join(o.failures))
                             for f, o in outcomes]))
    raise typer.Exit(0 if all(o.passed for _, o in outcomes) else 1)


def policy_detokenize(token: Annotated[str, typer.Argument(help="A token made by the tokenize action.")],
                      field: Annotated[str, typer.Option(help="The field it was made for, e.g. employee.bank_account_iban.")],
                      reason: ReasonOption = None,
                      project: ProjectOption = None) -> None:
    """Recover a tokenised value (needs the key and a reason); every attempt is written to the audit trail."""
    from officehub.services import tokens
    from officehub.services.reasons import ReasonRequired

    with hub_session(project) as (loaded, store):
        try:
            value = tokens.detokenize(loaded, store, actor(), token, field, reason)
        except ReasonRequired:
            stated_reason(reason, "detokenize")  # the same refusal (already audited), worded with the option
            raise
    console.print(value, highlight=False)


def register(app: typer.Typer) -> None:
    """Attach these commands to the main app."""
    for name, command in (("check", policy_check), ("explain", policy_explain), ("diff", policy_diff),
                          ("preview", policy_preview), ("test", policy_test), ("detokenize", policy_detokenize)):
        policy_app.command(name)(command)
    app.add_typer(policy_app, name="policy")
