"""Column names folded for comparison: case, separators, camelCase and Cyrillic transliterations."""

from __future__ import annotations

import re

from anyascii import anyascii

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_SEPARATORS = re.compile(r"[^0-9a-z]+")
#: Two romanisations of Ukrainian meet here (national "sudymist", "likarnianyi"; anyascii
#: "sudimist'", "likarnyaniy"), and English "y" folds the same way, so one stem list fits all.
_FOLDS = (("kh", "h"), ("ya", "a"), ("ia", "a"), ("yu", "u"), ("iu", "u"), ("y", "i"), ("'", ""))


def words(text: str) -> list[str]:
    """The words of a column name or a short text, in lower-case ASCII (``sickLeave`` → sick, leave)."""
    spaced = _CAMEL.sub(" ", anyascii(text))
    return [w for w in _SEPARATORS.split(spaced.lower()) if w]


def folded(text: str) -> str:
    """``text`` as folded words joined by single spaces, the form stems are matched against."""
    joined = " ".join(words(text.replace("'", "")))
    for before, after in _FOLDS:
        joined = joined.replace(before, after)
    return joined


def key(name: str) -> str:
    """A column name with case, spaces and separators gone: ``E-Mail`` and ``e_mail`` share one."""
    return folded(name).replace(" ", "")
