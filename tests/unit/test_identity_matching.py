"""Matching records new to the hub: keys link, fuzzy fields score, evidence never shows a value."""

from __future__ import annotations

import json
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from officehub.identity import (
    Candidate,
    IdentityConfig,
    Matcher,
    MatchRules,
    date_similarity,
    name_similarity,
    normalise_date,
    normalise_email,
    normalise_id,
    normalise_none,
    normalise_phone,
    normalise_text,
)
from tests.unit.test_identity_rules import DEMO_LIKE

JOHN = {
    "name__first": "John", "name__last": "Smith", "birth_date": date(1980, 4, 2),
    "address__street": "10 High Street", "address__postal_code": "SW1A 1AA", "address__city": "London",
    "contact__email": "john.smith@example.org", "contact__phone": "+442079460000",
}
JON = {
    "name__first": "Jon", "name__last": "Smyth", "birth_date": "1980-04-02",
    "address__street": "10 High St", "address__postal_code": "sw1a1aa", "address__city": "London",
}
MARY = {
    "name__first": "Mary", "name__last": "Okafor", "birth_date": date(1975, 11, 30),
    "address__street": "22 Church Road", "address__postal_code": "SW1A 1AA", "address__city": "London",
}


@pytest.fixture(scope="module")
def rules() -> MatchRules:
    import yaml

    return IdentityConfig.model_validate(yaml.safe_load(DEMO_LIKE)).for_entity("customer").match


@pytest.fixture(scope="module")
def matcher(rules: MatchRules) -> Matcher:
    return Matcher("customer", rules)


def _cand(cid: str, values: dict, *systems: str) -> Candidate:
    return Candidate(cid, values, frozenset(systems or ("accounting",)))


# -- normalisers --------------------------------------------------------------------------------

@pytest.mark.parametrize(("fn", "raw", "expected"), [
    (normalise_email, "  John.Smith@Example.ORG ", "john.smith@example.org"),
    (normalise_phone, "+44 20 7946-0000", "+442079460000"),
    (normalise_phone, "0044 (20) 7946 0000", "+442079460000"),
    (normalise_phone, "020 7946 0000", "02079460000"),
    (normalise_phone, "n/a", None),
    (normalise_text, "  Müller-Lüdenscheidt,  Hans ", "mueller luedenscheidt hans"),
    (normalise_text, "STRAẞE", "strasse"),
    (normalise_text, "José  Ñúñez", "jose nunez"),
    (normalise_text, "O'Brien", "o brien"),
    (normalise_text, "Łukasz Ørsted", "lukasz orsted"),
    (normalise_text, "Олександр Шевченко", "олександр шевченко"),
    (normalise_text, " -- ", None),
    (normalise_id, " ab-12 34 ", "AB1234"),
    (normalise_date, date(1980, 4, 2), "1980-04-02"),
    (normalise_date, "1980-04-02T00:00:00", "1980-04-02"),
    (normalise_date, "02.04.1980", "02.04.1980"),
    (normalise_none, " As Is ", " As Is "),
    (normalise_none, "   ", None),
    (normalise_email, None, None),
])
def test_normalisers(fn, raw, expected) -> None:  # type: ignore[no-untyped-def]
    assert fn(raw) == expected


def test_umlaut_spellings_meet() -> None:
    assert normalise_text("Müller") == normalise_text("Mueller") == "mueller"
    assert normalise_text("Strauß") == normalise_text("STRAUSS")


def test_name_similarity_separates_variants_from_different_people() -> None:
    def sim(a: str, b: str) -> float:
        return name_similarity(normalise_text(a).split(), normalise_text(b).split())

    assert sim("Smith John", "John Smith") == 1.0
    assert sim("Jon Smyth", "John Smith") > 0.9
    assert sim("Hans Müller", "Hans Mueller") == 1.0
    assert sim("J Smith", "John Smith") >= 0.95
    assert sim("Jane Smith", "John Smith") == 0.5
    assert sim("Mary Okafor", "John Smith") == 0.0
    assert 0.6 < sim("Mary Ann Smith", "Mary Smith") < 0.7


def test_date_similarity() -> None:
    assert date_similarity("1980-04-02", "1980-04-02") == 1.0
    assert date_similarity("1980-04-02", "1980-02-04") == 0.8
    assert date_similarity("1980-04-02", "1980-04-03") == 0.0
    assert date_similarity("1980-04-02", "1981-02-04") == 0.0


# -- index keys ---------------------------------------------------------------------------------

def test_index_keys_cover_keys_and_blocks(matcher: Matcher) -> None:
    assert matcher.index_keys(JOHN) == [
        ("email", "john.smith@example.org"), ("phone", "+442079460000"),
        ("block:address__postal_code", "sw1a1aa"), ("block:birth_date", "1980-04-02"),
    ]
    # another system's formatting lands on the same block values
    assert set(matcher.index_keys(JON)) == {("block:address__postal_code", "sw1a1aa"),
                                            ("block:birth_date", "1980-04-02")}


def test_index_keys_leave_out_missing_values(matcher: Matcher) -> None:
    assert matcher.index_keys({"name__last": "Smith", "contact__email": "  "}) == []
    assert [k for k, _ in matcher.index_keys({"contact__phone": "+4420"})] == ["phone"]


def test_multi_column_key_needs_every_column() -> None:
    matcher = Matcher("customer", MatchRules.model_validate(
        {"keys": [{"name": "name_dob", "columns": ["name__last", "birth_date"], "normalise": "text"}]}))
    assert matcher.index_keys({"name__last": "Smith"}) == []
    assert matcher.index_keys({"name__last": "Smith", "birth_date": "1980-04-02"}) == [
        ("name_dob", "smith\x1f1980 04 02")]


def test_columns_are_what_matching_reads(matcher: Matcher) -> None:
    assert matcher.columns == ("name__first", "name__last", "birth_date", "contact__email", "contact__phone",
                               "address__street", "address__city", "address__postal_code")


def test_matcher_rejects_columns_the_entity_lacks(rules: MatchRules) -> None:
    with pytest.raises(ValueError, match="'address__street' is not a column of employee"):
        Matcher("employee", rules)


# -- decisions ----------------------------------------------------------------------------------

def test_spelling_variants_link(matcher: Matcher) -> None:
    decision = matcher.decide(JON, "crm", [_cand("c-1", JOHN)])
    assert (decision.outcome, decision.canonical_id) == ("link", "c-1")
    assert decision.score >= 0.92
    assert decision.evidence["method"] == "fuzzy"
    assert set(decision.evidence["fields"]) == {"name", "address", "birth_date"}


def test_different_person_at_the_same_postcode_is_new(matcher: Matcher) -> None:
    decision = matcher.decide(MARY, "crm", [_cand("c-1", JOHN)])
    assert decision.outcome == "new" and decision.canonical_id is None
    assert decision.score < 0.75


def test_near_duplicate_with_another_birth_day_goes_to_review(matcher: Matcher) -> None:
    twin = {**JOHN, "birth_date": date(1980, 4, 3)}
    del twin["contact__email"], twin["contact__phone"]
    decision = matcher.decide(twin, "crm", [_cand("c-1", JOHN)])
    assert (decision.outcome, decision.canonical_id) == ("review", "c-1")
    assert 0.75 <= decision.score < 0.92


def test_email_key_links_whatever_the_name(matcher: Matcher) -> None:
    renamed = {"name__first": "Johnny", "name__last": "Smith-Jones", "contact__email": " JOHN.SMITH@example.org"}
    decision = matcher.decide(renamed, "crm", [_cand("c-2", MARY), _cand("c-1", JOHN)])
    assert (decision.outcome, decision.canonical_id, decision.score) == ("link", "c-1", 1.0)
    assert decision.evidence["method"] == "key" and decision.evidence["keys"] == ["email"]
    assert decision.evidence["candidates"] == ["c-1", "c-2"]


def test_two_candidates_matching_by_key_is_ambiguous(matcher: Matcher) -> None:
    record = {"name__last": "Smith", "contact__email": "john.smith@example.org", "contact__phone": "+441632960001"}
    other = {**MARY, "contact__phone": "+44 1632 960001"}
    decision = matcher.decide(record, "crm", [_cand("c-9", other), _cand("c-1", JOHN)])
    assert (decision.outcome, decision.canonical_id) == ("review", "c-1")
    assert decision.evidence["ambiguous"] is True
    assert decision.evidence["key_matches"] == {"c-1": ["email"], "c-9": ["phone"]}


def test_same_system_candidates_are_ignored_unless_within_system(rules: MatchRules) -> None:
    candidates = [_cand("c-1", JOHN, "crm")]
    decision = Matcher("customer", rules).decide(JOHN, "crm", candidates)
    assert decision.outcome == "new"
    assert decision.evidence["ignored_own_system"] == ["c-1"] and decision.evidence["candidates"] == []
    # a golden record another system also supplies is fair game
    assert Matcher("customer", rules).decide(JOHN, "crm", [_cand("c-1", JOHN, "crm", "hr")]).outcome == "link"
    within = Matcher("customer", rules.model_copy(update={"within_system": True}))
    assert within.decide(JOHN, "crm", candidates).outcome == "link"


def test_candidates_outside_every_block_are_not_scored(matcher: Matcher) -> None:
    moved = {**JOHN, "birth_date": None, "address__postal_code": "EC1A 1BB"}
    del moved["contact__email"], moved["contact__phone"]
    decision = matcher.decide(moved, "crm", [_cand("c-1", JOHN)])
    assert decision.outcome == "new" and decision.evidence["unblocked"] == ["c-1"]


def test_missing_fields_are_no_evidence_either_way(matcher: Matcher) -> None:
    # no address on one side: name and birth date decide alone, renormalised over their weight
    bare = {"name__first": "John", "name__last": "Smith", "birth_date": "1980-04-02"}
    decision = matcher.decide(bare, "crm", [_cand("c-1", JOHN)])
    assert decision.outcome == "link" and decision.score == 1.0
    assert set(decision.evidence["fields"]) == {"name", "birth_date"}


def test_too_little_comparable_weight_makes_no_fuzzy_decision(matcher: Matcher) -> None:
    # only the birth date (0.2 of the weight) is comparable
    decision = matcher.decide({"name__last": "x", "birth_date": "1980-04-02"}, "crm",
                              [_cand("c-1", {"birth_date": date(1980, 4, 2)})])
    assert decision.outcome == "new" and decision.evidence["too_sparse"] == ["c-1"]


def test_ties_go_to_the_smallest_canonical_id(matcher: Matcher) -> None:
    decision = matcher.decide(JON, "crm", [_cand("c-7", JOHN), _cand("c-3", JOHN), _cand("c-5", MARY)])
    assert decision.canonical_id == "c-3"
    assert decision.evidence["scores"]["c-3"] == decision.evidence["scores"]["c-7"]


def test_no_candidates_and_no_fuzzy_rules_mean_new(matcher: Matcher) -> None:
    assert matcher.decide(JOHN, "crm", []).outcome == "new"
    keys_only = Matcher("customer", MatchRules.model_validate(
        {"keys": [{"name": "email", "columns": ["contact__email"], "normalise": "email"}]}))
    decision = keys_only.decide(JON, "crm", [_cand("c-1", JOHN)])
    assert (decision.outcome, decision.evidence["method"]) == ("new", "none")


def test_day_and_month_swapped_scores_with_the_date_method() -> None:
    rules = MatchRules.model_validate({"fuzzy": {
        "blocks": [["name__last"]],
        "fields": {"name": {"columns": ["name__first", "name__last"], "weight": 0.6, "method": "name"},
                   "dob": {"columns": ["birth_date"], "weight": 0.4, "method": "date"}}}})
    swapped = {**JOHN, "birth_date": "1980-02-04"}
    decision = Matcher("customer", rules).decide(swapped, "crm", [_cand("c-1", JOHN)])
    assert decision.evidence["fields"] == {"name": 1.0, "dob": 0.8}
    assert decision.score == pytest.approx(0.92)


def test_decide_many_matches_decide(matcher: Matcher) -> None:
    records = [JON, MARY, {"contact__email": "john.smith@example.org"}]
    candidates = [[_cand("c-1", JOHN)], [_cand("c-1", JOHN)], [_cand("c-1", JOHN), _cand("c-2", MARY)]]
    assert matcher.decide_many(records, "crm", candidates) == [
        matcher.decide(r, "crm", c) for r, c in zip(records, candidates, strict=True)]
    with pytest.raises(ValueError, match="one entry per record"):
        matcher.decide_many(records, "crm", candidates[:1])


def _value_strings(*records: dict) -> set[str]:
    out = set()
    for record in records:
        for value in record.values():
            if value is not None:
                text = value.isoformat() if isinstance(value, date) else str(value)
                out |= {text, text.lower(), *(normalise_text(text) or "").split(), normalise_phone(text) or text}
    return {s for s in out if len(s) >= 3}


@pytest.mark.parametrize("record", [JON, MARY, {**JOHN, "name__first": "Johnny"}, {**JOHN, "birth_date": "1980-04-03"}])
def test_evidence_never_contains_a_record_value(matcher: Matcher, record: dict) -> None:
    decision = matcher.decide(record, "crm", [_cand("c-1", JOHN), _cand("c-2", MARY)])
    text = json.dumps(decision.evidence).lower()
    leaked = [s for s in _value_strings(record, JOHN, MARY) if s.lower() in text]
    assert leaked == []


# -- properties ---------------------------------------------------------------------------------

_NAMES = st.sampled_from(["John", "Jon", "Johann", "Jane", "Smith", "Smyth", "Müller", "Mueller", "Ivan", "Олена",
                          "O'Brien", "J", "Anna", "Anne", "Marie", "Ng"])
_RECORDS = st.fixed_dictionaries({
    "name__first": st.none() | _NAMES,
    "name__last": _NAMES,
    "birth_date": st.none() | st.sampled_from(["1980-04-02", "1980-02-04", "1980-04-03"]),
    "address__street": st.none() | st.sampled_from(["10 High St", "10 High Street", "12 High St", "Church Rd"]),
    "address__postal_code": st.none() | st.sampled_from(["SW1A 1AA", "sw1a1aa", "EC1A 1BB"]),
    "address__city": st.none() | st.sampled_from(["London", "london", "Leeds"]),
})


@settings(max_examples=300, deadline=None)
@given(a=_RECORDS, b=_RECORDS)
def test_decide_is_symmetric(matcher: Matcher, a: dict, b: dict) -> None:
    ab = matcher.decide(a, "crm", [_cand("x", b)])
    ba = matcher.decide(b, "crm", [_cand("x", a)])
    assert (ab.outcome, ab.score) == (ba.outcome, ba.score)
    assert 0.0 <= ab.score <= 1.0


@settings(max_examples=100, deadline=None)
@given(records=st.lists(_RECORDS, min_size=1, max_size=5), a=_RECORDS, data=st.data())
def test_decide_ignores_candidate_order(matcher: Matcher, records: list, a: dict, data) -> None:  # type: ignore[no-untyped-def]
    candidates = [_cand(f"c-{i}", r) for i, r in enumerate(records)]
    shuffled = data.draw(st.permutations(candidates))
    assert matcher.decide(a, "crm", candidates) == matcher.decide(a, "crm", shuffled)
