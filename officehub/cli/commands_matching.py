"""Matching commands: train the probabilistic model, explain a pair, evaluate on labels, re-run the rules.

The work (and its audit entries) is :mod:`officehub.services.matching`'s, imported when a
command runs. Nothing here shows a record value: a pair is explained by its comparison
levels and weights, as the model file names them.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from officehub.cli.commands_identity import EntityArgument, actor, match_app
from officehub.cli.options import JsonOption, ProjectOption
from officehub.cli.output import console, emit_json, table
from officehub.cli.session import hub_session

if TYPE_CHECKING:
    from officehub.services.matching import Counts

ModelOption = Annotated[Path | None, typer.Option(
    "--model", help="Use this model file instead of the one the rules name (to try a model before adopting it).")]


def _status(enabled: bool) -> Any:
    """A spinner with the current step on a terminal; nothing for --json."""
    if not enabled:
        from contextlib import nullcontext

        return nullcontext(lambda _: None)
    from contextlib import contextmanager

    @contextmanager
    def spinner():  # type: ignore[no-untyped-def]
        with console.status("starting") as status:
            yield lambda text: status.update(text)
    return spinner()


def train(entity: EntityArgument,
          sample: Annotated[int, typer.Option(help="Train on at most this many system records, drawn at random.")]
          = 200_000,
          seed: Annotated[int, typer.Option(help="Seed of the random draws (the same seed, the same model).")]
          = 20260101,
          project: ProjectOption = None, as_json: JsonOption = False) -> None:
    """Learn the match weights from the hub's records and write the model file, one version up."""
    from officehub.services import matching

    with hub_session(project) as (loaded, store), _status(not as_json) as say:
        done = matching.train(loaded, store, actor(), entity, sample=sample, seed=seed, progress=say)
    model = done.model
    assert model.trained is not None
    if as_json:
        emit_json({"entity": entity, "file": done.path, "version": model.version,
                   "previous_version": done.previous_version, "configured": done.configured,
                   **model.model_dump(mode="json", include={"prior", "blocking", "trained"}),
                   "comparisons": [{"name": c.name, "levels": [lv.model_dump() for lv in c.levels]}
                                   for c in model.comparisons]})
        return
    t = model.trained
    console.print(f"Trained the {entity} model on {t.records:,} records of {', '.join(t.systems)}: "
                  f"{done.path}, version {model.version}.", highlight=False)
    console.print(table("blocking rules (their cost at training)", ["rule", "pairs"],
                        [(" + ".join(r.columns), f"{r.pairs or 0:,}") for r in model.blocking], numeric=["pairs"]))
    rows = [(c.name, level.label, f"{level.m:.4f}", f"{level.u:.6f}", f"{_bits(level.m, level.u):+.1f}")
            for c in model.comparisons for level in c.levels]
    console.print(table("weights (m: share of true pairs, u: of random pairs; weight in bits)",
                        ["comparison", "level", "m", "u", "weight"], rows, numeric=["m", "u", "weight"]))
    console.print(f"Prior: {model.prior:.3g} (1 in {1 / (model.prior or 1):,.0f} random pairs is the same record); "
                  f"expected true pairs among the {t.blocked_pairs:,} blocked: {t.expected_matches:,.0f}.",
                  highlight=False)
    if t.untrained:
        console.print(f"[yellow]Not trained (every blocking rule uses their columns): {', '.join(t.untrained)}. "
                      f"Add a blocking rule without them.[/]")
    if not done.configured:
        console.print(f"Use it: under identity.{entity}.match in officehub.yaml set "
                      f"`probabilistic: {{model: {done.path}}}`, then run `officehub match rerun {entity}`.",
                      highlight=False)
    else:
        console.print(f"Review the change like a policy change; `officehub match evaluate {entity}` measures it.",
                      highlight=False)


def _bits(m: float, u: float) -> float:
    return math.log2(m / u)


def explain(entity: EntityArgument,
            left: Annotated[str, typer.Argument(help="A record: SYSTEM:VENDOR_ID or a canonical id.")],
            right: Annotated[str, typer.Argument(help="The other record, the same way.")],
            model: ModelOption = None, project: ProjectOption = None, as_json: JsonOption = False) -> None:
    """How the model scores two records: each comparison's level and weight, the total and the probability."""
    from officehub.services import matching

    with hub_session(project) as (loaded, store):
        found = matching.explain(loaded, store, actor(), entity, left, right, model_file=model)
    if as_json:
        emit_json(found)
        return
    running = found["prior_weight"]
    rows: list[tuple[Any, ...]] = [("prior", "", "", "", f"{found['prior_weight']:+.2f}", f"{running:+.2f}", "")]
    for f in found["fields"]:
        running += f["weight"]
        level = f["level"] or "(a value is missing)"
        tf = f" (tf {f['tf_adjustment']:+.2f})" if f["tf_adjustment"] else ""
        bar = ("+" if f["weight"] > 0 else "-") * min(int(abs(f["weight"]) + 0.5), 20)
        rows.append((f["comparison"], level, "" if f["m"] is None else f"{f['m']:.4f}",
                     "" if f["u"] is None else f"{f['u']:.6f}", f"{f['weight']:+.2f}{tf}", f"{running:+.2f}", bar))
    console.print(table(f"{entity} {left} ↔ {right} (model version {found['model_version']})",
                        ["comparison", "level", "m", "u", "weight", "total", ""], rows,
                        numeric=["m", "u", "weight", "total"]))
    blocked = "" if found["blocked"] else " They share no blocking rule, so matching never compares them."
    console.print(f"Total {found['total']:+.2f} bits: probability {found['probability']:.6f}. "
                  f"Decision: {found['decision']} (link at {found['link_at']}, review at {found['review_at']}).{blocked}",
                  highlight=False)


def evaluate(entity: EntityArgument,
             labels: Annotated[Path | None, typer.Option(
                 help="CSV of labelled pairs: left,right,match (SYSTEM:VENDOR_ID or canonical ids; match 1/0).")]
             = None,
             stewards: Annotated[bool, typer.Option(help="Count the steward's accepted and rejected reviews too.")]
             = True,
             model: ModelOption = None, project: ProjectOption = None, as_json: JsonOption = False) -> None:
    """Precision, recall and F1 of the match rules on labelled pairs, and at other link thresholds."""
    from officehub.services import matching

    pairs = matching.read_labels(labels) if labels is not None else []
    with hub_session(project) as (loaded, store):
        found = matching.evaluate(loaded, store, actor(), entity, pairs, stewards=stewards, model_file=model)
    if as_json:
        emit_json(found.as_dict())
        return
    console.print(f"{sum(found.labels.values()):,} labelled pairs ({found.labels['file']:,} from the file, "
                  f"{found.labels['steward']:,} from stewards' decisions); {found.skipped} skipped (a record is "
                  f"not in the hub).", highlight=False)

    def row(name: str, c: Counts) -> tuple[Any, ...]:
        return (name, f"{c.precision:.4f}", f"{c.recall:.4f}", f"{c.f1:.4f}", c.true_links, c.false_links,
                c.missed, c.left_for_review if c.threshold is None else "")

    rows = [row("rules in force", found.in_force)] + [row(f"link at {c.threshold}", c) for c in found.by_threshold]
    console.print(table(f"{entity} matching on labelled pairs",
                        ["", "precision", "recall", "F1", "linked right", "linked wrong", "missed", "of them queued"],
                        rows, numeric=["precision", "recall", "F1", "linked right", "linked wrong", "missed",
                                       "of them queued"]))
    if found.unblocked_matches:
        console.print(f"{found.unblocked_matches} true pairs share no blocking rule: no threshold links them.",
                      highlight=False)


def rerun(entity: EntityArgument,
          dry_run: Annotated[bool, typer.Option("--dry-run", help="Count what would be proposed; change nothing.")]
          = False,
          project: ProjectOption = None, as_json: JsonOption = False) -> None:
    """Apply the rules in force to the records already in the hub: rebuild match keys, propose links for review."""
    from officehub.services import matching

    with hub_session(project) as (loaded, store), _status(not as_json) as say:
        found = matching.rerun(loaded, store, actor(), entity, dry_run=dry_run, progress=say)
    if as_json:
        emit_json(found.as_dict())
        return
    verb = "would propose" if dry_run else "proposed"
    console.print(f"{found.records:,} {entity} records compared under the rules in force; {verb} "
                  f"{found.proposed:,} pairs for review ({found.already_queued:,} already queued, "
                  f"{found.rejected_before:,} rejected before and left alone).", highlight=False)
    for doubt in found.doubted:
        console.print(f"[yellow]doubted[/] {entity} {doubt['canonical_id']}: {doubt['system']} {doubt['vendor_id']} "
                      f"no longer matches {' '.join(doubt['against'])} (score {doubt['score']}); split it off with "
                      f"`officehub match unlink {entity} {doubt['system']} {doubt['vendor_id']}` if they differ.",
                      highlight=False, soft_wrap=True)
    if found.proposals and not dry_run:
        console.print("Decide them with `officehub match review`, `match link ID` and `match reject ID`.",
                      highlight=False)


def register(app: typer.Typer) -> None:
    """Attach train, explain, evaluate and rerun to the match commands."""
    match_app.command("train")(train)
    match_app.command("explain")(explain)
    match_app.command("evaluate")(evaluate)
    match_app.command("rerun")(rerun)
