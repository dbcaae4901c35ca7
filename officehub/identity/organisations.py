"""The comparison form of an organisation's name: without its legal form, quotes or punctuation.

ТОВ «Фарм», Farm LLC, "FARM" GmbH and LLC "Farm" are one name, ``farm``, once the legal form
is taken off and the rest is folded by :func:`officehub.identity.scripts.comparison_key`.
:func:`legal_form_of` names the form, as a code of the model's ``legal_form`` enum.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from officehub.identity.scripts import CACHE_SIZE, comparison_key

# Each code of the model's legal_form enum with the ways registries and systems write it, in
# their own script. A spelling matches whole words, case, accents and punctuation aside, so
# "Sp. z o.o." is also "sp.z o.o." and "SP Z OO". Russian-language forms take the code of the
# Ukrainian form they correspond to (ООО is ТОВ); OTHER is a form without a code of its own.
_LEGAL_FORMS: dict[str, tuple[str, ...]] = {
    "TOV": ("ТОВ", "ТзОВ", "товариство з обмеженою відповідальністю", "ООО",
            "общество с ограниченной ответственностью", "TOV", "TzOV", "OOO"),
    "FOP": ("ФОП", "ФО-П", "СПД", "СПД ФО", "СПД ФОП", "фізична особа-підприємець",
            "суб'єкт підприємницької діяльності", "ИП", "индивидуальный предприниматель", "FOP",
            "private entrepreneur", "individual entrepreneur", "sole proprietor"),
    "PP": ("ПП", "приватне підприємство", "ЧП", "частное предприятие", "private enterprise"),
    "AT": ("АТ", "ПАТ", "ПрАТ", "ВАТ", "ЗАТ", "акціонерне товариство", "публічне акціонерне товариство",
           "приватне акціонерне товариство", "відкрите акціонерне товариство", "закрите акціонерне товариство",
           "АО", "ОАО", "ЗАО", "ПАО", "акционерное общество", "открытое акционерное общество",
           "закрытое акционерное общество", "публичное акционерное общество", "PrAT", "OAO", "ZAO",
           "JSC", "PJSC", "PrJSC", "OJSC", "CJSC", "joint stock company", "public joint stock company",
           "private joint stock company"),
    "DP": ("ДП", "дочірнє підприємство", "державне підприємство", "state enterprise", "subsidiary enterprise"),
    "LLC": ("LLC", "L.L.C.", "limited liability company"),
    "INC": ("Inc", "Incorporated", "Corp", "Corporation"),
    "LTD": ("Ltd", "Limited", "Pty Ltd", "Pvt Ltd", "private limited company"),
    "PLC": ("PLC", "public limited company"),
    "GMBH": ("GmbH", "gGmbH", "Ges.m.b.H.", "mbH", "Gesellschaft mit beschränkter Haftung",
             "Gesellschaft mit beschraenkter Haftung"),
    "AG": ("AG", "Aktiengesellschaft"),
    "SP_ZOO": ("Sp. z o.o.", "spółka z ograniczoną odpowiedzialnością"),
    "SA": ("S.A.", "SA", "société anonyme", "sociedad anónima", "spółka akcyjna"),
    "SARL": ("SARL", "S.à r.l.", "S.a.r.l.", "société à responsabilité limitée"),
    "BV": ("BV", "B.V.", "besloten vennootschap"),
    "OTHER": ("Co", "Company", "KG", "GmbH & Co. KG", "AG & Co. KG", "OHG", "e.K.", "UG", "UG (haftungsbeschränkt)",
              "SAS", "NV", "N.V.", "S.p.A.", "S.r.l.", "Oy", "Oyj", "AB", "AS", "A/S", "ApS", "OÜ", "SE", "LLP", "LP",
              "КП", "комунальне підприємство", "ТДВ", "товариство з додатковою відповідальністю"),
}
# Spellings that are also ordinary words or initials (Co-op, AS Roma, S. A. Smith) are a legal
# form only at the end of a name; every other form is one wherever it stands (ТОВ «Фарм»,
# LLC "Farm", Farm LLC (Kyiv)).
_ONLY_LAST = frozenset({
    "co", "company", "limited", "corporation", "incorporated", "ag", "as", "a s", "ab", "oy", "sa", "s a",
    "bv", "b v", "nv", "n v", "kg", "ug", "se", "lp", "e k", "sas", "aps",
})

# A word is letters and digits with the apostrophes inside it (Мар'яна, McDonald's); quotes,
# brackets and other punctuation separate words and are dropped.
_WORD = re.compile(r"[^\W_]+(?:['`´ʹʼ‘’′][^\W_]+)*")


def _plain(word: str) -> str:
    """A word as legal forms are matched: casefolded, without accents or apostrophes."""
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    return "".join(c for c in decomposed if c.isalnum())


def _spelling(text: str) -> tuple[str, ...]:
    return tuple(_plain(word) for word in _WORD.findall(text))


#: Each spelling as plain words → (code, whether it is a form wherever it stands).
_SPELLINGS: dict[tuple[str, ...], tuple[str, bool]] = {
    words: (code, " ".join(words) not in _ONLY_LAST)
    for code, spellings in _LEGAL_FORMS.items() for words in map(_spelling, spellings)
}
_LONGEST = max(map(len, _SPELLINGS))


def _leading_form(words: list[str]) -> tuple[int, str] | None:
    """(length, code) of the longest form wherever it stands that ``words`` begin with."""
    for n in range(min(_LONGEST, len(words)), 0, -1):
        found = _SPELLINGS.get(tuple(words[:n]))
        if found is not None and found[1]:
            return n, found[0]
    return None


def _trailing_form(words: list[str]) -> tuple[int, str] | None:
    """(length, code) of the longest form ``words`` end with, leaving at least one word before it."""
    for n in range(min(_LONGEST, len(words) - 1), 0, -1):
        if (found := _SPELLINGS.get(tuple(words[-n:]))) is not None:
            return n, found[0]
    return None


@lru_cache(maxsize=CACHE_SIZE)
def _parse(name: str) -> tuple[str, str | None]:
    """(comparison key, code of the first legal form in the name) of an organisation's name."""
    words = _WORD.findall(name)
    plain = [_plain(word) for word in words]
    kept: list[int] = []  # positions of the name's own words
    forms: list[tuple[int, str]] = []  # (position, code) of each form taken off
    i = 0
    while i < len(words):
        if (found := _leading_form(plain[i:])) is not None:
            forms.append((i, found[1]))
            i += found[0]
        else:
            kept.append(i)
            i += 1
    # Then forms that are also words, from the end (Cobalt Co, Farm GmbH & Co. KG).
    while (found := _trailing_form([plain[k] for k in kept])) is not None:
        forms.append((kept[-found[0]], found[1]))
        del kept[-found[0]:]
    if not kept or (forms and tuple(plain[k] for k in kept) in _SPELLINGS):
        kept = list(range(len(words)))  # nothing but legal forms (LLC, Co LLC): the name keeps them
    return comparison_key(" ".join(words[k] for k in kept)), min(forms)[1] if forms else None


def organisation_key(name: str) -> str:
    """The organisation's name in comparison form: legal forms, quotes and punctuation taken off.

    A name that is nothing but a legal form keeps it.

    >>> organisation_key("ТОВ «Фарм»") == organisation_key("Farm LLC") == organisation_key('"FARM" GmbH')
    True
    >>> organisation_key("Cobalt Co") == organisation_key("Cobalt")
    True
    """
    return _parse(name)[0]


def legal_form_of(name: str) -> str | None:
    """The code (TOV, LLC, GMBH, …, OTHER) of the name's first legal form, or None without one.

    >>> legal_form_of("ПрАТ «Київстар»")
    'AT'
    """
    return _parse(name)[1]


__all__ = ["legal_form_of", "organisation_key"]
