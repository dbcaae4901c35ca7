"""Fellegi–Sunter scoring: a trained match model compiled for comparing records.

Each comparison puts a pair of records at one of its levels; the level's match weight is
``log2(m / u)`` bits: how much more often true pairs land there than random ones. With term
frequencies, an exact match on a value weighs ``log2(m / f)``, ``f`` being the share of
records with that value (a shared rare surname says more than a shared ``smith``). The
prior's weight plus every comparison's weight is the pair's total; its probability is
``2^w / (1 + 2^w)``. A missing value weighs nothing either way.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from officehub.identity.comparisons import KINDS, Kind
from officehub.identity.match_model import Comparison, MatchModel
from officehub.identity.normalise import natural, normalise_date

Prepared = tuple[str | None, ...]


def probability(weight: float) -> float:
    """The match probability of a total match weight in bits."""
    if weight > 60:
        return 1.0
    if weight < -60:
        return 0.0
    odds = 2.0 ** weight
    return odds / (1.0 + odds)


def bits(p: float) -> float:
    """The match weight of a probability: ``log2(p / (1 - p))``."""
    return math.log2(p / (1.0 - p))


def block_form(entity: str, column: str) -> Any:
    """How a blocking column's values are compared: dates as ISO dates, anything else in its
    comparison form without spaces, whatever the script (``Максон`` and ``Makson`` share a block)."""
    if natural(entity, column) is normalise_date:
        return normalise_date
    return KINDS["code"].prepare_one


@dataclass(frozen=True, slots=True)
class FieldWeight:
    """One comparison's part in a pair's score."""

    comparison: str
    level: str | None  # None: a value is missing on one side
    m: float | None
    u: float | None
    weight: float  # bits, the term-frequency adjustment included
    tf_adjustment: float  # bits added because the value is rarer (or commoner) than most


@dataclass(frozen=True, slots=True)
class Explanation:
    """How a pair's score adds up: the prior, each comparison, the total and the probability."""

    prior: float
    prior_weight: float
    fields: tuple[FieldWeight, ...]
    total: float
    probability: float

    def as_dict(self) -> dict[str, Any]:
        """Plain data for ``--json``."""
        return {"prior": self.prior, "prior_weight": round(self.prior_weight, 3),
                "fields": [{"comparison": f.comparison, "level": f.level, "m": f.m, "u": f.u,
                            "weight": round(f.weight, 3), "tf_adjustment": round(f.tf_adjustment, 3)}
                           for f in self.fields],
                "total": round(self.total, 3), "probability": self.probability}


@dataclass(frozen=True, slots=True)
class _Compiled:
    name: str
    kind: Kind
    columns: tuple[str, ...]
    weights: tuple[float, ...]
    exact_m: float
    exact_u: float
    frequencies: Mapping[str, float] | None  # term frequencies, when the comparison uses them
    rare_u: float

    def tf_adjustment(self, value: str) -> float:
        """Bits an exact match on ``value`` gains (rare) or loses (common) against the average."""
        assert self.frequencies is not None
        return math.log2(self.exact_u / self.frequencies.get(value, self.rare_u))


def _compile(comparison: Comparison) -> _Compiled:
    levels = comparison.levels
    frequencies = comparison.frequencies if comparison.term_frequency else None
    exact = levels[0]
    weights = [math.log2(level.m / level.u) for level in levels]
    weights[-1] = min(weights[-1], 0.0)  # values that differ never count for a match
    return _Compiled(comparison.name, KINDS[comparison.kind], tuple(comparison.columns), tuple(weights),
                     exact.m, exact.u,
                     frequencies, comparison.rare_u or exact.u)


class ScoringModel:
    """A trained :class:`MatchModel`, compiled once for scoring many pairs."""

    def __init__(self, model: MatchModel) -> None:
        if not model.is_trained or model.prior is None:
            raise ValueError(f"the {model.entity} match model is not trained yet: run officehub match train "
                             f"{model.entity}")
        self.model = model
        self.prior = model.prior
        self.prior_weight = bits(model.prior)
        self._comparisons = tuple(_compile(c) for c in model.comparisons)
        #: Every golden column the model reads.
        self.columns = tuple(dict.fromkeys(col for c in model.comparisons for col in c.columns))

    def prepare(self, values: Mapping[str, Any]) -> Prepared:
        """A record's comparison forms, one per comparison (None where it has no value)."""
        return tuple(c.kind.prepare([values.get(col) for col in c.columns]) for c in self._comparisons)

    def levels(self, a: Prepared, b: Prepared) -> tuple[int | None, ...]:
        """The level index of each comparison (None where a value is missing)."""
        return tuple(c.kind.compare(x, y) for c, x, y in zip(self._comparisons, a, b, strict=True))

    def weight(self, a: Prepared, b: Prepared) -> float:
        """The pair's total match weight in bits."""
        total = self.prior_weight
        for c, x, y in zip(self._comparisons, a, b, strict=True):
            level = c.kind.compare(x, y)
            if level is None:
                continue
            total += c.weights[level]
            if level == 0 and c.frequencies is not None:
                total += c.tf_adjustment(x)  # type: ignore[arg-type]
        return total

    def explain(self, a: Prepared, b: Prepared) -> Explanation:
        """Each comparison's level and weight, the total and the probability (no value is named)."""
        fields = []
        total = self.prior_weight
        for c, x, y, spec in zip(self._comparisons, a, b, self.model.comparisons, strict=True):
            level = c.kind.compare(x, y)
            if level is None:
                fields.append(FieldWeight(c.name, None, None, None, 0.0, 0.0))
                continue
            adjustment = c.tf_adjustment(x) if level == 0 and c.frequencies is not None else 0.0  # type: ignore[arg-type]
            weight = c.weights[level] + adjustment
            total += weight
            fields.append(FieldWeight(c.name, c.kind.labels[level], spec.levels[level].m, spec.levels[level].u,
                                      weight, adjustment))
        return Explanation(self.prior, self.prior_weight, tuple(fields), total, probability(total))


__all__ = ["Explanation", "FieldWeight", "Prepared", "ScoringModel", "bits", "block_form", "probability"]
