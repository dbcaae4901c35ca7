"""A fuzzy search scores its candidates column by column (officehub.identity.search_scores): the very
numbers, order and explanations that scoring them one by one (Matcher._score) gives."""

from __future__ import annotations

from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from officehub.identity import Candidate, Matcher
from officehub.identity.rules import MatchRules

RULES = MatchRules.model_validate({"fuzzy": {
    "blocks": [["birth_date"], ["address__postal_code"]],
    "fields": {"name": {"columns": ["name__first", "name__last"], "method": "name", "weight": 0.40},
               "birth_date": {"columns": ["birth_date"], "method": "date", "weight": 0.35},
               "address": {"columns": ["address__street", "address__postal_code", "address__city"],
                           "method": "text", "weight": 0.25}},
    "link_at": 0.95, "review_at": 0.75}})

# Few distinct values, so that candidates share blocks, tokens repeat and near-misses are common.
NAMES = st.sampled_from(["Olena", "Olenа", "Olga", "O", "O.", "Koval", "Kovalenko", "Kowal", "K", "Jean Paul",
                         "Шевченко", "Shevchenko", "van der Berg", "", "  ", "Ó'Brien", "Smith", "Smyth"])
DATES = st.sampled_from([date(1980, 1, 2), date(1980, 2, 1), date(1991, 7, 7), None])
STREETS = st.sampled_from(["1 Main St", "1 Main Street", "Main St 1", "Khreshchatyk 22", "", None])
POSTCODES = st.sampled_from(["01001", "0100 1", "SW1A 1AA", "SW1A1AA", "79000", None])
CITIES = st.sampled_from(["Kyiv", "Kiev", "Київ", "London", None])

# Mostly one token a column, so both sides often have two (the shape scored as arrays), in either order.
TOKENS = st.sampled_from(["Olena", "Olga", "Koval", "Kowal", "Kovalenko", "Smith", "Smyth", "Шевченко",
                          "Shevchenko", "O", "K"])
NAME = st.one_of(TOKENS, TOKENS, TOKENS, NAMES, st.none())

RECORDS = st.fixed_dictionaries({
    "name__first": NAME, "name__last": NAME, "birth_date": DATES,
    "address__street": STREETS, "address__postal_code": POSTCODES, "address__city": CITIES,
})


def _one_by_one(matcher: Matcher, record: dict, candidates: list[Candidate]) -> list[tuple[str, float, dict]]:
    """The blocked candidates scored with Matcher._score, one at a time, best first."""
    mine = matcher._prepare(record)
    out = []
    for c in candidates:
        theirs = matcher._prepare(c.values)
        if mine.blocks & theirs.blocks and not (set(mine.keys.items()) & set(theirs.keys.items())):
            if (scored := matcher._score(mine, theirs)) is not None:
                out.append((c.canonical_id, scored[0], {n: round(v, 3) for n, v in scored[1].items()}))
    return sorted(out, key=lambda r: (-r[1], r[0]))


@settings(max_examples=400, deadline=None)
@given(RECORDS, st.lists(RECORDS, min_size=1, max_size=30), st.sampled_from([0.0, 0.5, 0.8]))
def test_scores_column_by_column_equal_scores_one_by_one(record: dict, others: list[dict], min_score: float):
    matcher = Matcher("customer", RULES)
    candidates = [Candidate(f"c{i:02d}", values) for i, values in enumerate(others)]
    expected = [r for r in _one_by_one(matcher, record, candidates) if r[1] >= min_score]
    ranked = matcher.rank(record, candidates, min_score=min_score)
    assert [(r.canonical_id, r.score, r.fields) for r in ranked] == expected
    assert all(r.method == "fuzzy" for r in ranked)


def test_a_limit_keeps_the_best_and_ties_go_by_id():
    matcher = Matcher("customer", RULES)
    record = {"name__first": "Olena", "name__last": "Koval", "birth_date": date(1980, 1, 2)}
    same = {"name__first": "Olena", "name__last": "Koval", "birth_date": date(1980, 1, 2)}
    near = {"name__first": "Olga", "name__last": "Koval", "birth_date": date(1980, 1, 2)}
    candidates = [Candidate("b", same), Candidate("c", near), Candidate("a", same)]
    ranked = matcher.rank(record, candidates, limit=2)
    assert [(r.canonical_id, r.score) for r in ranked] == [("a", 1.0), ("b", 1.0)]
    assert ranked[0].fields == {"name": 1.0, "birth_date": 1.0}
    assert [r.canonical_id for r in matcher.rank(record, candidates, min_score=0.99)] == ["a", "b"]
