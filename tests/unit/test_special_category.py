"""Whether a new column looks like special-category data (officehub.engine.drift.special): names in English
and Ukrainian, transliterated, in any case and form, and sample content looked at in memory."""

from __future__ import annotations

import pytest

from officehub.engine.drift.special import by_content, by_name, classify

NAMES = {
    "medical": ["diagnosis", "Diagnosis Code", "ICD10", "icd_10_code", "sickLeaveDays", "sick_leave", "DISABILITY",
                "disability_group", "діагноз", "Діагноз", "лікарняний", "ЛІКАРНЯНИЙ_ЛИСТ", "інвалідність",
                "diagnoz", "likarnianyi", "likarnyaniy", "invalidnist", "МКХ-10", "medicalNotes"],
    "criminal": ["conviction", "convictions_count", "Offence", "criminalRecord", "criminal_record", "судимість",
                 "sudymist", "sudimist", "правопорушення", "pravoporushennia", "Правопорушення Дата"],
    "legal": ["lawsuit", "Litigation", "court_case", "CourtCase", "позов", "судова справа", "Судова_Справа",
              "sudova_sprava", "pozov", "SudovaSprava"],
}


@pytest.mark.parametrize(("cls", "name"), [(cls, name) for cls, names in NAMES.items() for name in names])
def test_names_of_each_class_are_recognised_in_english_and_ukrainian(cls: str, name: str):
    assert by_name(name) == cls


@pytest.mark.parametrize("name", ["id", "email", "Customer Name", "phone", "updated_at", "discount", "offset",
                                  "department", "prizvyshche", "адреса", "bicdata", "sprava_number"])
def test_ordinary_names_are_not_special(name: str):
    assert by_name(name) is None


def test_content_tells_a_column_with_an_innocent_name():
    assert by_content(["J45.0", "E11", "I10", None]) == "medical"
    assert by_content(["Діагноз: астма", "діагноз: гастрит", "ok"]) == "medical"
    assert by_content(["conviction for theft 2019", "none", "none"]) == "criminal"
    assert by_content(["позов до суду", "судова справа 12/3", "-"]) == "legal"
    assert by_content(["Koval", "Bondar", "Shevchuk"]) is None
    assert by_content([]) is None


def test_classify_says_whether_the_name_or_the_content_gave_it_away():
    assert classify("diagnosis", ["x"]) == ("medical", "name")
    assert classify("notes", ["J45.0", "I10"]) == ("medical", "content")
    assert classify("notes", ["fine"]) is None
