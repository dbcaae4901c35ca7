"""The comparison form of a name in any script: Мітчелл and Mitchell, Олександр and Aleksandr meet.

:func:`romanise` writes a name in lower-case ASCII Latin: Cyrillic by Ukraine's national
romanisation (Cabinet of Ministers resolution No. 55 of 2010), every other script through
``anyascii``. :func:`comparison_key` then folds the spellings that differ only between scripts
and transliteration systems (дж/j, х/kh/h, y/i, w/v, doubled letters…), the same way on both
sides of a comparison, so a similarity over two keys stays symmetric. Both are pure and cached.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from anyascii import anyascii

# -- romanisation -------------------------------------------------------------------------------

# Resolution No. 55 of 2010, the letters without a word-initial form. Russian-only letters follow
# the common conventions: ё is written е in most Russian text, so both give e (Фёдоров = Федоров);
# ъ is a separator, dropped like the Ukrainian apostrophe.
_CYRILLIC = str.maketrans({
    "а": "a", "б": "b", "в": "v", "г": "h", "ґ": "g", "д": "d", "е": "e", "є": "ie", "ж": "zh",
    "з": "z", "и": "y", "і": "i", "ї": "i", "й": "i", "к": "k", "л": "l", "м": "m", "н": "n",
    "о": "o", "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts",
    "ч": "ch", "ш": "sh", "щ": "shch", "ь": "", "ю": "iu", "я": "ia",
    "ы": "y", "э": "e", "ъ": "", "ё": "e",
    # German-style, as systems without umlauts write them (Müller = Mueller); anyascii would
    # write u. Other accents go through anyascii (é → e, ø → o, ł → l). casefold made ß ss.
    "ä": "ae", "ö": "oe", "ü": "ue",
})
# The resolution's two rules with a context: є ї й ю я begin a word as ye yi y yu ya, and зг is
# zgh so that it is not read as ж (Згорани → Zghorany).
_INITIAL = {"є": "ye", "ї": "yi", "й": "y", "ю": "yu", "я": "ya", "зг": "zgh"}
_CONTEXTUAL = re.compile(r"зг|(?<![^\W\d_])[єїйюя]")
# An apostrophe inside a word is part of the word (Мар'яна, L'viv, O'Brien): dropped, as the
# resolution drops the Ukrainian one, rather than splitting the word in two.
_APOSTROPHE = re.compile(r"(?<=[^\W\d_])['`´ʹʼ‘’′](?=[^\W\d_])")
_NON_ALNUM = re.compile(r"[^a-z0-9]+")

#: Names remembered by each function; a few hundred bytes each.
CACHE_SIZE = 1 << 16


@lru_cache(maxsize=CACHE_SIZE)
def romanise(text: str) -> str:
    """``text`` in Latin: lower-case ASCII letters and digits, words separated by one space.

    >>> romanise("Ганна Їжакевич-Ющенко")
    'hanna yizhakevych yushchenko'
    >>> romanise("Müller, Ελένη")
    'mueller eleni'
    """
    folded = _APOSTROPHE.sub("", unicodedata.normalize("NFC", text).casefold())
    if not folded.isascii():
        folded = _CONTEXTUAL.sub(lambda m: _INITIAL[m.group()], folded).translate(_CYRILLIC)
        folded = anyascii(folded).lower()
    return _NON_ALNUM.sub(" ", folded).strip()


# -- folding ------------------------------------------------------------------------------------

# Each rule: a spelling, what it folds to, and why. At each position of a romanised name the
# first rule that matches wins, so a longer spelling comes before the letters it contains. Every
# rule shortens the name or trades one of c g q w y for a letter outside that set (the g that zgh
# keeps is one the g rule skips), so applying them again until none matches ends, and what it
# ends with is idempotent. No rule reaches past a word, so words are folded (and cached) alone.
_FOLDS: tuple[tuple[str, str], ...] = (
    ("dzh", "j"),  # дж is how Cyrillic writes English j and soft g: Джошуа = Joshua
    ("zgh", "zg"),  # the table's zgh (зг) is the older zg: Zghurskyi = Zgurskyi, not Zhurskyi
    ("kh", "h"),  # х is kh in the national table, h in older spellings: Kharkiv = Harkiv
    # г is h in the national table, g in Russian-style and older spellings (Oleh = Oleg, Halyna =
    # Galina), and Cyrillic writes both English g and h with it (Грейс = Grace, Гарріс = Harris).
    # The price: a few English names become one (Gary = Harry, Gill = Hill).
    ("(?<!z)g", "h"),
    ("tsch", "ch"), ("sch", "sh"),  # German spellings of ч and ш: Schewtschenko = Shevchenko
    ("cz", "ch"), ("sz", "sh"),  # Polish spellings of ч and ш: Krawczuk = Kravchuk
    ("chr", "kr"),  # the Greek ch of English: Christopher = Крістофер; any other ch is ч and stays
    ("ph", "f"),  # ф for English ph: Фібі = Phoebe
    ("th", "t"),  # т for English th: Томпсон = Thompson
    ("wh", "v"), ("w", "v"),  # в for English w and wh, German and Polish w: Вільям = William
    ("qu", "kv"),  # кв for English qu: Квінн = Quinn
    ("ck", "k"), ("c(?=[eiy])", "s"), ("c(?!h)", "k"),  # English c as Cyrillic hears it: Люсі = Lucy, Коннор = Connor
    ("ks", "x"),  # кс for x: Максон = Maxon, Olexandr = Oleksandr
    (r"\b[iy]e", "e"),  # word-initial є is ye (national) or e (Russian-style): Yevhen = Evgen
    ("(?<=[a-z])[iy]u", "u"),  # ю inside a word is u in Russian-style and English: Liudmyla = Ludmila, Люсі = Lucy
    ("y", "i"),  # и, і, й and the initial є ї ю я are y or i by system: Serhiy = Serhii, Kelly = Келлі
)
_FOLD = re.compile("|".join(f"({pattern})" for pattern, _ in _FOLDS))
_DOUBLED = re.compile(r"([a-z])\1+")  # Гарріс is Harris, Келлі Kelly: doubled letters are one


def _fold_once(match: re.Match[str]) -> str:
    return _FOLDS[(match.lastindex or 1) - 1][1]


@lru_cache(maxsize=CACHE_SIZE)
def _fold(word: str) -> str:
    """One romanised word with the rules above applied until none matches."""
    while _DOUBLED.search(word) or _FOLD.search(word):  # a fold can make a new spelling (c-ks → x)
        word = _FOLD.sub(_fold_once, _DOUBLED.sub(r"\1", word))
    return word


@lru_cache(maxsize=CACHE_SIZE)
def comparison_key(text: str) -> str:
    """:func:`romanise`, with the spellings that differ between scripts and systems folded.

    Applied to both sides of a comparison; idempotent.

    >>> comparison_key("Джошуа Гарріс") == comparison_key("Joshua Harris")
    True
    """
    return " ".join(map(_fold, romanise(text).split()))


__all__ = ["comparison_key", "romanise"]
