"""Entities declared in YAML become models the layout, the checks and the store read like built-ins."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from officehub.canonical_model import ENTITIES
from officehub.canonical_model.builtin import builtin_files
from officehub.canonical_model.declaration import ModelFile
from officehub.canonical_model.declared import DeclarationError, EnumLabels, build_entities, merge
from officehub.canonical_model.layout import LeafField, layout_of


def _leaf(leaf: LeafField) -> list[Any]:
    constraints = sorted(repr(c) for c in leaf.constraints
                         if not callable(getattr(c, "func", None)) and not isinstance(c, EnumLabels))
    validators = sorted(c.func.__name__ for c in leaf.constraints if callable(getattr(c, "func", None)))
    return [leaf.path, leaf.sensitivity and leaf.sensitivity.value, leaf.required, str(leaf.arrow_type),
            leaf.required_within, leaf.free_text, list(leaf.allowed_values) if leaf.allowed_values else None,
            constraints, validators]


def _groups(groups: tuple[Any, ...]) -> list[Any]:
    return [[g.path, [f.path for f in g.fields]] for g in groups]


def _shape(model: type) -> dict[str, Any]:
    lay = layout_of(model)
    return {"fields": [_leaf(f) for f in lay.fields], "groups": _groups(lay.groups),
            "collections": [[c.name, c.sensitivity and c.sensitivity.value, [_leaf(f) for f in c.fields],
                             _groups(c.groups)] for c in lay.collections]}


#: What a built-in may change and still fit a hub store made before: its own optionality
#: (a customer's name became one of two alternatives: a person's name or an organisation;
#: a person's name needs a first or a last name, not both).
_LOOSENED = {("customer", "name.last"), ("employee", "name.last")}


@pytest.mark.parametrize("entity", sorted(ENTITIES))
def test_the_built_ins_only_grow_by_optional_fields_beside_the_layout_stores_were_made_with(entity: str) -> None:
    # The snapshot was taken from the entities as they were first written (in Python): every
    # column is still there with its type, class and constraints, so existing stores still fit,
    # and `store upgrade` adds the new ones, which no existing record has to fill.
    snapshot = json.loads((Path(__file__).parent / "data" / "builtin_layout.json").read_text(encoding="utf-8"))
    before, now = snapshot[entity], _shape(ENTITIES[entity])
    now_by_path = {leaf[0]: leaf for leaf in now["fields"]}
    for leaf in before["fields"]:
        kept = now_by_path[leaf[0]]
        if (entity, leaf[0]) in _LOOSENED:
            assert leaf[2] and not kept[2]
            kept = [*kept[:2], leaf[2], kept[3], None, *kept[5:]]
        # Validators (the last item) may grow stricter without touching a table: an IBAN is now
        # checked for its country's length and format (schwifty), a country against ISO 3166 (pycountry).
        assert kept[:-1] == leaf[:-1] and bool(kept[-1]) == bool(leaf[-1])
    assert not any(leaf[2] for path, leaf in now_by_path.items() if path not in {f[0] for f in before["fields"]})
    assert now["collections"][:len(before["collections"])] == before["collections"]


def _model(text: dict[str, Any]) -> dict[str, type]:
    return build_entities(merge([*builtin_files(), ModelFile.model_validate(text)]))


SUPPLIER = {"entities": {"supplier": {"fields": {
    "legal_name": {"type": "string", "class": "public", "required": True, "max_length": 200},
    "legal_form": {"type": "enum", "class": "public", "values": {"TOV": "ТОВ", "FOP": "ФОП", "LLC": "LLC"}},
    "registration_number": {"type": "string", "class": "public", "validator": "ua.edrpou"},
}}}, "extend": {"employee": {"fields": {
    "personal_tax_code": {"type": "string", "class": "financial", "validator": "ua.rntrc"},
    "nickname": {"type": "string", "class": "personal", "max_length": 100},
}}}}


def test_a_declared_entity_validates_its_identifiers_and_compacts_them() -> None:
    supplier = _model(SUPPLIER)["supplier"]
    record = supplier.model_validate({"legal_name": "Фарм", "legal_form": "TOV", "registration_number": "32855961"})
    assert record.registration_number == "32855961"
    with pytest.raises(ValidationError) as bad:
        supplier.model_validate({"legal_name": "Фарм", "registration_number": "32855962"})
    assert "not a valid ua.edrpou" in str(bad.value) and "32855962" not in bad.value.errors()[0]["msg"]


def test_an_extension_adds_classified_fields_to_a_built_in() -> None:
    employee = layout_of(_model(SUPPLIER)["employee"])
    assert employee.field("personal_tax_code").sensitivity.value == "financial"
    assert employee.field("nickname").sensitivity.value == "personal"
    assert employee.field("name.last").sensitivity.value == "personal"  # the built-in part is untouched


def test_declared_constraints_are_listed_as_rules() -> None:
    supplier = layout_of(_model(SUPPLIER)["supplier"])
    assert supplier.field("registration_number").rules == ["valid ua.edrpou (python-stdnum)"]
    assert supplier.field("legal_form").rules == ["one of TOV (ТОВ), FOP (ФОП), LLC"]
    assert supplier.field("legal_name").rules == ["at most 200 character(s)"]


@pytest.mark.parametrize(("declaration", "message"), [
    ({"entities": {"x": {"fields": {"a": {"type": "string"}}}}}, "x.a: a sensitivity class ('class') is required"),
    ({"entities": {"x": {"fields": {"a": {"type": "reference", "entity": "nope", "class": "internal"}}}}},
     "refers to entity 'nope'"),
    ({"extend": {"nope": {"fields": {"a": {"type": "string", "class": "internal"}}}}}, "not declared"),
    ({"extend": {"customer": {"fields": {"notes": {"type": "string", "class": "internal"}}}}},
     "customer.notes: the entity already has this field"),
    ({"entities": {"customer": {"fields": {"a": {"type": "string", "class": "internal"}}}}}, "declared twice"),
    ({"entities": {"x": {"fields": {"a": {"type": "string", "class": "public", "validator": "xx.nothing"}}}}},
     "unknown identifier validator 'xx.nothing'"),
    ({"entities": {"x": {"fields": {"n": {"type": "string", "class": "public",
                                          "validator": {"country": "c", "formats": {"UA": "ua.edrpou"}}},
                                    "c": {"type": "string", "class": "public"}}}}},
     "x.n: validator.country must name a field of type country beside it, not 'c'"),
    ({"entities": {"x": {"fields": {"g": {"type": "group", "class": "public", "fields": {
        "n": {"type": "string", "validator": {"country": "c", "formats": {"UA": "ua.nothing"}}},
        "c": {"type": "country"}}}}}}},
     "unknown identifier validator 'ua.nothing'"),
])
def test_a_bad_declaration_names_the_field(declaration: dict[str, Any], message: str) -> None:
    with pytest.raises(DeclarationError) as bad:
        _model(declaration)
    assert message in str(bad.value)


@pytest.mark.parametrize(("field", "message"), [
    ({"type": "strnig", "class": "public"}, "type"),
    ({"type": "integer", "class": "public", "max_length": 3}, "max_length does not apply to a field of type integer"),
    ({"type": "string", "class": "public", "min_length": 5, "max_length": 3}, "min_length is greater"),
    ({"type": "string", "class": "secret"}, "class"),
    ({"type": "enum", "class": "public"}, "an enum needs its values"),
    ({"type": "string", "class": "public", "pattern": "("}, "pattern does not compile"),
])
def test_a_field_that_contradicts_its_type_is_refused(field: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError) as bad:
        ModelFile.model_validate({"entities": {"x": {"fields": {"a": field}}}})
    assert message in str(bad.value)


@pytest.mark.parametrize(("entity", "message"), [
    ({"required_one_of": ["a", "nope"], "fields": {"a": {"type": "string", "class": "public"}}},
     "required_one_of names nope, which the entity does not have"),
    ({"required_one_of": ["a"], "fields": {"a": {"type": "string", "class": "public"}}}, "two fields or more"),
    ({"fields": {"n": {"type": "string", "class": "public",
                       "validator": {"country": "c", "formats": {"ua": "ua.edrpou"}}}}}, "pattern"),
])
def test_a_bad_entity_rule_is_refused(entity: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        ModelFile.model_validate({"entities": {"x": entity}})


def test_a_record_of_an_entity_with_alternatives_needs_one_of_them() -> None:
    customer = ENTITIES["customer"]
    assert customer.model_validate({"organisation": {"legal_name": "Фарм"}}).organisation.legal_name == "Фарм"
    with pytest.raises(ValidationError, match="needs name or organisation"):
        customer.model_validate({"customer_number": "C1"})
    # The JSON schema says it the standard way, for forms and API clients.
    assert customer.model_json_schema()["anyOf"] == [{"required": ["name"]}, {"required": ["organisation"]}]


def test_names_that_cannot_be_columns_are_refused() -> None:
    for name in ("Name", "a__b", "1st", "trailing_"):
        with pytest.raises(ValidationError):
            ModelFile.model_validate({"entities": {"x": {"fields": {name: {"type": "string", "class": "public"}}}}})


def test_a_field_named_like_a_store_column_is_refused_and_the_reserved_names_cover_the_store() -> None:
    from officehub.canonical_model.declaration import RESERVED_FIELD_NAMES
    from officehub.store.schema import hub_metadata

    with pytest.raises(ValidationError, match="keeps for itself"):
        ModelFile.model_validate({"extend": {"customer": {"fields": {"status": {"type": "string", "class": "public"}}}}})
    # Every column of an entity's tables that is not a field is one a declared field must not take.
    field_columns = {leaf.column for decl in ENTITIES for leaf in _all_leaves(decl)}
    store_columns = {column.name for name, table in hub_metadata().tables.items()
                     if name.split("__")[0] in ENTITIES for column in table.columns}
    assert store_columns - field_columns <= RESERVED_FIELD_NAMES


def _all_leaves(entity: str) -> list[LeafField]:
    from officehub.canonical_model import layout
    lay = layout(entity)
    return [*lay.fields, *(leaf for coll in lay.collections for leaf in coll.fields)]
