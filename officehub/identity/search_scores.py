"""Fuzzy scores of one searched-for record against many candidates at once, column by column.

A fuzzy search ranks every golden record sharing a block with what an application sent,
some 150 at a million records. Scored one candidate at a time, each comparison is a few
rapidfuzz calls wrapped in Python; here each field is scored for all candidates in one
``rapidfuzz.process.cdist`` call (C++, over every distinct token at once) and the weights are
combined as arrays. The results are the very numbers :meth:`Matcher._score` gives (same
similarity functions, same floating-point operations in the same order); shapes the arrays
do not cover (a name of three tokens, an initial) are scored one by one by ``scalar``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

#: The floor below which two name tokens are different names (as in matching._token_similarity).
_SAME_NAME = 0.8

Scalar = Callable[[str, Any, Any], "float | None"]


class Scores:
    """The candidates' scores (None: fields under half the weight compared) and, on demand, one's fields."""

    def __init__(self, score: list[float | None], columns: list[tuple[str, list[float]]]) -> None:
        self.score = score
        self._columns = columns

    def fields(self, i: int) -> dict[str, float]:
        """Candidate ``i``'s similarity per field it was compared on."""
        return {name: found[i] for name, found in self._columns if found[i] == found[i]}  # not NaN


def scores(fields: Sequence[tuple[str, str, float]], total_weight: float, left: dict[str, Any],
           rights: Sequence[dict[str, Any]], scalar: Scalar) -> Scores:
    """Every candidate's weighted score, as :meth:`Matcher._score` gives it for one.

    ``fields`` are (name, method, weight) in rule order; ``left`` and each of ``rights`` map a field's
    name to its prepared form (None: nothing to compare); ``scalar`` scores one pair of a field.
    """
    import numpy as np

    count = len(rights)
    weight = np.zeros(count)
    total = np.zeros(count)
    columns: list[tuple[str, list[float]]] = []
    for name, method, field_weight in fields:
        mine = left.get(name)
        if mine is None:
            continue
        theirs = [r[name] for r in rights]
        if method == "name":
            found = _names(mine, theirs, scalar)
        elif method == "text":
            found = _texts(mine, theirs)
        else:
            found = np.array([np.nan if t is None or (s := scalar(method, mine, t)) is None else s for t in theirs])
        present = ~np.isnan(found)
        weight = weight + np.where(present, field_weight, 0.0)
        total = total + np.where(present, field_weight * np.nan_to_num(found), 0.0)
        columns.append((name, found.tolist()))
    with np.errstate(invalid="ignore", divide="ignore"):
        score = np.where(weight >= total_weight / 2, total / weight, np.nan).tolist()
    return Scores([None if s != s else s for s in score], columns)


def _names(mine: tuple[str, ...], theirs: list[tuple[str, ...] | None], scalar: Scalar) -> Any:
    """Name similarity per candidate; NaN where a candidate has no name."""
    import numpy as np
    from rapidfuzz.distance import JaroWinkler
    from rapidfuzz.process import cdist

    found = np.full(len(theirs), np.nan)
    pairs = [i for i, t in enumerate(theirs) if t is not None and len(t) == 2]
    if len(mine) == 2 and pairs and all(len(token) > 1 for token in mine):
        tokens = sorted({token for i in pairs for token in theirs[i]})  # type: ignore[union-attr]
        column = {token: j for j, token in enumerate(tokens)}
        sims = cdist(list(mine), tokens, scorer=JaroWinkler.normalized_similarity, score_cutoff=_SAME_NAME,
                     dtype=np.float64)
        # An initial on their side is 0.9 when it fits the name, else 0, as in the one-by-one comparison.
        for token, j in column.items():
            if len(token) == 1:
                sims[:, j] = [0.9 if m[0] == token else 0.0 for m in mine]  # (mine are whole names)
        first = np.array([column[theirs[i][0]] for i in pairs])  # type: ignore[index]
        second = np.array([column[theirs[i][1]] for i in pairs])  # type: ignore[index]
        found[pairs] = np.maximum(sims[0, first] + sims[1, second], sims[0, second] + sims[1, first]) / 2
        done = set(pairs)
    else:
        done = set()
    for i, t in enumerate(theirs):
        if t is not None and i not in done:
            found[i] = scalar("name", mine, t)
    return found


def _texts(mine: tuple[str | None, ...], theirs: list[tuple[str | None, ...] | None]) -> Any:
    """Text similarity per candidate: the mean over the columns both sides have; NaN where none."""
    import numpy as np
    from rapidfuzz import fuzz
    from rapidfuzz.process import cdist

    count = len(theirs)
    summed, compared = np.zeros(count), np.zeros(count)
    for k, value in enumerate(mine):
        if value is None:
            continue
        rows = [i for i, t in enumerate(theirs) if t is not None and t[k] is not None]
        if not rows:
            continue
        others = [theirs[i][k] for i in rows]  # type: ignore[index]
        ratio = cdist([value], others, scorer=fuzz.token_set_ratio, dtype=np.float64)[0] / 100.0
        bare = value.replace(" ", "")
        same = np.array([o == value or o.replace(" ", "") == bare for o in others])  # type: ignore[union-attr]
        summed[rows] += np.where(same, 1.0, ratio)
        compared[rows] += 1
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(compared > 0, summed / compared, np.nan)
