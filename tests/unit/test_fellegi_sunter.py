"""Probabilistic matching: comparison levels, training by EM, scoring, the model file and the matcher."""

from __future__ import annotations

import json
import math
import random
from datetime import date, timedelta
from pathlib import Path

import pytest

from officehub.identity import Candidate, Matcher, MatchRules
from officehub.identity.comparisons import KINDS
from officehub.identity.fellegi_sunter import ScoringModel, probability
from officehub.identity.match_model import MIN_SHARED, BlockingRule, Comparison, MatchModel, read_model, write_model
from officehub.identity.rules import ProbabilisticRule
from officehub.identity.training import TrainingError, proposed_model, train


def level(kind: str, a: str | None, b: str | None) -> str | None:
    found = KINDS[kind].compare(KINDS[kind].prepare_one(a), KINDS[kind].prepare_one(b))
    return None if found is None else KINDS[kind].labels[found]


@pytest.mark.parametrize(("a", "b", "expected"), [
    ("John", "john", "exact"),
    ("Jonathan", "Jonathon", "jaro_winkler_0.92"),
    ("Mary Ann", "Ann Mary", "same_tokens"),
    ("Mary", "Mary Ann", "same_tokens"),
    ("Ann", "Mary Ann", "same_tokens"),
    ("Katherine", "Kathleen", "jaro_winkler_0.80"),
    ("J", "John", "initial"),
    ("Anna", "Zoe", "different"),
    ("Мітчелл", "Mitchell", "exact"),
    (None, "John", None),
])
def test_name_levels(a: str | None, b: str | None, expected: str | None) -> None:
    assert level("name", a, b) == expected


@pytest.mark.parametrize(("a", "b", "expected"), [
    ("1980-04-02", "1980-04-02", "exact"),
    ("1980-04-02", "1980-02-04", "day_month_swapped"),
    ("1912-06-30", "1921-06-30", "one_typo"),
    ("1980-04-02", "1980-04-07", "one_typo"),
    ("1979-12-31", "1980-12-31", "year_off_by_one"),
    ("1980-04-02", "1981-05-02", "two_typos"),
    ("1980-04-02", "1955-11-23", "different"),
    ("not a date", "1980-04-02", None),
])
def test_date_levels(a: str, b: str, expected: str | None) -> None:
    assert level("date", a, b) == expected


def test_organisations_compare_without_legal_forms_and_quotes_in_any_script() -> None:
    assert level("organisation", "ТОВ «Фарм»", "Farm LLC") == "exact"
    assert level("organisation", '"FARM" GmbH', "Farm") == "exact"
    assert level("organisation", "Farm LLC", "Pharmacia Ltd") != "exact"


def test_code_and_text_levels_ignore_spacing_and_count_edits() -> None:
    assert level("code", "SW1A 1AA", "sw1a1aa") == "exact"
    assert level("code", "01001", "01007") == "one_typo"
    assert level("code", "01001", "99999") == "different"
    assert level("text", "10 High Street", "10 High Streat") == "one_typo"
    assert level("text", "High Street 10", "10 High Street") == "same_tokens"


# -- a synthetic population with known error rates ---------------------------------------------------
FIRST = [f"first{i:03d}" for i in range(150)]
LAST = [f"family{i:03d}" for i in range(300)]


def population(n: int = 400, seed: int = 7) -> tuple[list[dict], list[str], set[tuple[int, int]]]:
    """n people in system a; 80% of them again in system b, first names mistyped 10% of the time."""
    rng = random.Random(seed)
    people = [{"name__first": rng.choice(FIRST), "name__last": rng.choice(LAST),
               "birth_date": (date(1950, 1, 1) + timedelta(days=rng.randrange(20000))).isoformat(),
               "address__postal_code": f"{rng.randrange(200):05d}"} for _ in range(n)]
    # A common surname: shared by a quarter of everyone, so exact agreement on it says little.
    for person in people[::4]:
        person["name__last"] = "commonname"
    records, systems, truth = list(people), ["a"] * n, set()
    for i, person in enumerate(people[: int(n * 0.8)]):
        copy = dict(person)
        if rng.random() < 0.1:
            copy["name__first"] = copy["name__first"][:-1] + "x"
        records.append(copy)
        systems.append("b")
        truth.add((i, len(records) - 1))
    return records, systems, truth


def model_spec() -> MatchModel:
    return MatchModel(entity="customer",
                      blocking=[BlockingRule(columns=["name__last"]), BlockingRule(columns=["birth_date"])],
                      comparisons=[Comparison(name="first_name", columns=["name__first"], kind="name"),
                                   Comparison(name="last_name", columns=["name__last"], kind="name",
                                              term_frequency=True),
                                   Comparison(name="birth_date", columns=["birth_date"], kind="date"),
                                   Comparison(name="postal_code", columns=["address__postal_code"], kind="code")])


@pytest.fixture(scope="module")
def trained() -> MatchModel:
    records, systems, _ = population()
    return train(model_spec(), records, systems, seed=1)


def test_em_recovers_the_error_rate_and_the_prior(trained: MatchModel) -> None:
    first = next(c for c in trained.comparisons if c.name == "first_name")
    # 10% of true pairs had their first name mistyped: m(exact) is learned, not assumed.
    assert first.levels[0].m == pytest.approx(0.9, abs=0.04)
    # 320 true pairs among the 400 x 320 pairs of a record of each system.
    true_prior = 320 / (400 * 320)
    assert trained.prior == pytest.approx(true_prior, rel=0.3)
    assert trained.trained is not None and trained.trained.records == 720
    assert [rule.pairs for rule in trained.blocking] == [rule.pairs for rule in trained.blocking if rule.pairs]


def test_training_is_deterministic_for_a_seed(trained: MatchModel) -> None:
    records, systems, _ = population()
    again = train(model_spec(), records, systems, seed=1)
    assert again.model_dump(exclude={"trained"}) == trained.model_dump(exclude={"trained"})


def test_term_frequencies_keep_only_shared_values_and_weigh_common_ones_less(trained: MatchModel) -> None:
    last = next(c for c in trained.comparisons if c.name == "last_name")
    form = KINDS["name"].prepare_one  # values are kept in their comparison form
    assert form("commonname") in last.frequencies
    records, _, _ = population()
    counts: dict[str, int] = {}
    for r in records:
        counts[form(r["name__last"])] = counts.get(form(r["name__last"]), 0) + 1
    assert all(counts[value] >= MIN_SHARED for value in last.frequencies)
    scoring = ScoringModel(trained)
    common = scoring.explain(scoring.prepare({"name__last": "commonname"}), scoring.prepare({"name__last": "commonname"}))
    rare = scoring.explain(scoring.prepare({"name__last": "family007"}), scoring.prepare({"name__last": "family007"}))
    assert common.fields[1].weight < rare.fields[1].weight
    assert common.fields[1].tf_adjustment < 0 < rare.fields[1].tf_adjustment


def test_explanation_adds_up_and_separates_pairs(trained: MatchModel) -> None:
    records, _, truth = population()
    scoring = ScoringModel(trained)
    i, j = sorted(truth)[0]
    explained = scoring.explain(scoring.prepare(records[i]), scoring.prepare(records[j]))
    assert explained.total == pytest.approx(explained.prior_weight + sum(f.weight for f in explained.fields))
    assert explained.probability == pytest.approx(probability(explained.total))
    assert explained.probability > 0.99
    stranger = scoring.explain(scoring.prepare(records[0]), scoring.prepare(records[1]))
    assert stranger.probability < 0.01
    missing = scoring.explain(scoring.prepare({"name__last": "x"}), scoring.prepare({}))
    assert {f.level for f in missing.fields} == {None} and missing.total == missing.prior_weight


def test_the_model_file_round_trips_and_holds_no_rare_value(trained: MatchModel, tmp_path: Path) -> None:
    path = tmp_path / "identity" / "customer.model.yaml"
    write_model(path, trained)
    assert read_model(path) == trained
    text = path.read_text()
    assert text.startswith("# officehub match model for customer, version 1.")
    assert "family007" not in text and "first001" not in text  # shared by fewer than MIN_SHARED records


def test_a_model_file_with_changed_levels_or_unknown_columns_is_refused(trained: MatchModel, tmp_path: Path) -> None:
    data = json.loads(trained.model_dump_json())
    data["comparisons"][0]["levels"][1]["label"] = "close"
    with pytest.raises(ValueError, match="levels must be exact, jaro_winkler_0.92"):
        MatchModel.model_validate(data)
    data = json.loads(trained.model_dump_json())
    data["blocking"][0]["columns"] = ["surname"]
    with pytest.raises(ValueError, match="customer has no column surname"):
        MatchModel.model_validate(data)
    (tmp_path / "bad.yaml").write_text("entity: customer\nblocking: [\n")
    with pytest.raises(ValueError, match=r"bad.yaml: not valid YAML"):
        read_model(tmp_path / "bad.yaml")
    with pytest.raises(ValueError, match="not trained yet: run officehub match train customer"):
        ScoringModel(model_spec())


def test_training_refuses_nothing_to_learn_from() -> None:
    with pytest.raises(TrainingError, match="too few records"):
        train(model_spec(), [{"name__last": "a"}], ["a"])


def test_a_proposed_model_compares_the_fields_an_entity_has() -> None:
    model = proposed_model("customer")
    names = [c.name for c in model.comparisons]
    assert names[:3] == ["first_name", "middle_name", "last_name"] and "birth_date" in names
    rules = [rule.columns for rule in model.blocking]
    assert ["birth_date"] in rules and ["name__first", "name__last"] in rules and ["name__first"] not in rules
    assert "first_name" in [c.name for c in proposed_model("employee").comparisons]


# -- the matcher ---------------------------------------------------------------------------------
def rules(link_at: float = 0.99, review_at: float = 0.5) -> MatchRules:
    return MatchRules(probabilistic=ProbabilisticRule(model="identity/customer.model.yaml", link_at=link_at,
                                                      review_at=review_at))


def test_the_matcher_links_reviews_or_creates_by_probability(trained: MatchModel) -> None:
    records, _, truth = population()
    matcher = Matcher("customer", rules(), trained)
    i, j = sorted(truth)[1]
    linked = matcher.decide(records[j], "b", [Candidate("c-1", records[i], frozenset({"a"}))])
    assert linked.outcome == "link" and linked.canonical_id == "c-1" and linked.score >= 0.99
    assert linked.evidence["method"] == "probabilistic" and linked.evidence["model_version"] == 1
    assert set(linked.evidence["levels"]) == {"first_name", "last_name", "birth_date", "postal_code"}
    # Evidence names comparisons, levels, weights and ids: never a value.
    assert records[i]["name__last"] not in json.dumps(linked.evidence)
    # Same surname and postcode, another first name and birth date: a relative, not the person.
    relative = {**records[i], "name__first": "someoneelse", "birth_date": "2001-01-01"}
    assert matcher.decide(relative, "b", [Candidate("c-1", records[i], frozenset({"a"}))]).outcome == "new"
    # A weaker pair between the thresholds is queued.
    weak = {**records[i], "birth_date": None, "address__postal_code": None}
    queued = Matcher("customer", rules(link_at=0.999999, review_at=0.01), trained).decide(
        weak, "b", [Candidate("c-1", records[i], frozenset({"a"}))])
    assert queued.outcome == "review" and queued.canonical_id == "c-1"


def test_two_candidates_above_link_at_go_to_review(trained: MatchModel) -> None:
    records, _, truth = population()
    i, j = sorted(truth)[2]
    matcher = Matcher("customer", rules(), trained)
    decision = matcher.decide(records[j], "b", [Candidate("c-1", records[i], frozenset({"a"})),
                                                Candidate("c-2", dict(records[i]), frozenset({"c"}))])
    assert decision.outcome == "review" and decision.evidence["ambiguous"] is True
    assert decision.evidence["rivals"] == ["c-2"]


def test_candidates_outside_every_block_are_not_scored(trained: MatchModel) -> None:
    records, _, truth = population()
    i, j = sorted(truth)[3]
    far = {**records[i], "name__last": "zzz", "birth_date": "1901-01-01"}
    decision = Matcher("customer", rules(), trained).decide(records[j], "b", [Candidate("c-1", far, frozenset({"a"}))])
    assert decision.outcome == "new" and decision.evidence["unblocked"] == ["c-1"]


def test_probabilistic_matching_needs_its_model() -> None:
    with pytest.raises(ValueError, match="no match model for customer: run officehub match train customer"):
        Matcher("customer", rules())
    with pytest.raises(ValueError, match="choose fuzzy or probabilistic"):
        MatchRules(probabilistic=ProbabilisticRule(model="m.yaml"),
                   fuzzy={"blocks": [["birth_date"]], "fields": {"d": {"columns": ["birth_date"], "weight": 1}}})
    assert math.isclose(probability(0.0), 0.5)
