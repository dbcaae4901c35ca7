"""Column lineage of ingest mappings: which vendor columns feed which canonical fields.

A mapping can copy a special-category column (an occupational-health note, a court
order) into an ordinary field, e.g. by ``concat``-ing it into ``employment.job_title``;
the policy would then release it as the ordinary field it lands in. Lineage finds such
fields: one fed by a column that also feeds a medical, criminal or legal field of any
mapping of the same system and stream, or by a column named like one. Such a field must
declare its class in the mapping (``class: medical``), and the declared class is what
policies decide it under.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from officehub.canonical_model import Sensitivity, layout
from officehub.canonical_model.sensitivity import stricter
from officehub.mapping.spec import HUB_COLUMNS, MappingSpec

#: Where a word of a column name starts and ends, once the name is normalised (see ``_normalised``).
_B, _E = r"(?:^|_)", r"(?:_|$)"

#: Patterns of vendor column names that suggest special-category content, in the languages
#: the estates use (English, German, Ukrainian and Russian, in Cyrillic and in Latin letters).
#: Distinctive stems match anywhere (``OCCHEALTH``); short or ambiguous ones only as whole
#: words or at a word's start, so ``threshold``, ``shareholder``, ``courtesy_title`` or
#: ``посуд`` match nothing. Left out as too common in ordinary data: ``disabled`` (an
#: account flag), ``restriction`` (delivery, access), ``occupation`` (a job title).
#: A false alarm is settled by declaring the field's own model class in the mapping.
NAME_PATTERNS: dict[Sensitivity, tuple[str, ...]] = {
    Sensitivity.MEDICAL: (
        "health", "medic", "diagnos", "sick", "illness", "disabilit", "handicap", "injur", "occupational",
        rf"{_B}icd", "gesundheit", "krank", "behinder",
        "здоров", "хвор", "лікар", "врач", "діагноз", "диагноз", "інвалід", "инвалид", "больн",
        "zdorov", "khvor", "likar", "diagnoz",
    ),
    Sensitivity.CRIMINAL: (
        "crimin", "crime", "convict", "offen[cs]e", "offender", "police", "vorstraf", "straftat",
        "судим", "кримінал", "криминал", "злочин", "преступ", "поліці", "полици", "sudym", "kryminal",
    ),
    Sensitivity.LEGAL: (
        rf"{_B}court(?!esy)", "litig", "lawsuit", "garnish", rf"{_B}holds?{_E}", "legal_?hold", "gericht", "pfändung",
        rf"{_B}суд", rf"{_B}позов", rf"{_B}иск{_E}", "арешт", "арест",
    ),
}
_COMPILED = {cls: re.compile("|".join(patterns)) for cls, patterns in NAME_PATTERNS.items()}


def _normalised(column: str) -> str:
    """Lower case, words joined by ``_``: ``OccHealth-RESTR2`` → ``occ_health_restr``."""
    spaced = re.sub(r"(?<=[a-zа-яіїєґ])(?=[A-ZА-ЯІЇЄҐ])", "_", column)
    return "_".join(w for w in re.split(r"[^a-zа-яіїєґёäöüß]+", spaced.lower()) if w)


def named_like(column: str) -> Sensitivity | None:
    """The special class a column's name suggests (the strictest, if several), or None."""
    name = _normalised(column)
    found = [cls for cls, pattern in _COMPILED.items() if pattern.search(name)]
    return max(found, key=lambda cls: cls.rank) if found else None


@dataclass(frozen=True)
class Feed:
    """One edge of lineage: a vendor column feeding a canonical field through a mapping."""

    mapping: str
    system: str
    stream: str
    key: str                 # the field as written in the mapping (for file and line)
    entity: str
    path: str                # the field's path in the entity, repeating groups as ``group.field``
    column: str
    model_class: Sensitivity | None
    declared: Sensitivity | None

    @property
    def field(self) -> str:
        """The canonical field as ``entity.path``."""
        return f"{self.entity}.{self.path}"


@dataclass(frozen=True)
class LineageProblem:
    """A field that takes special-category data without declaring it, or declares too weak a class."""

    mapping: str
    where: tuple[str, ...]   # inside the mapping: ("fields", key) or ("fields", key, "class")
    message: str


def _leaf_classes(spec: MappingSpec) -> dict[str, Sensitivity | None] | None:
    try:
        lay = layout(spec.entity)
        leaves = lay.collection(spec.collection).fields if spec.collection else lay.fields
    except KeyError:
        return None  # an unknown target or group: the mapping's compiler reports it
    return {leaf.path: leaf.sensitivity for leaf in leaves}


def feeds(mappings: Mapping[str, MappingSpec]) -> list[Feed]:
    """Every (vendor column → canonical field) edge of the given ingest mappings.

    Fields the model does not know are left out: the mapping's compiler reports them.
    """
    found = []
    for name, spec in mappings.items():
        classes = _leaf_classes(spec)
        if classes is None:
            continue
        prefix = f"{spec.collection}." if spec.collection else ""
        for key, fspec in spec.fields.items():
            if key in HUB_COLUMNS or key not in classes:
                continue
            found += [Feed(name, spec.system, spec.stream, key, spec.entity, prefix + key, column,
                           classes[key], fspec.sensitivity) for column in fspec.sources]
    return found


#: The strictest special field a (system, stream, column) feeds: its class and the feed that shows it.
_Reached = tuple[Sensitivity, Feed]


def _special_reach(all_feeds: list[Feed]) -> dict[tuple[str, str, str], _Reached]:
    """For each (system, stream, column) that feeds a medical, criminal or legal field: the strictest one."""
    found: dict[tuple[str, str, str], _Reached] = {}
    for feed in sorted(all_feeds, key=lambda f: f.field):  # sorted: the same field is named on every run
        cls = feed.model_class
        key = (feed.system, feed.stream, feed.column)
        if cls is not None and cls.is_special_category and (key not in found or cls.rank > found[key][0].rank):
            found[key] = (cls, feed)
    return found


def _declared_problem(feed: Feed, declared: Sensitivity, reached: _Reached | None) -> str | None:
    where = f"field '{feed.key}' takes column '{feed.column}'"
    if feed.model_class is not None and declared.rank < feed.model_class.rank:
        return f"{where}; its declared class '{declared.value}' is weaker than the model's '{feed.model_class.value}'"
    if reached is not None and declared.rank < reached[0].rank:
        cls, special = reached
        return (f"{where}, which also feeds {cls.value} field '{special.field}' (mapping {special.mapping}); "
                f"its declared class '{declared.value}' is weaker than {cls.value}")
    return None


def _undeclared_problem(feed: Feed, reached: _Reached | None) -> str | None:
    if feed.model_class is None or feed.model_class.is_special_category:
        return None  # unclassified fields are withheld anyway; special ones are decided as such
    where = f"field '{feed.key}' takes column '{feed.column}'"
    if reached is not None:
        cls, special = reached
        return (f"{where}, which also feeds {cls.value} field '{special.field}' (mapping {special.mapping}): "
                f"special-category data would leave as {feed.model_class.value}; "
                f"declare 'class: {cls.value}' on the field")
    looks = named_like(feed.column)
    if looks is not None:
        return (f"{where}, named like {looks.value} data: declare 'class: {looks.value}' on the field "
                f"(or 'class: {feed.model_class.value}' if the column holds none)")
    return None


def problems(all_feeds: list[Feed]) -> list[LineageProblem]:
    """Fields that take special-category columns without declaring a class strict enough; one per field."""
    reach = _special_reach(all_feeds)
    found: dict[tuple[str, str], LineageProblem] = {}
    for feed in all_feeds:
        if (feed.mapping, feed.key) in found:
            continue
        reached = reach.get((feed.system, feed.stream, feed.column))
        message = (_undeclared_problem(feed, reached) if feed.declared is None
                   else _declared_problem(feed, feed.declared, reached))
        if message:
            where = ("fields", feed.key, "class") if feed.declared else ("fields", feed.key)
            found[(feed.mapping, feed.key)] = LineageProblem(feed.mapping, where, message)
    return list(found.values())


def derived_classes(all_feeds: list[Feed]) -> dict[str, Sensitivity]:
    """The classes mappings declare, as ``{"entity.path": class}``; the strictest where several do."""
    declared: dict[str, Sensitivity] = {}
    for feed in all_feeds:
        if feed.declared is not None:
            declared[feed.field] = stricter(declared.get(feed.field), feed.declared) or feed.declared
    return declared
