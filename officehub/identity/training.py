"""Training a match model on the hub's own records: u by random sampling, m by expectation maximisation.

The method is Splink's (and Fellegi and Sunter's, as Winkler made it practical):

1. **u**, how often random pairs land at each level, is counted on pairs drawn at random.
2. **m**, how often true pairs land there, is learned by expectation maximisation (EM) on
   the pairs each blocking rule makes, one rule at a time. Within a rule every pair agrees
   on the rule's columns, so the comparisons of those columns learn nothing there; they
   learn under the other rules, and each comparison's ``m`` is the mean over the rules
   that trained it.
3. **The prior**: with ``m`` and ``u`` known, EM over all blocked pairs estimates how many
   are true; divided by every pair the records could form, that is the chance two random
   records are the same.

Pairs are counted by their pattern of levels (a few thousand patterns for a million pairs),
so EM runs on the patterns, not on the pairs. Only pairs of different systems are compared
unless matching within a system is on, as for matching itself.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import combinations
from typing import Any

from officehub.canonical_model import layout
from officehub.identity.comparisons import KINDS
from officehub.identity.fellegi_sunter import block_form, probability
from officehub.identity.match_model import (
    MIN_SHARED,
    BlockingRule,
    Comparison,
    LevelWeights,
    MatchModel,
    Training,
)

#: Random pairs compared to estimate u (Splink's default is a million; the counts converge well before).
U_PAIRS = 400_000
#: A blocking rule making more pairs than this is refused: it would compare nearly everything.
MAX_RULE_PAIRS = 20_000_000
_MAX_ITERATIONS = 60
_TOLERANCE = 1e-5
_PSEUDO = 0.5
Pattern = tuple[int, ...]  # a pair's level per comparison, -1 where a value is missing


class TrainingError(ValueError):
    """The model cannot be trained on these records (too few, or a blocking rule too wide)."""


@dataclass(frozen=True, slots=True)
class _Records:
    prepared: list[tuple[str | None, ...]]  # per record, each comparison's form
    systems: list[str]
    within_system: bool

    def eligible(self, i: int, j: int) -> bool:
        return self.within_system or self.systems[i] != self.systems[j]


def _pattern(model: MatchModel, a: tuple[str | None, ...], b: tuple[str | None, ...]) -> Pattern:
    out = []
    for comparison, x, y in zip(model.comparisons, a, b, strict=True):
        level = KINDS[comparison.kind].compare(x, y)
        out.append(-1 if level is None else level)
    return tuple(out)


def _prepare(model: MatchModel, records: Sequence[Mapping[str, Any]]) -> list[tuple[str | None, ...]]:
    kinds = [(KINDS[c.kind], c.columns) for c in model.comparisons]
    return [tuple(kind.prepare([r.get(col) for col in cols]) for kind, cols in kinds) for r in records]


def _eligible_pairs(systems: Sequence[str], within_system: bool) -> int:
    if within_system:
        return len(systems) * (len(systems) - 1) // 2
    counts = Counter(systems).values()
    return (sum(counts) ** 2 - sum(n * n for n in counts)) // 2


# -- u -------------------------------------------------------------------------------------
def _random_patterns(model: MatchModel, recs: _Records, wanted: int, rng: random.Random) -> Counter[Pattern]:
    n = len(recs.prepared)
    patterns: Counter[Pattern] = Counter()
    if _eligible_pairs(recs.systems, recs.within_system) <= wanted:  # few records: every pair
        for i, j in combinations(range(n), 2):
            if recs.eligible(i, j):
                patterns[_pattern(model, recs.prepared[i], recs.prepared[j])] += 1
        return patterns
    drawn = attempts = 0
    while drawn < wanted and attempts < wanted * 20:
        attempts += 1
        i, j = rng.randrange(n), rng.randrange(n)
        if i != j and recs.eligible(i, j):
            patterns[_pattern(model, recs.prepared[i], recs.prepared[j])] += 1
            drawn += 1
    return patterns


def _level_shares(patterns: Counter[Pattern], index: int, levels: int, prior: float = _PSEUDO) -> list[float]:
    """Each level's share among the pairs where the comparison has a value, lightly smoothed
    (``prior`` pseudo-pairs per level) so no level's share is ever zero."""
    counts = [0.0] * levels
    for pattern, count in patterns.items():
        if pattern[index] >= 0:
            counts[pattern[index]] += count
    total = sum(counts) + prior * levels
    return [(c + prior) / total for c in counts]


# -- blocking --------------------------------------------------------------------------------
def _block_keys(model: MatchModel, rule: BlockingRule, records: Sequence[Mapping[str, Any]]) -> list[str | None]:
    forms: list[Callable[[Any], str | None]] = [block_form(model.entity, col) for col in rule.columns]
    keys: list[str | None] = []
    for record in records:
        parts = [form(record.get(col)) for col, form in zip(rule.columns, forms, strict=True)]
        keys.append(None if any(p is None for p in parts) else "\x1f".join(parts))  # type: ignore[arg-type]
    return keys


def _blocked(keys: list[str | None], recs: _Records, rule: BlockingRule) -> list[tuple[int, int]]:
    groups: dict[str, list[int]] = {}
    for index, key in enumerate(keys):
        if key is not None:
            groups.setdefault(key, []).append(index)
    pairs: list[tuple[int, int]] = []
    for members in groups.values():
        if len(members) > 1:
            pairs.extend((i, j) for i, j in combinations(members, 2) if recs.eligible(i, j))
            if len(pairs) > MAX_RULE_PAIRS:
                raise TrainingError(f"blocking rule [{', '.join(rule.columns)}] makes more than {MAX_RULE_PAIRS:,} "
                                    f"pairs: add a column to it")
    return pairs


# -- EM ----------------------------------------------------------------------------------------
def _expectation(patterns: Counter[Pattern], logit: float, weights: list[list[float]],
                 trained: list[int]) -> list[tuple[Pattern, int, float]]:
    out = []
    for pattern, count in patterns.items():
        total = logit + sum(weights[c][pattern[c]] for c in trained if pattern[c] >= 0)
        out.append((pattern, count, probability(total)))
    return out


def _em(patterns: Counter[Pattern], m: list[list[float]], u: list[list[float]], trained: list[int],
        share: float) -> tuple[list[list[float]], float, int]:
    """m of the ``trained`` comparisons and the share of true pairs, by EM over ``patterns``.

    Within a blocking rule's pairs, u is learned too (from the pairs taken for non-matches),
    starting from the random pairs' u: those pairs are not random any more. A city agrees for
    nearly all pairs of a postcode block, true or not; with the random pairs' u its agreement
    would weigh 11 bits for every pair and EM would take the whole block for true pairs. The
    model keeps the random pairs' u; only m is taken from here.
    """
    m = [list(levels) for levels in m]
    u = [list(levels) for levels in u]
    for iteration in range(1, _MAX_ITERATIONS + 1):
        weights = [[math.log2(mi / ui) for mi, ui in zip(mc, uc, strict=True)] for mc, uc in zip(m, u, strict=True)]
        scored = _expectation(patterns, math.log2(share / (1 - share)), weights, trained)
        matched = sum(count * p for _, count, p in scored)
        total = sum(count for _, count, _ in scored)
        change = 0.0
        for c in trained:
            true_sums, other_sums = [0.0] * len(m[c]), [0.0] * len(m[c])
            for pattern, count, p in scored:
                if pattern[c] >= 0:
                    true_sums[pattern[c]] += count * p
                    other_sums[pattern[c]] += count * (1 - p)
            fresh = _smoothed(true_sums)
            change = max(change, *(abs(a - b) for a, b in zip(fresh, m[c], strict=True)))
            m[c], u[c] = fresh, _smoothed(other_sums)
        share = min(max(matched / total, 1e-9), 1 - 1e-9)
        if change < _TOLERANCE:
            return m, share, iteration
    return m, share, _MAX_ITERATIONS


def _smoothed(sums: list[float]) -> list[float]:
    """Each level's share, with half a pseudo-pair per level (as for u): a level no true pair
    reached in a small hub is rare, not impossible (a surname changed by marriage must not
    weigh -20 bits)."""
    present = sum(sums)
    return [(s + _PSEUDO) / (present + _PSEUDO * len(sums)) for s in sums]


def _starting_m(levels: int) -> list[float]:
    """A neutral start: most true pairs agree exactly, the rest spread over the lower levels."""
    rest = [0.5 ** k for k in range(1, levels)]
    return [0.9] + [0.1 * r / sum(rest) for r in rest]


# -- term frequencies ----------------------------------------------------------------------------
def _frequencies(prepared: list[tuple[str | None, ...]], index: int) -> tuple[dict[str, float], float | None]:
    counts = Counter(p[index] for p in prepared if p[index] is not None)
    total = sum(counts.values())
    if not total:
        return {}, None
    common = {value: round(n / total, 8) for value, n in counts.most_common() if n >= MIN_SHARED}
    rare = [n for value, n in counts.items() if value not in common]
    # The share of records a rarer value has, on average over the records that have one.
    rare_u = sum(n * n for n in rare) / (total * sum(rare)) if rare else None
    return common, (None if rare_u is None else float(f"{rare_u:.6g}"))


# -- training ------------------------------------------------------------------------------------
def train(model: MatchModel, records: Sequence[Mapping[str, Any]], systems: Sequence[str], *,
          within_system: bool = False, seed: int = 20260101, u_pairs: int = U_PAIRS,
          progress: Callable[[str], None] | None = None) -> MatchModel:
    """``model`` with weights, prior and term frequencies learned from ``records``.

    ``records`` are flat golden-column dicts, one per system record, ``systems`` the system of
    each. Deterministic for a given ``seed``. Raises :class:`TrainingError` when there is
    nothing to learn from.
    """
    say = progress or (lambda _: None)
    if len(records) != len(systems):
        raise ValueError("systems must name the system of each record")
    recs = _Records(_prepare(model, records), list(systems), within_system)
    possible = _eligible_pairs(recs.systems, within_system)
    if possible < 2:
        raise TrainingError("too few records to train on: matching needs records of two systems "
                            "(or within_system) to compare")
    levels = [len(KINDS[c.kind].labels) for c in model.comparisons]

    say("estimating u on random pairs")
    randoms = _random_patterns(model, recs, u_pairs, random.Random(seed))
    u = [_level_shares(randoms, c, levels[c]) for c in range(len(levels))]

    m_by_rule: list[list[list[float] | None]] = [[] for _ in levels]
    start = [[lv.m for lv in c.levels] if c.levels else _starting_m(levels[i])
             for i, c in enumerate(model.comparisons)]
    union: Counter[Pattern] = Counter()
    earlier: list[list[str | None]] = []
    costs: list[BlockingRule] = []
    iterations: dict[str, int] = {}
    for rule in model.blocking:
        name = "+".join(rule.columns)
        say(f"blocking on {name}")
        keys = _block_keys(model, rule, records)
        pairs = _blocked(keys, recs, rule)
        costs.append(rule.model_copy(update={"pairs": len(pairs)}))
        patterns: Counter[Pattern] = Counter()
        for i, j in pairs:
            pattern = _pattern(model, recs.prepared[i], recs.prepared[j])
            patterns[pattern] += 1
            if not any(k[i] is not None and k[i] == k[j] for k in earlier):  # counted once in the union
                union[pattern] += 1
        earlier.append(keys)
        trained = [i for i, c in enumerate(model.comparisons) if not set(c.columns) & set(rule.columns)]
        if not patterns or not trained:
            continue
        fitted, _, iterations[name] = _em(patterns, start, u, trained, 0.1)
        for c in trained:
            m_by_rule[c].append(fitted[c])

    untrained = [c.name for c, found in zip(model.comparisons, m_by_rule, strict=True) if not found]
    m = [[sum(col) / len(found) for col in zip(*found, strict=True)] if found else start[c]  # type: ignore[misc]
         for c, found in enumerate(m_by_rule)]
    if not union:
        raise TrainingError("the blocking rules make no pair of records to learn from")

    say("estimating the prior")
    share = _prior_only(union, m, u, 0.01)
    expected = share * sum(union.values())
    prior = min(max(expected / possible, 1e-12), 0.5)

    # A level no random pair and no blocked pair reached is unmeasured: its smoothed m and u
    # would make up evidence from sample sizes alone, so it weighs nothing (u = m).
    seen = {(c, pattern[c]) for counter in (randoms, union) for pattern in counter for c in range(len(levels))}
    for c, levels_m in enumerate(m):
        for level, m_level in enumerate(levels_m):
            if (c, level) not in seen:
                u[c][level] = m_level

    comparisons = []
    for index, spec in enumerate(model.comparisons):
        frequencies, rare_u = _frequencies(recs.prepared, index) if spec.term_frequency else ({}, None)
        comparisons.append(Comparison(
            name=spec.name, columns=spec.columns, kind=spec.kind, term_frequency=spec.term_frequency,
            levels=[LevelWeights(label=label, m=_round(mi), u=_round(ui))
                    for label, mi, ui in zip(KINDS[spec.kind].labels, m[index], u[index], strict=True)],
            frequencies=frequencies, rare_u=rare_u))
    training = Training(at=datetime.now(UTC).replace(microsecond=0), records=len(records),
                        systems=sorted(set(systems)), pairs_for_u=sum(randoms.values()),
                        blocked_pairs=sum(union.values()), expected_matches=round(expected, 1),
                        iterations=iterations, untrained=untrained)
    return MatchModel(entity=model.entity, version=model.version + 1, prior=float(f"{prior:.6g}"),
                      blocking=costs, comparisons=comparisons, trained=training)


def _prior_only(patterns: Counter[Pattern], m: list[list[float]], u: list[list[float]], share: float) -> float:
    """The share of true pairs among ``patterns`` with m and u fixed (every comparison counts)."""
    everything = list(range(len(m)))
    weights = [[math.log2(mi / ui) for mi, ui in zip(mc, uc, strict=True)] for mc, uc in zip(m, u, strict=True)]
    total = sum(patterns.values())
    for _ in range(200):
        scored = _expectation(patterns, math.log2(share / (1 - share)), weights, everything)
        fresh = min(max(sum(count * p for _, count, p in scored) / total, 1e-9), 1 - 1e-9)
        if abs(fresh - share) < 1e-7:
            return fresh
        share = fresh
    return share


def _round(value: float) -> float:
    return float(f"{value:.6g}")


def without_empty(model: MatchModel, records: Sequence[Mapping[str, Any]]) -> MatchModel:
    """``model`` without the comparisons (and blocking rules) whose columns no record fills:
    a proposed model keeps only what the hub's records can be compared on."""
    filled = {col for record in records for col, value in record.items() if value is not None}
    comparisons = [c for c in model.comparisons if set(c.columns) & filled]
    blocking = [r for r in model.blocking if set(r.columns) <= filled]
    if not comparisons or not blocking:
        raise TrainingError(f"the hub's {model.entity} records fill none of the fields a model compares")
    return model.model_copy(update={"comparisons": comparisons, "blocking": blocking})


# -- a first model --------------------------------------------------------------------------------
def proposed_model(entity: str) -> MatchModel:
    """Comparisons and blocking rules for ``entity`` from its fields' types: names, birth date,
    address, contact and organisation name; a starting point that ``match train`` then fits."""
    columns = {leaf.column: leaf for leaf in layout(entity).fields}
    comparisons: list[Comparison] = []
    blocking: list[list[str]] = []

    def add(name: str, cols: list[str], kind: str, tf: bool = False, block: bool = False) -> None:
        if all(c in columns for c in cols):
            comparisons.append(Comparison(name=name, columns=cols, kind=kind, term_frequency=tf))  # type: ignore[arg-type]
            if block:
                blocking.append(cols)

    add("first_name", ["name__first"], "name", tf=True)
    add("middle_name", ["name__middle"], "name")
    add("last_name", ["name__last"], "name", tf=True)
    if "name__first" in columns and "name__last" in columns:
        # The whole name, not each part: a block on a common first name alone would make every
        # new John a candidate of every John in a hub of millions.
        blocking.append(["name__first", "name__last"])
    add("organisation", ["organisation__legal_name"], "organisation", tf=True, block=True)
    for column, leaf in columns.items():
        if leaf.base_type.__name__ in ("date", "datetime") and "birth" in column:
            add(column, [column], "date", block=True)
    add("street", ["address__street"], "text", block=True)
    add("city", ["address__city"], "text", tf=True)
    add("postal_code", ["address__postal_code"], "code", tf=True, block=True)
    add("email", ["contact__email"], "exact")
    add("phone", ["contact__phone"], "exact")
    if not comparisons:
        raise TrainingError(f"{entity} has no field a model can be proposed for: write its comparisons and "
                            f"blocking in the model file")
    return MatchModel(entity=entity, blocking=[BlockingRule(columns=cols) for cols in blocking or
                                               [comparisons[0].columns]], comparisons=comparisons)


__all__ = ["MAX_RULE_PAIRS", "U_PAIRS", "TrainingError", "proposed_model", "train", "without_empty"]
