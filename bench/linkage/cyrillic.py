"""English names written in Ukrainian Cyrillic the way a Ukrainian clerk would write them.

This imitates practical transcription — how registry clerks and the press write a foreign name
from its spelling — not a reversible romanisation. It is deliberately independent of how the
matcher under test turns Cyrillic back into Latin, so the benchmark cannot grade its own homework.
"""

import re

# One rule a line, tried in this order at each position (the first that matches wins), so
# longer spellings and rules with a context come before the single letter they refine.
# `_START` and `_END` are word edges; a "word" is a run of Latin letters.
_V = "aeiouy"
_C = "b-df-hj-np-tv-xz"
_START = "(?<![a-z])"
_END = "(?![a-z])"
_RULES: tuple[tuple[str, str], ...] = (
    ("sch", "ш"),
    ("tch", "тч"),
    ("ch(?=[lr])", "к"),  # christopher, chloe: the Greek ch
    ("ch", "ч"),
    ("sh", "ш"),
    ("zh", "ж"),
    ("kh", "х"),
    ("th", "т"),
    ("ph", "ф"),
    ("wh", "в"),
    (f"{_START}gh", "г"),
    ("gh", ""),  # hugh, vaughan: silent inside a word
    ("c(?=[kq])", ""),  # ck, cq: one k sound
    ("qu", "кв"),
    ("ee", "і"),
    ("oo", "у"),
    ("ou", "у"),
    (f"ie{_END}", "і"),  # jessie, katie
    (f"ey{_END}", "і"),  # bradley, coffey
    (f"ia{_END}", "ія"),  # olivia, amelia
    (f"ay(?![{_V}])", "ей"),  # finlay; maya keeps its я
    (f"oy(?![{_V}])", "ой"),
    (f"(?<=[{_C}])ew", "ью"),  # matthew, but ewald keeps its е
    (f"(?<![{_C}])ya", "я"),  # not after a consonant: yasmin, maya
    (f"(?<![{_C}])yu", "ю"),
    (f"(?<![{_C}])ye", "є"),
    (f"(?<=[{_V}])y", "й"),
    ("y", "і"),
    (f"(?<=[aeiou])w(?![{_V}])", "у"),  # dawson; howard keeps its в
    ("w", "в"),
    (f"(?<=[aeiou])h(?![{_V}])", ""),  # john, sarah: h after a vowel is not heard
    ("h", "г"),  # harris → Гарріс: the Ukrainian norm for English h
    ("c(?=[eiy])", "с"),
    ("g(?=[eiy])", "дж"),
    ("j", "дж"),
    ("x", "кс"),
    (f"(?<=[{_V}][{_C}])e{_END}|(?<=[{_V}][{_C}]{{2}})e{_END}", ""),  # silent final e: jane, george
)
_LETTERS = dict(zip("abcdefgiklmnopqrstuvz", "абкдефгіклмнопкрстувз"))
_PATTERN = re.compile("|".join(f"({pattern})" for pattern, _ in _RULES) + "|([a-z])")


def _replace(match: re.Match[str]) -> str:
    rule = (match.lastindex or 0) - 1  # every alternative is one group, the rules' in order
    return _RULES[rule][1] if rule < len(_RULES) else _LETTERS[match.group()]


def to_ukrainian(name: str) -> str:
    """Write an English name (FEBRL-style, lower case) in Ukrainian Cyrillic, capitalised.

    Letters come from the spelling; spaces, hyphens and apostrophes stay as they are.

    >>> to_ukrainian("mitchell")
    'Мітчелл'
    >>> to_ukrainian("harris")
    'Гарріс'
    >>> to_ukrainian("joshua")
    'Джошуа'
    >>> to_ukrainian("thompson")
    'Томпсон'
    >>> to_ukrainian("maxon")
    'Максон'
    """
    return _PATTERN.sub(_replace, name.lower()).title()
