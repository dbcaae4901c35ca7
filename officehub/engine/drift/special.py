"""Whether a new column looks like special-category data: medical, criminal or legal.

Judged by the column's name and, in memory only, by a sample of its values; what comes out
is a class name, never a value. Names are matched in English and Ukrainian (Cyrillic and
both common romanisations), in any case and in snake, camel or spaced form.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from officehub.engine.drift.names import folded, key

MEDICAL, CRIMINAL, LEGAL = "medical", "criminal", "legal"

#: Word stems per class, written plainly; folded once (see :func:`officehub.engine.drift.names.folded`).
_STEMS: dict[str, tuple[str, ...]] = {
    MEDICAL: ("diagnos", "diagnoz", "icd", "mkh", "mkb", "sick leave", "sick note", "sickness", "illness",
              "disabilit", "disabled", "medical", "health", "clinical", "patient", "treatment", "prescription",
              "діагноз", "мкх", "мкб", "лікарнян", "інвалідн", "хвороб", "медичн", "здоров", "лікуванн", "захворюванн",
              "diahnoz", "likarnian", "invalidn", "hvorob", "medichn", "zdorov", "likuvann", "zahvoruvann"),
    CRIMINAL: ("conviction", "convicted", "offence", "offense", "criminal", "crime", "felon", "sentence",
               "arrest", "судиміст", "правопорушенн", "злочин", "кримінальн", "вирок",
               "sudimist", "sudymist", "pravoporushenn", "zlochin", "kriminaln", "virok"),
    LEGAL: ("lawsuit", "litigation", "court case", "court", "legal case", "legal hold", "claimant", "plaintiff",
            "defendant", "позов", "судова справа", "судов", "позивач", "відповідач", "справа в суді",
            "pozov", "sudova sprava", "sudov", "poziva"),
}
_FOLDED = {cls: tuple(sorted({folded(s) for s in stems})) for cls, stems in _STEMS.items()}
#: ICD-10 codes (A00–Z99 with an optional subdivision), as a diagnosis column holds them.
_ICD10 = re.compile(r"^[A-TV-Z][0-9]{2}(\.[0-9A-Z]{1,4})?$")
#: A sample "looks like" a class when at least this share of its non-empty values does.
CONTENT_SHARE = 0.3
SAMPLE_SIZE = 200


def _matches(text: str, cls: str) -> bool:
    spaced, joined = f" {folded(text)}", key(text)
    # A stem starts a word ("icd" in "icd10" but not in "bicdata"); a spaced stem may also span a joined name.
    return any(f" {stem}" in spaced or (" " in stem and stem.replace(" ", "") in joined) for stem in _FOLDED[cls])


def by_name(name: str) -> str | None:
    """The special category a column's name suggests, or None."""
    return next((cls for cls in (MEDICAL, CRIMINAL, LEGAL) if _matches(name, cls)), None)


def by_content(values: Iterable[object]) -> str | None:
    """The special category a sample of a column's values suggests, or None (the values stay here)."""
    texts = [str(v).strip() for v in values if v is not None and str(v).strip()][:SAMPLE_SIZE]
    if not texts:
        return None
    for cls in (MEDICAL, CRIMINAL, LEGAL):
        hits = sum(1 for t in texts if _matches(t, cls) or (cls == MEDICAL and _ICD10.match(t.upper())))
        if hits >= CONTENT_SHARE * len(texts):
            return cls
    return None


def classify(name: str, values: Sequence[object] = ()) -> tuple[str, str] | None:
    """(class, evidence) for a new column — evidence ``name`` or ``content`` — or None."""
    named = by_name(name)
    if named is not None:
        return named, "name"
    content = by_content(values)
    return (content, "content") if content is not None else None
