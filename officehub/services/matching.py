"""Training, explaining, evaluating and re-running the matching of an entity.

- ``train``: fit the entity's probabilistic model on the hub's own records (each system's
  copy of each active record) and write the model file, one version up (``match.train``).
- ``explain``: how a pair's match probability adds up, comparison by comparison; levels and
  weights only, never a value (``match.explain``).
- ``evaluate``: precision, recall and F1 of the rules in force on labelled pairs: a file's
  and the steward's accepted and rejected reviews (``match.evaluate``).
- ``rerun``: the rules in force applied to the records already in the hub: match keys
  rebuilt, and pairs the rules would link or queue proposed in the review queue; nothing is
  merged without a steward (``match.rerun``).
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from officehub.canonical_model.errors import FatalError
from officehub.config import Project
from officehub.engine.context import RunContext
from officehub.engine.golden_writer import GoldenWriter
from officehub.engine.ingest import writer_for
from officehub.identity import Candidate, Decision, Matcher
from officehub.identity.fellegi_sunter import Explanation
from officehub.identity.match_model import MatchModel, read_model, write_model
from officehub.identity.training import proposed_model, without_empty
from officehub.identity.training import train as fit
from officehub.services.records import known_entity
from officehub.services.session import acting
from officehub.store import audit, golden, matches, sources, xref
from officehub.store.hub import HubStore
from officehub.store.schema import TABLES

#: Records a model is trained on at most (drawn at random); the weights settle long before.
TRAIN_SAMPLE = 200_000
_PAGE = 2_000
Progress = Callable[[str], None]


class MatchingError(FatalError):
    """A matching operation that cannot be done as asked (no rules, no model, bad labels)."""


def _say(progress: Progress | None) -> Progress:
    return progress or (lambda _: None)


# -- train ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Trained:
    """A training's outcome: the file written and the model in it."""

    entity: str
    path: str
    model: MatchModel
    previous_version: int
    configured: bool  # whether the entity's rules already name this file


def model_path(project: Project, entity: str) -> tuple[Path, bool]:
    """The entity's model file (the rules' own, else ``identity/<entity>.model.yaml``), and
    whether the rules name it."""
    path = project.match_model_path(entity)
    return (path, True) if path is not None else (project.base_dir / "identity" / f"{entity}.model.yaml", False)


def train(project: Project, store: HubStore, actor: str, entity: str, *, sample: int = TRAIN_SAMPLE,
          seed: int = 20260101, progress: Progress | None = None) -> Trained:
    """Fit the entity's model on up to ``sample`` system records and write it, one version up.

    An existing file keeps its comparisons and blocking rules; without one, they are proposed
    from the entity's fields (:func:`officehub.identity.training.proposed_model`).
    """
    known_entity(entity)
    path, configured = model_path(project, entity)
    proposing = not path.exists()
    start = proposed_model(entity) if proposing else read_model(path)
    within = project.config.identity.for_entity(entity).match.within_system
    columns = list(dict.fromkeys(c for comp in start.comparisons for c in comp.columns)
                   | dict.fromkeys(c for rule in start.blocking for c in rule.columns))
    say = _say(progress)
    with acting(store, actor) as ctx:
        say("reading the hub's records")
        copies = sources.live_copies(ctx.conn, entity, columns, limit=sample)
        if proposing:
            start = without_empty(start, copies)
        model = fit(start, copies, [c["system"] for c in copies], within_system=within, seed=seed, progress=say)
        write_model(path, model)
        relative = str(path.relative_to(project.base_dir)) if path.is_relative_to(project.base_dir) else path.name
        assert model.trained is not None
        audit.append(ctx.conn, actor=ctx.actor, action="match.train", subject=f"{entity} model", detail={
            "file": relative, "version": model.version, "records": model.trained.records,
            "systems": model.trained.systems, "blocked_pairs": model.trained.blocked_pairs})
    return Trained(entity, relative, model, start.version, configured)


# -- records by reference ------------------------------------------------------------------------
@dataclass(frozen=True)
class _Side:
    ref: str
    canonical_id: str
    systems: frozenset[str]
    values: dict[str, Any]


def _side(conn: sa.Connection, entity: str, ref: str) -> _Side:
    """A record by ``system:vendor_id`` (that system's copy) or by canonical id (the golden record)."""
    system, sep, vendor_id = ref.partition(":")
    if sep:
        copy = sources.by_vendor_id(conn, entity, system, [vendor_id]).get(vendor_id)
        if copy is None:
            raise MatchingError(f"{entity}: no record {vendor_id} of system {system}")
        return _Side(ref, copy["canonical_id"], frozenset({system}), copy)
    row = golden.fetch(conn, entity, "canonical_id", [ref]).get(ref)
    if row is None:
        raise MatchingError(f"{entity}: no record {ref}")
    systems = frozenset(link["system"] for link in xref.of_records(conn, [ref]) if link["erased_at"] is None)
    return _Side(ref, ref, systems, row)


def _own_system(side: _Side) -> str:
    """The system to match a record as: its one system, or none of them when several supply it
    (then no candidate counts as its own)."""
    return next(iter(side.systems)) if len(side.systems) == 1 else "\x00several"


def _matcher(project: Project, entity: str, model_file: Path | None) -> Matcher:
    rules = project.config.identity.for_entity(entity).match
    if model_file is not None:
        model = read_model(model_file)
        if rules.probabilistic is None:
            from officehub.identity.rules import ProbabilisticRule

            rules = rules.model_copy(update={"probabilistic": ProbabilisticRule(model=str(model_file)), "fuzzy": None})
        return Matcher(entity, rules, model)
    if not rules.matches:
        raise MatchingError(f"{entity} has no match rules: add keys, fuzzy or probabilistic under "
                            f"identity.{entity}.match")
    return writer_for(project, entity).matcher  # type: ignore[return-value]


# -- explain ---------------------------------------------------------------------------------
def explain(project: Project, store: HubStore, actor: str, entity: str, left: str, right: str, *,
            model_file: Path | None = None) -> dict[str, Any]:
    """How the probabilistic model scores ``left`` against ``right`` (each ``system:vendor_id``
    or a canonical id), with the decision the rules in force would take."""
    known_entity(entity)
    matcher = _matcher(project, entity, model_file)
    if matcher.scoring is None:
        raise MatchingError(f"{entity} does not use a probabilistic model: explain shows its weights "
                            f"(identity.{entity}.match.probabilistic, or --model FILE)")
    with acting(store, actor) as ctx:
        a, b = _side(ctx.conn, entity, left), _side(ctx.conn, entity, right)
        explained: Explanation = matcher.scoring.explain(matcher.scoring.prepare(a.values),
                                                         matcher.scoring.prepare(b.values))
        decision = _decide(matcher, a, b)
        audit.append(ctx.conn, actor=ctx.actor, action="match.explain", subject=f"{entity} {a.canonical_id}",
                     detail={"left": a.canonical_id, "right": b.canonical_id,
                             "model_version": matcher.scoring.model.version})
    rule = matcher.rules.probabilistic
    assert rule is not None
    return {"entity": entity, "left": left, "right": right, "model_version": matcher.scoring.model.version,
            **explained.as_dict(), "decision": decision.outcome, "link_at": rule.link_at, "review_at": rule.review_at,
            "blocked": "unblocked" not in decision.evidence}


def _decide(matcher: Matcher, a: _Side, b: _Side) -> Decision:
    return matcher.decide(a.values, _own_system(a), [Candidate(b.canonical_id, b.values, b.systems)])


# -- evaluate ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Label:
    """A labelled pair: two record references and whether they are the same."""

    left: str
    right: str
    match: bool
    source: str  # "file" or "steward"


@dataclass
class Counts:
    """Outcomes at one link threshold."""

    threshold: float | None
    true_links: int = 0
    false_links: int = 0
    missed: int = 0
    left_for_review: int = 0

    @property
    def precision(self) -> float:
        linked = self.true_links + self.false_links
        return self.true_links / linked if linked else 0.0

    @property
    def recall(self) -> float:
        positives = self.true_links + self.missed
        return self.true_links / positives if positives else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def as_dict(self) -> dict[str, Any]:
        """Plain data for ``--json``."""
        return {**asdict(self), "precision": round(self.precision, 4), "recall": round(self.recall, 4),
                "f1": round(self.f1, 4)}


@dataclass
class Evaluation:
    """How the rules in force do on labelled pairs."""

    entity: str
    labels: dict[str, int]
    skipped: int
    in_force: Counts
    by_threshold: list[Counts] = field(default_factory=list)
    unblocked_matches: int = 0

    def as_dict(self) -> dict[str, Any]:
        """Plain data for ``--json``."""
        return {"entity": self.entity, "labels": self.labels, "skipped": self.skipped,
                "in_force": self.in_force.as_dict(), "by_threshold": [c.as_dict() for c in self.by_threshold],
                "unblocked_matches": self.unblocked_matches}


THRESHOLDS = (0.5, 0.8, 0.9, 0.95, 0.99, 0.999, 0.9999)
_TRUE = {"1", "true", "yes", "y", "match", "same"}
_FALSE = {"0", "false", "no", "n", "non-match", "different"}


def read_labels(path: Path) -> list[Label]:
    """Labelled pairs from a CSV file with the columns ``left``, ``right`` and ``match``."""
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            missing = {"left", "right", "match"} - set(reader.fieldnames or ())
            if missing:
                raise MatchingError(f"{path.name}: needs the columns left, right and match "
                                    f"(missing: {', '.join(sorted(missing))})")
            labels = []
            for line, row in enumerate(reader, start=2):
                verdict = (row["match"] or "").strip().lower()
                if verdict not in _TRUE | _FALSE:
                    raise MatchingError(f"{path.name}, line {line}: match must be 1/0, true/false or yes/no")
                labels.append(Label(row["left"].strip(), row["right"].strip(), verdict in _TRUE, "file"))
            return labels
    except OSError as exc:
        raise MatchingError(f"{path.name}: cannot be read ({exc.strerror})") from None


def _steward_labels(conn: sa.Connection, entity: str) -> list[Label]:
    decided = [r for status in ("linked", "rejected") for r in matches.reviews(conn, status, entity)]
    return [Label(r["canonical_id"], r["candidate_id"], r["status"] == "linked", "steward") for r in decided]


def evaluate(project: Project, store: HubStore, actor: str, entity: str, labels: Sequence[Label], *,
             stewards: bool = True, model_file: Path | None = None) -> Evaluation:
    """Precision, recall and F1 of the rules in force (and of other link thresholds) on ``labels``
    plus, with ``stewards``, every review a steward accepted (a match) or rejected (not one)."""
    known_entity(entity)
    matcher = _matcher(project, entity, model_file)
    rule = matcher.rules.probabilistic or matcher.rules.fuzzy
    with acting(store, actor) as ctx:
        pairs = list(labels) + (_steward_labels(ctx.conn, entity) if stewards else [])
        if not pairs:
            raise MatchingError(f"{entity}: no labelled pairs (give --labels FILE, or decide reviews first)")
        in_force = Counts(None)
        sweep = [Counts(t) for t in THRESHOLDS]
        skipped = unblocked = 0
        for label in pairs:
            try:
                a, b = _side(ctx.conn, entity, label.left), _side(ctx.conn, entity, label.right)
            except MatchingError:
                skipped += 1  # erased or never seen: nothing to compare
                continue
            decision = _decide(matcher, a, b)
            _count(in_force, label.match, decision.outcome)
            scored = decision.outcome != "new" or decision.evidence.get("best") is not None
            unblocked += label.match and not scored
            for counts in sweep:
                assert counts.threshold is not None
                _count(counts, label.match, "link" if scored and decision.score >= counts.threshold else "new")
        by_source = {"file": sum(p.source == "file" for p in pairs), "steward": sum(p.source == "steward" for p in pairs)}
        audit.append(ctx.conn, actor=ctx.actor, action="match.evaluate", subject=f"{entity} rules", detail={
            "labels": by_source, "precision": round(in_force.precision, 4), "recall": round(in_force.recall, 4)})
    return Evaluation(entity, by_source, skipped, in_force, sweep if rule is not None else [], unblocked)


def _count(counts: Counts, is_match: bool, outcome: str) -> None:
    if outcome == "link":
        if is_match:
            counts.true_links += 1
        else:
            counts.false_links += 1
    elif is_match:
        counts.missed += 1
        counts.left_for_review += outcome == "review"


# -- rerun -------------------------------------------------------------------------------------
@dataclass
class Rerun:
    """What re-running the rules over the hub found."""

    entity: str
    records: int = 0
    keys_rebuilt: int = 0
    proposed: int = 0
    already_queued: int = 0
    rejected_before: int = 0
    proposals: list[dict[str, Any]] = field(default_factory=list)
    #: Records several systems supply whose copies the rules would no longer link: a steward's
    #: ``match unlink`` question, listed rather than queued (the queue holds pairs to merge).
    doubted: list[dict[str, Any]] = field(default_factory=list)
    dry_run: bool = False

    def as_dict(self) -> dict[str, Any]:
        """Plain data for ``--json``."""
        return asdict(self)


def rerun(project: Project, store: HubStore, actor: str, entity: str, *, dry_run: bool = False,
          progress: Progress | None = None) -> Rerun:
    """Apply the rules in force to the hub's active records: rebuild their match keys, and queue
    for review every pair of records the rules would now link or queue (none is merged)."""
    known_entity(entity)
    writer = writer_for(project, entity)
    if writer.matcher is None:
        raise MatchingError(f"{entity} has no match rules: add keys, fuzzy or probabilistic under "
                            f"identity.{entity}.match")
    out = Rerun(entity, dry_run=dry_run)
    say = _say(progress)
    try:
        with acting(store, actor) as ctx:
            conn = ctx.conn
            known = _known_pairs(conn, entity)
            say("rebuilding match keys")
            # All at once rather than record by record: deleting a page's old keys joins a table
            # that grows within this transaction, unanalysed, into a scan per page.
            matches.clear_keys(conn, entity)
            for page in _active_pages(conn, entity):
                writer.refresh_keys(conn, page, replace=False)
                out.keys_rebuilt += len(page)
            say("comparing records")
            for page in _active_pages(conn, entity):
                out.records += len(page)
                _propose(conn, writer, page, known, out)
                _doubt(conn, writer, page, out)
                say(f"{out.records:,} records compared")
            matches.add_reviews(conn, entity, [{k: p[k] for k in ("canonical_id", "candidate_id", "score", "evidence")}
                                               for p in out.proposals], None)
            if dry_run:
                raise _DryRun  # the rebuilt keys and the proposals are rolled back
            _audit_rerun(ctx, out)
    except _DryRun:
        with acting(store, actor) as ctx:
            _audit_rerun(ctx, out)
    return out


class _DryRun(Exception):
    """Raised to roll a dry run's transaction back."""


def _audit_rerun(ctx: RunContext, out: Rerun) -> None:
    audit.append(ctx.conn, actor=ctx.actor, action="match.rerun", subject=f"{out.entity} rules", detail={
        "records": out.records, "proposed": out.proposed, "dry_run": out.dry_run})


def _known_pairs(conn: sa.Connection, entity: str) -> dict[frozenset[str], str]:
    """Pairs already in the review queue (pending or decided), by their two ids."""
    return {frozenset((r["canonical_id"], r["candidate_id"])): r["status"]
            for r in matches.reviews(conn, None, entity)}


def _active_pages(conn: sa.Connection, entity: str) -> Iterable[list[dict[str, Any]]]:
    table = TABLES[entity]
    after = ""
    while True:
        rows = [dict(r._mapping) for r in conn.execute(
            sa.select(table).where(table.c.status == "active", table.c.canonical_id > after)
            .order_by(table.c.canonical_id).limit(_PAGE))]
        if not rows:
            return
        yield rows
        after = rows[-1]["canonical_id"]


def _propose(conn: sa.Connection, writer: GoldenWriter, page: list[dict[str, Any]],
             known: dict[frozenset[str], str], out: Rerun) -> None:
    matcher = writer.matcher
    assert matcher is not None
    keys = {r["canonical_id"]: matcher.index_keys(r) for r in page}
    stored = matches.candidates(conn, writer.entity, (pair for pairs in keys.values() for pair in pairs))
    wanted = sorted({cid for cids in stored.values() for cid in cids} | set(keys))
    rows = {cid: r for cid, r in golden.fetch(conn, writer.entity, "canonical_id", wanted).items()
            if r["status"] == "active"}
    systems: dict[str, set[str]] = {}
    for link in xref.of_records(conn, list(rows)):
        if link["erased_at"] is None:
            systems.setdefault(link["canonical_id"], set()).add(link["system"])
    for record in page:
        cid = record["canonical_id"]
        candidate = Candidate(cid, record, frozenset(systems.get(cid, ())))
        for other in sorted({c for pair in keys[cid] for c in stored.get(pair, ()) if c > cid and c in rows}):
            # The newer record (the later time-ordered id) is matched against the older, as it
            # would have been on arrival; a steward's accept merges it away.
            side = _Side(other, other, frozenset(systems.get(other, ())), rows[other])
            decision = matcher.decide(side.values, _own_system(side), [candidate])
            if decision.outcome == "new":
                continue
            status = known.get(frozenset((cid, other)))
            if status == "rejected":
                out.rejected_before += 1
            elif status is not None:
                out.already_queued += 1
            else:
                out.proposed += 1
                out.proposals.append({"canonical_id": other, "candidate_id": cid, "score": round(decision.score, 4),
                                      "outcome": decision.outcome, "evidence": {**decision.evidence, "rerun": True}})
                known[frozenset((cid, other))] = "pending"


def _doubt(conn: sa.Connection, writer: GoldenWriter, page: list[dict[str, Any]], out: Rerun) -> None:
    """Each multi-system record whose copies, matched one against the other, would now be kept apart."""
    matcher = writer.matcher
    assert matcher is not None
    layered = [r["canonical_id"] for r in page if r.get("sole_system") is None]
    for cid, copies in sources.by_canonical_id(conn, writer.entity, layered).items():
        live = sorted((c for c in copies if c["deleted_at"] is None), key=lambda c: (c["system"], c["vendor_id"]))
        first = live[0] if live else None
        for copy in live[1:]:
            if first is None or copy["system"] == first["system"]:
                continue
            decision = matcher.decide(copy, copy["system"], [Candidate(cid, first, frozenset({first["system"]}))])
            if decision.outcome == "new":
                out.doubted.append({"canonical_id": cid, "system": copy["system"], "vendor_id": copy["vendor_id"],
                                    "against": [first["system"], first["vendor_id"]],
                                    "score": round(decision.score, 4)})


__all__ = ["THRESHOLDS", "TRAIN_SAMPLE", "Counts", "Evaluation", "Label", "MatchingError", "Rerun", "Trained",
           "evaluate", "explain", "model_path", "read_labels", "rerun", "train"]
