"""Comparison levels: how alike two records' values of one field are, as one of a few named levels.

A probabilistic model (:mod:`officehub.identity.fellegi_sunter`) learns, per level, how often
true pairs and random pairs land there. Each kind of comparison has a fixed list of levels,
from the closest agreement to ``different``; a value missing on either side is no level
at all (``None``: it says nothing either way). Values are prepared once per record
(:meth:`Kind.prepare`) into their comparison form: romanised whatever the script, so
``Мітчелл`` and ``Mitchell`` meet; organisations without their legal form and quotes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any, Literal

from officehub.identity.normalise import as_text, normalise_date

KindName = Literal["name", "organisation", "date", "code", "text", "exact"]


@cache
def _distances() -> tuple[Any, Any, Any, Any]:
    """rapidfuzz's scorers, imported on first comparison (a hub that never compares never loads them)."""
    from rapidfuzz import fuzz
    from rapidfuzz.distance import OSA, JaroWinkler, Levenshtein

    return JaroWinkler.normalized_similarity, Levenshtein.distance, OSA.distance, fuzz.token_set_ratio


# -- comparison forms -----------------------------------------------------------------------
#: Comparison forms remembered per kind: the same names, dates, postcodes recur across candidates.
_FORMS = 1 << 18

@lru_cache(maxsize=_FORMS)
def _name_form(text: str) -> str | None:
    from officehub.identity.scripts import comparison_key

    return comparison_key(text) or None


@lru_cache(maxsize=_FORMS)
def _organisation_form(text: str) -> str | None:
    from officehub.identity.organisations import organisation_key

    return organisation_key(text) or None


@lru_cache(maxsize=_FORMS)
def _code_form(text: str) -> str | None:
    from officehub.identity.scripts import comparison_key

    return comparison_key(text).replace(" ", "") or None


@lru_cache(maxsize=_FORMS)
def _date_form(text: str) -> str | None:
    iso = normalise_date(text)
    digits = "".join(c for c in iso or "" if c.isdigit())
    return digits if len(digits) == 8 else None


@lru_cache(maxsize=_FORMS)
def _exact_form(text: str) -> str | None:
    return text.strip().casefold() or None


# -- levels ---------------------------------------------------------------------------------
@lru_cache(maxsize=1 << 18)
def _name_level(a: str, b: str) -> int:
    jaro_winkler, _, _, token_set = _distances()
    if a == b:
        return 0
    similarity = jaro_winkler(a, b)
    if similarity >= 0.92:
        return 1
    if token_set(a, b) == 100:  # the same tokens in another order, or one name inside the other
        return 2
    if similarity >= 0.80:
        return 3
    first_a, first_b = a.split(" ", 1)[0], b.split(" ", 1)[0]
    if (len(first_a) == 1 or len(first_b) == 1) and first_a[0] == first_b[0]:
        return 4  # an initial for the name it stands for
    return 5


@lru_cache(maxsize=1 << 18)
def _date_level(a: str, b: str) -> int:
    _, levenshtein, osa, _ = _distances()
    if a == b:
        return 0
    if a[:4] == b[:4] and a[4:6] == b[6:8] and a[6:8] == b[4:6]:
        return 1  # day and month swapped (03/04 read as 04/03)
    if osa(a, b) <= 1:
        return 2  # one digit mistyped, or two neighbours swapped (1912 / 1921)
    if a[4:] == b[4:] and abs(int(a[:4]) - int(b[:4])) == 1:
        return 3  # the year off by one
    if levenshtein(a, b) <= 2:
        return 4
    return 5


@lru_cache(maxsize=1 << 18)
def _code_level(a: str, b: str) -> int:
    if a == b:
        return 0
    distance = _distances()[2](a, b)
    return 1 if distance <= 1 else 2 if distance <= 2 else 3


@lru_cache(maxsize=1 << 18)
def _text_level(a: str, b: str) -> int:
    jaro_winkler, _, osa, token_set = _distances()
    if a == b:
        return 0
    distance = osa(a, b)
    if distance <= 1:
        return 1
    if distance <= 2:
        return 2
    if token_set(a, b) == 100:
        return 3
    if jaro_winkler(a, b) >= 0.88:
        return 4
    return 5


def _exact_level(a: str, b: str) -> int:
    return 0 if a == b else 1


@dataclass(frozen=True, slots=True)
class Kind:
    """A kind of comparison: its levels' labels (closest first), comparison form and level function."""

    name: str
    labels: tuple[str, ...]
    form: Callable[[str], str | None]
    level: Callable[[str, str], int]
    summary: str

    def prepare(self, values: Sequence[Any]) -> str | None:
        """The comparison form of a field's columns (joined by a space), or None when all are empty."""
        if len(values) == 1:
            return self.prepare_one(values[0])
        parts = [text for value in values if (text := as_text(value))]
        return self.form(" ".join(parts)) if parts else None

    def prepare_one(self, value: Any) -> str | None:
        """The comparison form of one value, or None when it is empty."""
        text = as_text(value)
        return self.form(text) if text else None

    def compare(self, a: str | None, b: str | None) -> int | None:
        """The level of two prepared values; None when either is missing."""
        if a is None or b is None:
            return None
        return self.level(a, b) if a <= b else self.level(b, a)  # one cache entry per unordered pair


_NAME_LABELS = ("exact", "jaro_winkler_0.92", "same_tokens", "jaro_winkler_0.80", "initial", "different")

KINDS: dict[str, Kind] = {kind.name: kind for kind in (
    Kind("name", _NAME_LABELS, _name_form, _name_level,
         "a person's name in any script: exact, Jaro-Winkler tiers, the same tokens reordered or one name "
         "inside the other, an initial"),
    Kind("organisation", _NAME_LABELS, _organisation_form, _name_level,
         "an organisation's name without its legal form and quotes (ТОВ «Фарм» = Farm LLC), then as a name"),
    Kind("date", ("exact", "day_month_swapped", "one_typo", "year_off_by_one", "two_typos", "different"),
         _date_form, _date_level,
         "a date: exact, day and month swapped, one digit wrong or two swapped, the year off by one, two edits"),
    Kind("code", ("exact", "one_typo", "two_typos", "different"), _code_form, _code_level,
         "a short code (postcode, house number): exact, one or two edits, spaces ignored"),
    Kind("text", ("exact", "one_typo", "two_typos", "same_tokens", "jaro_winkler_0.88", "different"),
         _name_form, _text_level,
         "free text such as a street or city: exact, one or two edits, the same words, Jaro-Winkler 0.88"),
    Kind("exact", ("exact", "different"), _exact_form, _exact_level,
         "equal or not, case ignored (e-mail addresses, phone numbers, codes from a list)"),
)}


__all__ = ["KINDS", "Kind", "KindName"]
