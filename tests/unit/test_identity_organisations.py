"""Organisation names without their legal form: ТОВ «Фарм», Farm LLC and "FARM" GmbH are one name."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from officehub.canonical_model import layout
from officehub.identity.organisations import legal_form_of, organisation_key
from officehub.identity.scripts import comparison_key

FARM = [
    ("ТОВ «Фарм»", "TOV"), ("ТзОВ \"Фарм\"", "TOV"), ("Фарм, ТОВ", "TOV"), ("ООО «Фарм»", "TOV"),
    ("ТОВАРИСТВО З ОБМЕЖЕНОЮ ВІДПОВІДАЛЬНІСТЮ „ФАРМ“", "TOV"), ("TOV \"Farm\"", "TOV"),
    ("ПрАТ «Фарм»", "AT"), ("ПАТ “Фарм”", "AT"), ("АТ 'Фарм'", "AT"), ("PJSC Farm", "AT"),
    ("приватне акціонерне товариство «Фарм»", "AT"), ("ПП «Фарм»", "PP"), ("ДП «Фарм»", "DP"),
    ("ФОП Фарм", "FOP"), ("фізична особа-підприємець Фарм", "FOP"),
    ("Farm LLC", "LLC"), ("Farm L.L.C.", "LLC"), ("LLC \"Farm\"", "LLC"), ("Farm limited liability company", "LLC"),
    ("Farm, Inc.", "INC"), ("Farm Corporation", "INC"), ("Farm Ltd.", "LTD"), ("Farm Limited", "LTD"),
    ("Farm Pty Ltd", "LTD"), ("Farm PLC", "PLC"), ("\"FARM\" GmbH", "GMBH"),
    ("Farm Gesellschaft mit beschränkter Haftung", "GMBH"), ("Farm AG", "AG"), ("Farm Sp. z o.o.", "SP_ZOO"),
    ("FARM SP. Z O.O.", "SP_ZOO"), ("Farm S.A.", "SA"), ("Farm SA", "SA"), ("Farm SARL", "SARL"),
    ("Farm S.à r.l.", "SARL"), ("Farm B.V.", "BV"), ("Farm BV", "BV"),
    ("Farm GmbH & Co. KG", "OTHER"), ("Farm KG", "OTHER"), ("Farm OHG", "OTHER"), ("Farm e.K.", "OTHER"),
    ("Farm UG (haftungsbeschränkt)", "OTHER"), ("Farm SAS", "OTHER"), ("Farm N.V.", "OTHER"), ("Farm S.p.A.", "OTHER"),
    ("Farm S.r.l.", "OTHER"), ("Farm Oy", "OTHER"), ("Farm AB", "OTHER"), ("Farm AS", "OTHER"), ("Farm ApS", "OTHER"),
    ("Farm OÜ", "OTHER"), ("Farm & Co.", "OTHER"), ("КП «Фарм»", "OTHER"),
]


@pytest.mark.parametrize(("name", "form"), FARM)
def test_one_company_under_every_legal_form_has_one_key(name: str, form: str) -> None:
    assert organisation_key(name) == comparison_key("Farm")
    assert legal_form_of(name) == form


def test_every_code_of_the_models_enum_is_recognised() -> None:
    assert {form for _, form in FARM} == set(layout("customer").field("organisation.legal_form").allowed_values)


def test_different_companies_keep_different_keys() -> None:
    names = ["ТОВ «Фарм»", "ТОВ «Фарма»", "Agro LLC", "ТОВ «Агро Фарм»", "Pharmacia AG", "Фармак АТ", "Cobalt Co"]
    assert len({organisation_key(name) for name in names}) == len(names)


def test_a_form_inside_a_word_is_not_a_form() -> None:
    assert organisation_key("Cobalt Co") == organisation_key("Cobalt") == comparison_key("Cobalt")
    assert organisation_key("Sagent Inc") == comparison_key("Sagent")
    assert legal_form_of("Cobalt") is None and legal_form_of("Tovary Plus") is None


@pytest.mark.parametrize("name", ["Co-op Bank", "AS Roma", "S. A. Smith", "Limited Editions"])
def test_a_form_that_is_also_a_word_counts_only_at_the_end(name: str) -> None:
    assert organisation_key(name) == comparison_key(name)
    assert legal_form_of(name) is None


@pytest.mark.parametrize(("name", "form"),
                         [("LLC", "LLC"), ("ТОВ", "TOV"), ("GmbH & Co. KG", "OTHER"), ("Co LLC", "LLC")])
def test_a_name_that_is_only_a_legal_form_keeps_it(name: str, form: str) -> None:
    assert organisation_key(name) == comparison_key(name) != ""
    assert legal_form_of(name) == form


def test_forms_anywhere_and_at_both_ends_go() -> None:
    assert organisation_key("Farm LLC (Kyiv)") == comparison_key("Farm Kyiv")
    assert organisation_key("Філія ТОВ «Фарм»") == comparison_key("Філія Фарм")
    assert organisation_key("ТОВ «Фарм» LLC") == comparison_key("Farm")
    assert legal_form_of("ТОВ «Фарм» LLC") == "TOV"  # the first in the name


def test_a_sole_traders_name_is_the_persons() -> None:
    assert organisation_key("ФОП Іваненко Іван Іванович") == comparison_key("Ivanenko Ivan Ivanovych")


def test_no_form_no_code_and_empty_stays_empty() -> None:
    assert legal_form_of("Фарм") is None
    assert organisation_key("") == organisation_key("«»") == ""


@settings(max_examples=300)
@given(st.lists(st.sampled_from(["ТОВ", "«Фарм»", "LLC", "Co", "GmbH", "&", "Sp. z o.o.", "Cobalt", "S.A.", "Агро"]),
                min_size=1, max_size=6))
def test_a_name_with_words_never_has_an_empty_key(words: list[str]) -> None:
    name = " ".join(words)
    key = organisation_key(name)
    assert re.fullmatch(r"[a-z0-9]+(?: [a-z0-9]+)*" if set(words) != {"&"} else "", key)
