"""Identity rules: the ``identity:`` section validated against each entity's golden columns."""

from __future__ import annotations

import pytest
import yaml
from pydantic import ValidationError

from officehub.identity import EntityIdentity, IdentityConfig, MatchRules, SurvivorshipRule, field_groups

DEMO_LIKE = """\
customer:
  match:
    within_system: false
    keys:
      - {name: email, columns: [contact__email], normalise: email}
      - {name: phone, columns: [contact__phone], normalise: phone}
    fuzzy:
      blocks: [[birth_date], [address__postal_code]]
      fields:
        name:       {columns: [name__first, name__last], weight: 0.5, method: name}
        address:    {columns: [address__street, address__postal_code, address__city], weight: 0.3, method: text}
        birth_date: {columns: [birth_date], weight: 0.2, method: exact}
      link_at: 0.92
      review_at: 0.75
  survivorship:
    default: {rule: most_recent}
    fields:
      address: {rule: trust, order: [crm, accounting]}
      notes: {rule: source, system: crm}
      contact: {rule: most_complete}
"""


def _config(text: str = DEMO_LIKE) -> IdentityConfig:
    return IdentityConfig.model_validate(yaml.safe_load(text))


def _error(raw: dict) -> str:
    with pytest.raises(ValidationError) as info:
        IdentityConfig.model_validate(raw)
    return str(info.value)


def test_the_documented_example_loads() -> None:
    config = _config()
    customer = config.for_entity("customer")
    assert [k.name for k in customer.match.keys] == ["email", "phone"]
    assert customer.match.fuzzy is not None and customer.match.fuzzy.total_weight == pytest.approx(1.0)
    assert customer.survivorship.rule_for("address").order == ["crm", "accounting"]
    assert customer.survivorship.rule_for("segment").rule == "most_recent"
    assert customer.systems_named() == {"crm", "accounting"}
    assert [name for name, _ in config.items()] == ["customer"]


def test_an_entity_left_out_gets_the_defaults() -> None:
    rules = _config().for_entity("product")
    assert rules == EntityIdentity()
    assert rules.match.keys == [] and rules.match.fuzzy is None
    with pytest.raises(KeyError):
        _config().for_entity("invoice")


def test_unknown_column_is_named_with_a_suggestion() -> None:
    message = _error({"customer": {"match": {"keys": [{"name": "email", "columns": ["contact__mail"]}]}}})
    assert "match.keys[0] (email): 'contact__mail' is not a column of customer" in message
    assert "did you mean 'contact__email'" in message


def test_every_bad_column_is_reported_together() -> None:
    message = _error({"employee": {"match": {"fuzzy": {
        "blocks": [["postcode"]],
        "fields": {"name": {"columns": ["name__first", "surname"], "weight": 1, "method": "name"}},
    }}}})
    assert "match.fuzzy.blocks[0]: 'postcode' is not a column of employee" in message
    assert "match.fuzzy.fields.name: 'surname' is not a column of employee" in message


def test_columns_are_checked_against_their_own_entity() -> None:
    # address__city exists on customer, not on employee (whose address is home_address)
    message = _error({"employee": {"match": {"keys": [{"name": "city", "columns": ["address__city"]}]}}})
    assert "'address__city' is not a column of employee (did you mean 'home_address__city'?)" in message


def test_survivorship_fields_are_top_level_fields() -> None:
    message = _error({"customer": {"survivorship": {"fields": {
        "adress": {"rule": "most_recent"},
        "address__city": {"rule": "most_recent"},
    }}}})
    assert "'adress' is not a top-level field of customer (did you mean 'address'?)" in message
    assert "'address__city' is not a top-level field of customer" in message


def test_repeating_groups_are_not_survivorship_fields() -> None:
    assert "'stock_levels' is not a top-level field of product" in _error(
        {"product": {"survivorship": {"fields": {"stock_levels": {"rule": "most_recent"}}}}})


@pytest.mark.parametrize("weight", [0, -0.5])
def test_weights_must_be_positive(weight: float) -> None:
    message = _error({"customer": {"match": {"fuzzy": {
        "blocks": [["birth_date"]], "fields": {"dob": {"columns": ["birth_date"], "weight": weight}}}}}})
    assert "customer.match.fuzzy.fields.dob.weight" in message


def test_review_threshold_not_above_link_threshold() -> None:
    message = _error({"customer": {"match": {"fuzzy": {
        "blocks": [["birth_date"]], "fields": {"dob": {"columns": ["birth_date"], "weight": 1}},
        "link_at": 0.8, "review_at": 0.9}}}})
    assert "review_at (0.9) must not be above link_at (0.8)" in message


def test_fuzzy_needs_a_block_and_a_field() -> None:
    assert "blocks" in _error({"customer": {"match": {"fuzzy": {
        "blocks": [], "fields": {"dob": {"columns": ["birth_date"], "weight": 1}}}}}})
    assert "fields" in _error({"customer": {"match": {"fuzzy": {"blocks": [["birth_date"]], "fields": {}}}}})
    assert "at least one column" in _error({"customer": {"match": {"fuzzy": {
        "blocks": [[]], "fields": {"dob": {"columns": ["birth_date"], "weight": 1}}}}}})


def test_date_method_compares_one_column() -> None:
    assert "method 'date' compares exactly one column" in _error({"customer": {"match": {"fuzzy": {
        "blocks": [["birth_date"]],
        "fields": {"dob": {"columns": ["birth_date", "name__last"], "weight": 1, "method": "date"}}}}}})


def test_key_names_unique_and_well_formed() -> None:
    keys = [{"name": "email", "columns": ["contact__email"]}, {"name": "email", "columns": ["contact__phone"]}]
    assert "key names must be unique: email" in _error({"customer": {"match": {"keys": keys}}})
    with pytest.raises(ValidationError):
        MatchRules.model_validate({"keys": [{"name": "block:x", "columns": ["contact__email"]}]})


@pytest.mark.parametrize(("raw", "message"), [
    ({"rule": "trust"}, "rule 'trust' needs 'order'"),
    ({"rule": "source"}, "rule 'source' needs 'system'"),
    ({"rule": "most_recent", "order": ["crm"]}, "'order' belongs to rule 'trust' only"),
    ({"rule": "trust", "order": ["crm"], "system": "crm"}, "'system' belongs to rule 'source' only"),
    ({"rule": "trust", "order": ["crm", "crm"]}, "'order' names a system twice"),
    ({"rule": "newest"}, "Input should be"),
])
def test_survivorship_rule_parameters(raw: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        SurvivorshipRule.model_validate(raw)


def test_unknown_keys_and_entities_are_rejected() -> None:
    assert "invoice" in _error({"invoice": {}})
    assert "treshold" in _error({"customer": {"match": {"treshold": 0.9}}})


def test_every_field_is_described_for_users() -> None:
    from officehub.identity import rules

    for model in (rules.KeyRule, rules.FuzzyField, rules.FuzzyRule, rules.MatchRules, rules.SurvivorshipRule,
                  rules.Survivorship, rules.EntityIdentity):
        assert model.__doc__
        for name, info in model.model_fields.items():
            assert info.description, f"{model.__name__}.{name} has no description"


def test_field_groups_follow_the_layout() -> None:
    groups = field_groups("customer")
    assert groups["address"] == ["address__street", "address__city", "address__postal_code", "address__country"]
    assert groups["birth_date"] == ["birth_date"]
    assert "home_address" in field_groups("employee")
    assert "stock_levels" not in field_groups("product")
    groups["address"].append("mutated")  # a copy: callers cannot corrupt the cache
    assert "mutated" not in field_groups("customer")["address"]
