"""Matching a record new to the hub to a golden record: deterministic keys, then fuzzy fields
or a trained probabilistic model (:mod:`officehub.identity.fellegi_sunter`).

Pure functions over flat golden-column dicts; the hub store fetches the candidates
(golden records sharing an index key, see :meth:`Matcher.index_keys`) and records the
decision. A :class:`Decision`'s evidence names keys, fields, scores and canonical ids,
never a record value: it is stored and logged.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from itertools import permutations
from types import ModuleType
from typing import Any, Literal

from officehub.canonical_model import layout
from officehub.identity import search_scores
from officehub.identity.fellegi_sunter import Prepared, ScoringModel, block_form, probability
from officehub.identity.match_model import MatchModel
from officehub.identity.normalise import (
    NORMALISERS,
    compact,
    natural,
    normalise_date,
    normalise_text,
)
from officehub.identity.rules import EntityIdentity, FuzzyField, MatchRules, rule_problems

# ---------------------------------------------------------------------------------------------
# Field similarity, each in [0, 1] and symmetric in its two arguments.

@cache
def _rapidfuzz() -> tuple[ModuleType, Any]:
    """rapidfuzz's scorers, imported on first comparison: a hub without fuzzy rules never
    loads them (2.4 MB resident, counted against every sync's memory)."""
    from rapidfuzz import fuzz
    from rapidfuzz.distance import JaroWinkler

    return fuzz, JaroWinkler


def _token_similarity(a: str, b: str) -> float:
    """Jaro-Winkler per name token; below 0.8 the tokens are different names (0), an initial fits its name."""
    if a == b:
        return 1.0
    if len(a) == 1 or len(b) == 1:
        return 0.9 if a[0] == b[0] else 0.0
    similarity = _rapidfuzz()[1].normalized_similarity(a, b)
    return similarity if similarity >= 0.8 else 0.0


def name_similarity(a: Sequence[str], b: Sequence[str]) -> float:
    """Best one-to-one alignment of name tokens (order-free), averaged over the longer name.

    Whole-string ratios score two small spelling variants (Jon Smyth / John Smith, 0.84)
    about as high as a different first name (John / Jane Smith, 0.80); per-token
    Jaro-Winkler with a floor separates them (0.91 vs 0.50).
    """
    if sorted(a) == sorted(b):
        return 1.0
    short, long = (a, b) if len(a) <= len(b) else (b, a)
    sims = [[_token_similarity(s, t) for t in long] for s in short]
    if len(short) == 1:
        best = max(sims[0])
    elif len(long) == 2:  # the usual first + last
        best = max(sims[0][0] + sims[1][1], sims[0][1] + sims[1][0])
    elif len(long) <= 4:
        best = max(sum(row[j] for row, j in zip(sims, perm)) for perm in permutations(range(len(long)), len(short)))
    else:  # rare long names: greedy, ordered by similarity then the tokens themselves (symmetric)
        pairs = sorted(((sims[i][j], min(short[i], long[j]), max(short[i], long[j]), i, j)
                        for i in range(len(short)) for j in range(len(long))), key=lambda p: (-p[0], p[1], p[2]))
        used_i: set[int] = set()
        used_j: set[int] = set()
        best = 0.0
        for sim, _, _, i, j in pairs:
            if i not in used_i and j not in used_j:
                used_i.add(i)
                used_j.add(j)
                best += sim
    return best / len(long)


def date_similarity(a: str, b: str) -> float:
    """1 for the same ISO date, 0.8 when day and month are swapped, else 0."""
    if a == b:
        return 1.0
    if len(a) == len(b) == 10 and a[:4] == b[:4] and a[5:7] == b[8:10] and a[8:10] == b[5:7]:
        return 0.8
    return 0.0


def text_similarity(a: str, b: str) -> float:
    """Token-set similarity of two normalised texts; spacing alone never makes a difference (SW1A 1AA)."""
    if a == b or a.replace(" ", "") == b.replace(" ", ""):
        return 1.0
    return _rapidfuzz()[0].token_set_ratio(a, b) / 100.0


def _field_score(method: str, a: Any, b: Any) -> float | None:
    """Similarity of two prepared field values; None when they cannot be compared.

    Multi-column text and exact fields compare the columns present on both sides only:
    one system's missing city says nothing about another's.
    """
    if method == "name":
        return name_similarity(a, b)
    if method == "date":
        return date_similarity(a, b)
    pairs = [(x, y) for x, y in zip(a, b) if x is not None and y is not None]
    if not pairs:
        return None
    if method == "exact":
        return 1.0 if all(x == y for x, y in pairs) else 0.0
    return sum(text_similarity(x, y) for x, y in pairs) / len(pairs)


# ---------------------------------------------------------------------------------------------
# Candidates and decisions.

@dataclass(frozen=True, slots=True)
class Candidate:
    """A golden record that may be the same real-world thing, with the systems that supply it."""

    canonical_id: str
    values: Mapping[str, Any]
    systems: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Decision:
    """What to do with a record: link to a golden record, queue for review, or create a new one."""

    outcome: Literal["link", "review", "new"]
    canonical_id: str | None
    score: float
    evidence: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Ranked:
    """A candidate scored against a searched-for record: by a shared key (1.0), the model or the fuzzy rules."""

    canonical_id: str
    score: float
    method: str
    #: Per comparison: its weight (model) or similarity (fuzzy rules); the shared keys' names for a key match.
    fields: dict[str, Any]


@dataclass(frozen=True, slots=True)
class _Prepared:
    keys: dict[str, str]
    blocks: frozenset[tuple[str, str]]
    fields: dict[str, Any]
    forms: Prepared | None  # the probabilistic model's comparison forms


@dataclass(frozen=True, slots=True)
class _CompiledField:
    name: str
    weight: float
    method: str
    columns: tuple[str, ...]
    normalisers: tuple[Callable[[Any], str | None], ...]

    def prepare(self, values: Mapping[str, Any]) -> Any:
        """The field's comparable form, or None when the record has nothing for it."""
        # Called for every candidate of every search and every record of an ingest: written for speed
        # (a list comprehension, no generator; a date field's one column straight through).
        if self.method == "date":
            return self.normalisers[0](values.get(self.columns[0]))
        normalised = [fn(values.get(col)) for col, fn in zip(self.columns, self.normalisers)]
        if self.method == "name":
            return tuple(t for part in normalised if part for t in part.split()) or None
        return tuple(normalised) if any(v is not None for v in normalised) else None


def _compile_field(entity: str, name: str, spec: FuzzyField) -> _CompiledField:
    if spec.method in ("name", "text"):
        fns = tuple(normalise_text for _ in spec.columns)
    elif spec.method == "date":
        fns = (normalise_date,)
    else:
        fns = tuple(natural(entity, col) for col in spec.columns)
    return _CompiledField(name, spec.weight, spec.method, tuple(spec.columns), fns)


#: Prepared candidates a Matcher remembers (a few hundred bytes each).
_CACHE_SIZE = 50_000


class Matcher:
    """Matching rules of one entity compiled for repeated use on records new to the hub."""

    def __init__(self, entity: str, rules: MatchRules, model: MatchModel | None = None) -> None:
        """``model`` is the trained model file that ``rules.probabilistic`` names (ValueError without it)."""
        if problems := rule_problems(entity, EntityIdentity(match=rules)):
            raise ValueError("; ".join(problems))
        self.entity = entity
        self.rules = rules
        self._keys = [(k.name, tuple(k.columns), NORMALISERS[k.normalise]) for k in rules.keys]
        fuzzy = rules.fuzzy
        self._blocks = [] if fuzzy is None else [
            ("block:" + "+".join(block), tuple(block),
             tuple(normalise_date if natural(entity, c) is normalise_date else compact for c in block))
            for block in fuzzy.blocks
        ]
        self.scoring: ScoringModel | None = None
        if rules.probabilistic is not None:
            if model is None:
                raise ValueError(f"no match model for {entity}: run officehub match train {entity}")
            if model.entity != entity:
                raise ValueError(f"the match model {rules.probabilistic.model} is for {model.entity}, not {entity}")
            self.scoring = ScoringModel(model)
            # Blocks of a model are named apart from fuzzy ones: their values are in comparison form.
            self._blocks = [("fs:" + "+".join(rule.columns), tuple(rule.columns),
                             tuple(block_form(entity, c) for c in rule.columns)) for rule in model.blocking]
        self._fields = [] if fuzzy is None else [_compile_field(entity, n, f) for n, f in fuzzy.fields.items()]
        self._total_weight = sum(f.weight for f in self._fields)
        named = {c for _, cols, _ in self._keys for c in cols} | {c for _, cols, _ in self._blocks for c in cols}
        named |= {c for f in self._fields for c in f.columns}
        named |= set(self.scoring.columns if self.scoring else ())
        #: The golden columns matching reads, in layout order.
        self.columns: tuple[str, ...] = tuple(leaf.column for leaf in layout(entity).fields if leaf.column in named)
        self._cache: dict[tuple, _Prepared] = {}

    def index_keys(self, record: Mapping[str, Any]) -> list[tuple[str, str]]:
        """(key name, normalised value) pairs under which the record is indexed and candidates are found."""
        pairs = [(name, value) for name, value in self._key_values(record).items()]
        return pairs + sorted(self._block_values(record))

    def decide(self, record: Mapping[str, Any], system: str, candidates: Iterable[Candidate]) -> Decision:
        """Link, review or new for ``record`` (supplied by ``system``) against ``candidates``."""
        return self._decide(self._prepare(record), system, candidates)

    def decide_many(self, records: Sequence[Mapping[str, Any]], system: str,
                    candidates_by_record: Sequence[Iterable[Candidate]]) -> list[Decision]:
        """:meth:`decide` for each record with its own candidates."""
        if len(records) != len(candidates_by_record):
            raise ValueError("candidates_by_record must have one entry per record")
        return [self.decide(r, system, cands) for r, cands in zip(records, candidates_by_record, strict=True)]

    def rank(self, record: Mapping[str, Any], candidates: Iterable[Candidate], *, min_score: float = 0.0,
             limit: int | None = None) -> list[Ranked]:
        """The candidates sharing a key or a block with ``record`` and scoring at least ``min_score``, best
        first, the first ``limit`` of them (a search, not a decision).

        A shared key scores 1.0; otherwise the model's probability (probabilistic rules) or
        the fuzzy rules' weighted similarity, on blocked candidates only, as in :meth:`decide`.
        """
        prepared_record = self._prepare(record)
        out: list[Ranked] = []
        blocked: list[tuple[str, _Prepared]] = []
        for cid, cand in ((c.canonical_id, self._prepare_candidate(c.values)) for c in
                          {c.canonical_id: c for c in candidates}.values()):
            keys = [name for name, value in prepared_record.keys.items() if cand.keys.get(name) == value]
            if keys:
                out.append(Ranked(cid, 1.0, "key", {"keys": keys}))
            elif not prepared_record.blocks & cand.blocks:
                continue
            elif self.scoring is not None:
                weight = self.scoring.weight(prepared_record.forms, cand.forms)  # type: ignore[arg-type]
                explained = self.scoring.explain(prepared_record.forms, cand.forms)  # type: ignore[arg-type]
                out.append(Ranked(cid, probability(weight), "probabilistic",
                                  {f.comparison: round(f.weight, 2) for f in explained.fields if f.level is not None}))
            else:
                blocked.append((cid, cand))
        out = [r for r in out if r.score >= min_score]
        if blocked:
            # The fuzzy rules' scores of every blocked candidate at once (the numbers _score gives one by one);
            # the fields that explain a score are looked up only for the candidates kept.
            fields = [(f.name, f.method, f.weight) for f in self._fields]
            found = search_scores.scores(fields, self._total_weight, prepared_record.fields,
                                         [cand.fields for _, cand in blocked], _field_score)
            kept = sorted(((-s, cid, i) for i, ((cid, _), s) in enumerate(zip(blocked, found.score))
                           if s is not None and s >= min_score))[:limit]
            out += [Ranked(cid, -negated, "fuzzy", {n: round(v, 3) for n, v in found.fields(i).items()})
                    for negated, cid, i in kept]
        return sorted(out, key=lambda r: (-r.score, r.canonical_id))[:limit]

    # -- preparation ---------------------------------------------------------------------------

    def _key_values(self, values: Mapping[str, Any]) -> dict[str, str]:
        out = {}
        for name, columns, fn in self._keys:
            parts = [fn(values.get(c)) for c in columns]
            if all(p is not None for p in parts):
                out[name] = "\x1f".join(parts)  # type: ignore[arg-type]
        return out

    def _block_values(self, values: Mapping[str, Any]) -> set[tuple[str, str]]:
        out = set()
        for name, columns, fns in self._blocks:
            if len(columns) == 1:  # the usual block: one column, no joining
                if (part := fns[0](values.get(columns[0]))) is not None:
                    out.add((name, part))
                continue
            parts = [fn(values.get(c)) for c, fn in zip(columns, fns)]
            if all(p is not None for p in parts):
                out.add((name, "\x1f".join(parts)))  # type: ignore[arg-type]
        return out

    def _prepare(self, values: Mapping[str, Any]) -> _Prepared:
        return _Prepared(self._key_values(values), frozenset(self._block_values(values)),
                         {f.name: f.prepare(values) for f in self._fields},
                         self.scoring.prepare(values) if self.scoring else None)

    def _prepare_candidate(self, values: Mapping[str, Any]) -> _Prepared:
        """:meth:`_prepare`, remembered by the candidate's values: the same golden records recur."""
        try:
            row = tuple(map(values.get, self.columns))
            prepared = self._cache.get(row)
        except TypeError:  # an unhashable value: nothing to remember it by
            return self._prepare(values)
        if prepared is None:
            if len(self._cache) >= _CACHE_SIZE:
                self._cache.clear()
            prepared = self._cache[row] = self._prepare(values)
        return prepared

    # -- deciding ------------------------------------------------------------------------------

    def _considered(self, system: str, candidates: Iterable[Candidate]) -> tuple[list[Candidate], list[str]]:
        """Candidates to weigh (deduplicated by id) and the ids ignored as the record's own system's."""
        seen: dict[str, Candidate] = {}
        for cand in candidates:
            seen.setdefault(cand.canonical_id, cand)
        own = [] if self.rules.within_system else [
            cid for cid, c in seen.items() if c.systems and c.systems <= {system}]
        return [c for cid, c in seen.items() if cid not in own], sorted(own)

    def _decide(self, record: _Prepared, system: str, candidates: Iterable[Candidate]) -> Decision:
        considered, ignored = self._considered(system, candidates)
        evidence: dict[str, Any] = {"candidates": sorted(c.canonical_id for c in considered)}
        if ignored:
            evidence["ignored_own_system"] = ignored
        prepared = {cand.canonical_id: self._prepare_candidate(cand.values) for cand in considered}
        if decision := self._by_keys(record, prepared, evidence):
            return decision
        if self.scoring is not None:
            return self._by_probability(record, prepared, evidence)
        if self.rules.fuzzy is None:
            return Decision("new", None, 0.0, {"method": "none", **evidence})
        return self._by_similarity(record, prepared, evidence)

    def _by_keys(self, record: _Prepared, prepared: dict[str, _Prepared], evidence: dict) -> Decision | None:
        hits = {}
        for cid, cand in prepared.items():
            matched = [name for name, value in record.keys.items() if cand.keys.get(name) == value]
            if matched:
                hits[cid] = matched
        if not hits:
            return None
        first = min(hits)
        if len(hits) == 1:
            return Decision("link", first, 1.0, {"method": "key", "keys": hits[first], **evidence})
        return Decision("review", first, 1.0, {"method": "key", "ambiguous": True,
                                               "key_matches": dict(sorted(hits.items())), **evidence})

    def _by_similarity(self, record: _Prepared, prepared: dict[str, _Prepared], evidence: dict) -> Decision:
        fuzzy = self.rules.fuzzy
        assert fuzzy is not None
        scored: dict[str, tuple[float, dict[str, float]]] = {}
        unblocked, too_sparse = [], []
        for cid, cand in prepared.items():
            if not record.blocks & cand.blocks:
                unblocked.append(cid)
            elif (result := self._score(record, cand)) is None:
                too_sparse.append(cid)
            else:
                scored[cid] = result
        evidence = {"method": "fuzzy", **evidence}
        if unblocked:
            evidence["unblocked"] = sorted(unblocked)
        if too_sparse:
            evidence["too_sparse"] = sorted(too_sparse)
        if not scored:
            return Decision("new", None, 0.0, evidence)
        best = min(scored, key=lambda cid: (-scored[cid][0], cid))
        score, fields = scored[best]
        evidence["scores"] = {cid: round(s, 3) for cid, (s, _) in sorted(scored.items())}
        evidence["fields"] = {name: round(s, 3) for name, s in fields.items()}
        if score >= fuzzy.link_at:
            return Decision("link", best, score, {**evidence, "best": best})
        if score >= fuzzy.review_at:
            return Decision("review", best, score, {**evidence, "best": best})
        return Decision("new", None, score, {**evidence, "best": best})

    def _by_probability(self, record: _Prepared, prepared: dict[str, _Prepared], evidence: dict) -> Decision:
        """Link the most probable candidate at or above link_at when no other reaches it too."""
        rule, scoring = self.rules.probabilistic, self.scoring
        assert rule is not None and scoring is not None and record.forms is not None
        weights = {cid: scoring.weight(record.forms, cand.forms) for cid, cand in prepared.items()  # type: ignore[arg-type]
                   if record.blocks & cand.blocks}
        evidence = {"method": "probabilistic", "model_version": scoring.model.version, **evidence}
        if unblocked := sorted(set(prepared) - set(weights)):
            evidence["unblocked"] = unblocked
        if not weights:
            return Decision("new", None, 0.0, evidence)
        ranked = sorted(weights, key=lambda cid: (-weights[cid], cid))
        best = ranked[0]
        chance = probability(weights[best])
        explained = scoring.explain(record.forms, prepared[best].forms)  # type: ignore[arg-type]
        evidence |= {"best": best, "scores": {cid: round(probability(w), 4) for cid, w in sorted(weights.items())},
                     "weight": round(weights[best], 2),
                     "fields": {f.comparison: round(f.weight, 2) for f in explained.fields if f.level is not None},
                     "levels": {f.comparison: f.level for f in explained.fields if f.level is not None}}
        if chance >= rule.link_at:
            rivals = [cid for cid in ranked[1:] if probability(weights[cid]) >= rule.link_at]
            if not rivals:
                return Decision("link", best, chance, evidence)
            return Decision("review", best, chance, {**evidence, "ambiguous": True, "rivals": rivals})
        if chance >= rule.review_at:
            return Decision("review", best, chance, evidence)
        return Decision("new", None, chance, evidence)

    def _score(self, a: _Prepared, b: _Prepared) -> tuple[float, dict[str, float]] | None:
        """Weighted score over fields comparable on both sides; None under half the total weight."""
        fields: dict[str, float] = {}
        weight = total = 0.0
        for f in self._fields:
            left, right = a.fields[f.name], b.fields[f.name]
            if left is None or right is None:
                continue
            if (s := _field_score(f.method, left, right)) is None:
                continue
            fields[f.name] = s
            weight += f.weight
            total += f.weight * s
        if weight < self._total_weight / 2:
            return None
        return total / weight, fields


__all__ = [
    "Candidate",
    "Decision",
    "Matcher",
    "Ranked",
    "date_similarity",
    "name_similarity",
    "text_similarity",
]
