"""Normalisers: a record's value → the string keys, blocks and comparisons use, or None.

None means there is nothing to compare: an empty value never matches anything.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from officehub.canonical_model import layout

# German-style transliteration first (Müller → mueller, as legacy systems without umlauts
# write it); NFKD then strips the remaining accents (é → e). casefold already maps ß → ss.
_TRANSLITERATION = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "æ": "ae", "œ": "oe", "ø": "o",
                                  "ł": "l", "đ": "d", "ð": "d", "þ": "th", "ı": "i"})
_NON_WORD = re.compile(r"[\W_]+")
_ID_NOISE = re.compile(r"[\s\-\u2010-\u2015]+")


def as_text(value: Any) -> str | None:
    """The value as trimmed text (a date in ISO form), or None when it is empty."""
    if value is None:
        return None
    if isinstance(value, datetime | date):
        return value.isoformat()
    text = str(value).strip()
    return text or None


@lru_cache(maxsize=1 << 16)
def _text(value: str) -> str | None:
    if value.isascii():  # most values: nothing to fold, transliterate or strip but case and punctuation
        return _NON_WORD.sub(" ", value.lower()).strip() or None
    folded = unicodedata.normalize("NFC", value).casefold().translate(_TRANSLITERATION)
    stripped = "".join(c for c in unicodedata.normalize("NFKD", folded) if not unicodedata.combining(c))
    return _NON_WORD.sub(" ", stripped).strip() or None


def normalise_text(value: Any) -> str | None:
    """Casefold, transliterate (ü → ue, ß → ss), strip accents, punctuation to single spaces."""
    if type(value) is str:  # the common case, straight to the cache
        return _text(value)
    text = as_text(value)
    return _text(text) if text is not None else None


def normalise_email(value: Any) -> str | None:
    """Trimmed and lower-cased."""
    text = as_text(value)
    return text.lower() if text is not None else None


def normalise_phone(value: Any) -> str | None:
    """Digits only, with a leading + kept (a leading 00 becomes +)."""
    text = as_text(value)
    if text is None:
        return None
    digits = "".join(c for c in text if c.isdigit())
    if text.startswith("+"):
        return "+" + digits if digits else None
    if digits.startswith("00") and len(digits) > 2:
        return "+" + digits[2:]
    return digits or None


def normalise_id(value: Any) -> str | None:
    """Upper-cased, without spaces or dashes."""
    text = as_text(value)
    return (_ID_NOISE.sub("", text.upper()) or None) if text is not None else None


def normalise_date(value: Any) -> str | None:
    """An ISO date (YYYY-MM-DD); a string that is not one is compared as given."""
    if type(value) is date:  # the common case: a golden record's date column
        return value.isoformat()
    if isinstance(value, datetime):
        return value.date().isoformat()
    text = as_text(value)
    if text is None:
        return None
    try:
        return date.fromisoformat(text[:10]).isoformat()
    except ValueError:
        return text


def normalise_none(value: Any) -> str | None:
    """The value as a string, unchanged."""
    return None if as_text(value) is None else str(value)


NORMALISERS: dict[str, Callable[[Any], str | None]] = {
    "email": normalise_email, "phone": normalise_phone, "text": normalise_text,
    "id": normalise_id, "date": normalise_date, "none": normalise_none,
}


def compact(value: Any) -> str | None:
    """:func:`normalise_text` without spaces: the form of a block's text column (SW1A 1AA = SW1A1AA)."""
    text = normalise_text(value)
    return text.replace(" ", "") if text else None


def natural(entity: str, column: str) -> Callable[[Any], str | None]:
    """The normaliser a column's type implies: dates as ISO dates, everything else as text."""
    base = layout(entity).field(column.replace("__", ".")).base_type
    return normalise_date if base in (date, datetime) else normalise_text


__all__ = [
    "NORMALISERS",
    "as_text",
    "compact",
    "natural",
    "normalise_date",
    "normalise_email",
    "normalise_id",
    "normalise_none",
    "normalise_phone",
    "normalise_text",
]
