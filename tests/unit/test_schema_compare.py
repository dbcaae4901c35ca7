"""The comparison of two schemas of one stream (officehub.engine.drift.compare): pure, no store."""

from __future__ import annotations

from officehub.engine.drift.compare import Change, Column, compare, name_similarity, profile, profiles_alike

PHONES = ["+380 44 123 4567", "+380 67 765 4321", "+380 50 111 2233"]
CODES = ["AB-1234", "CD-5678", "EF-9012"]


def _cols(*spec: tuple[str, str]) -> list[Column]:
    return [Column(name, kind) for name, kind in spec]


def test_the_same_schema_has_no_changes_whatever_the_profiles():
    before = [Column("id", "int64", profile([1, 2])), Column("name", "string", profile(["Koval"]))]
    assert compare(before, _cols(("id", "int64"), ("name", "string"))) == []


def test_added_removed_and_retyped_columns_are_told_apart():
    before = _cols(("id", "int64"), ("qty", "int64"), ("fax", "string"))
    after = _cols(("id", "int64"), ("qty", "string"), ("iban", "int64"))
    assert compare(before, after) == [Change("retyped", "qty", {"type": "string", "old_type": "int64"}),
                                      Change("added", "iban", {"type": "int64"}),
                                      Change("removed", "fax", {"old_type": "string"})]


def test_a_rename_is_a_removed_and_an_added_column_of_one_type_with_alike_names():
    for old, new in [("E-Mail", "e_mail"), ("Email", "email "), ("dept", "department"), ("customerName", "customer_nm"),
                     ("прізвище", "prizvyshche"), ("Phone", "phone_number")]:
        [change] = compare(_cols(("id", "int64"), (old, "string")), _cols(("id", "int64"), (new, "string")))
        assert change == Change("renamed", new, {"old_name": old, "type": "string", "evidence": "name"}), (old, new)


def test_unalike_names_of_one_type_are_a_rename_only_when_their_values_are_alike():
    before = [Column("Code", "string", profile(CODES))]
    assert compare(before, [Column("Ref", "string", profile(["GH-3456", "IJ-7890"]))]) == [
        Change("renamed", "Ref", {"old_name": "Code", "type": "string", "evidence": "values"})]
    assert [c.kind for c in compare(before, [Column("Ref", "string", profile(PHONES))])] == ["added", "removed"]
    assert [c.kind for c in compare(before, [Column("Ref", "string")])] == ["added", "removed"]  # no values read


def test_a_new_type_is_never_a_rename_however_alike_the_names():
    assert [c.kind for c in compare(_cols(("amount", "int64")), _cols(("Amount", "string")))] == ["added", "removed"]


def test_each_removed_column_pairs_with_one_added_column_at_most_the_most_alike():
    before = _cols(("Phone", "string"))
    after = _cols(("phone", "string"), ("PHONE 2", "string"), ("Phone Number", "string"))
    changes = compare(before, after)
    assert changes[0] == Change("renamed", "phone", {"old_name": "Phone", "type": "string", "evidence": "name"})
    assert sorted(c.column for c in changes[1:]) == ["PHONE 2", "Phone Number"]
    assert {c.kind for c in changes[1:]} == {"added"}


def test_duplicated_looking_columns_are_compared_by_their_exact_names():
    before = _cols(("Client Name", "string"), ("client_name", "string"))
    after = _cols(("Client Name", "string"), ("client_name", "string"), ("CLIENT NAME", "string"))
    assert compare(before, after) == [Change("added", "CLIENT NAME", {"type": "string"})]


def test_a_profile_holds_lengths_and_character_shares_never_a_value():
    found = profile(["Діагноз J45.0", None, ""])
    assert found is not None and set(found) == {"length", "digit", "alpha", "space", "other"}
    assert "J45" not in str(found) and "Діагноз" not in str(found)
    assert profile([None, ""]) is None
    assert profiles_alike(profile(PHONES), profile(["+380 93 000 1122"]))
    assert not profiles_alike(profile(PHONES), profile(["Koval", "Bondar"]))


def test_name_similarity_folds_case_separators_and_script():
    assert name_similarity("Last Name", "last_name") == 100
    assert name_similarity("судимість", "sudymist") == 100
    assert name_similarity("id", "grade") < 80
