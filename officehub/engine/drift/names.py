"""Column names folded for comparison: case, separators, camelCase and Cyrillic transliterations."""

from __future__ import annotations

import re

from anyascii import anyascii

_SEPARATORS = re.compile(r"[^0-9a-z]+")
#: Two romanisations of Ukrainian meet here (national "sudymist", "likarnianyi"; anyascii
#: "sudimist'", "likarnyaniy"), and English "y" folds the same way, so one stem list fits all.
_FOLDS = (("kh", "h"), ("ya", "a"), ("ia", "a"), ("yu", "u"), ("iu", "u"), ("y", "i"), ("'", ""))


def _uncamel(text: str) -> str:
    """``sickLeave`` → ``sick Leave``, ``ICDCode`` → ``ICD Code``, in any script (before transliteration,
    which would make ``Я`` the two letters ``Ya``)."""
    out = []
    for i, ch in enumerate(text):
        prev, nxt = text[i - 1] if i else "", text[i + 1] if i + 1 < len(text) else ""
        if ch.isupper() and ((prev.islower() or prev.isdigit()) or (prev.isupper() and nxt.islower())):
            out.append(" ")
        out.append(ch)
    return "".join(out)


def words(text: str) -> list[str]:
    """The words of a column name or a short text, in lower-case ASCII (``sickLeave`` → sick, leave)."""
    return [w for w in _SEPARATORS.split(anyascii(_uncamel(text).lower())) if w]


def folded(text: str) -> str:
    """``text`` as folded words joined by single spaces, the form stems are matched against."""
    joined = " ".join(words(text.replace("'", "")))
    for before, after in _FOLDS:
        joined = joined.replace(before, after)
    return joined


def key(name: str) -> str:
    """A column name with case, spaces and separators gone: ``E-Mail`` and ``e_mail`` share one."""
    return folded(name).replace(" ", "")
