"""What changed between two schemas of one stream: added, removed, renamed-looking and retyped columns.

Pure: schemas in, changes out. A removed and an added column of the same type are taken for
a rename when their names are alike (case, spaces, separators, transliteration, small edits)
or their values are (a profile of lengths and character classes, kept instead of values).
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from rapidfuzz import fuzz

from officehub.engine.drift.names import key

ADDED, REMOVED, RENAMED, RETYPED = "added", "removed", "renamed", "retyped"
#: Names this alike (rapidfuzz ratio of the folded names, 0–100) are one column renamed.
NAME_SIMILARITY = 80
#: Character-class shares and typical length may differ this much for values to be "alike".
_SHARE_TOLERANCE, _LENGTH_TOLERANCE = 0.15, 0.25
_CLASSES = ("digit", "alpha", "space", "other")


@dataclass(frozen=True)
class Column:
    """One column as a stream offered it: name, type (the connectors' short names) and a value profile."""

    name: str
    type: str
    #: Typical length and character-class shares of a sample of values; None when none was read.
    profile: dict[str, float] | None = field(default=None, compare=False)

    def as_dict(self) -> dict[str, Any]:
        """The column as stored in ``stream_schema.columns``."""
        return {"name": self.name, "type": self.type, **({"profile": self.profile} if self.profile else {})}

    @classmethod
    def from_dict(cls, item: dict[str, Any]) -> Column:
        """A column stored by :meth:`as_dict`."""
        return cls(str(item["name"]), str(item["type"]), item.get("profile"))


@dataclass(frozen=True)
class Change:
    """One change to a stream's columns; ``detail`` holds types and the old name, never a value."""

    kind: str
    column: str
    detail: dict[str, str] = field(default_factory=dict)

    def describe(self) -> str:
        """The change in words, e.g. ``renamed mail → email`` or ``retyped qty (int64 → string)``."""
        if self.kind == RENAMED:
            return f"renamed {self.detail['old_name']} → {self.column}"
        if self.kind == RETYPED:
            return f"retyped {self.column} ({self.detail['old_type']} → {self.detail['type']})"
        return f"{self.kind} {self.column}"


def profile(values: Iterable[object]) -> dict[str, float] | None:
    """Typical length and share of digits, letters, spaces and other characters of ``values``' text."""
    texts = [str(v) for v in values if v is not None and str(v) != ""]
    if not texts:
        return None
    counts = dict.fromkeys(_CLASSES, 0)
    for text in texts:
        for ch in text:
            counts["digit" if ch.isdigit() else "alpha" if ch.isalpha() else "space" if ch.isspace() else "other"] += 1
    total = sum(counts.values()) or 1
    return {"length": float(statistics.median(len(t) for t in texts)),
            **{name: round(n / total, 3) for name, n in counts.items()}}


def profiles_alike(a: dict[str, float] | None, b: dict[str, float] | None) -> bool:
    """Whether two value profiles look like the same kind of content."""
    if not a or not b:
        return False
    longer = max(a["length"], b["length"], 1.0)
    return (abs(a["length"] - b["length"]) / longer <= _LENGTH_TOLERANCE
            and all(abs(a[c] - b[c]) <= _SHARE_TOLERANCE for c in _CLASSES))


def name_similarity(old: str, new: str) -> float:
    """0–100: how alike two column names are once case, separators and script are folded."""
    a, b = key(old), key(new)
    if not a or not b:
        return 0.0
    if a == b:
        return 100.0
    if min(len(a), len(b)) >= 3 and (a in b or b in a):
        return 90.0
    if _abbreviates(*sorted((a, b), key=len)):
        return 85.0
    return float(fuzz.ratio(a, b))


def _abbreviates(short: str, long: str) -> bool:
    """Whether ``short`` abbreviates ``long`` (``dept``, ``department``): same start, its letters in order."""
    if len(short) < 3 or short[:2] != long[:2]:
        return False
    rest = iter(long)
    return all(ch in rest for ch in short)


def _renames(removed: Sequence[Column], added: Sequence[Column]) -> list[tuple[Column, Column, str]]:
    """Pairs (old, new, evidence) of a removed and an added column of one type that look alike, best first."""
    scored = []
    for old in removed:
        for new in added:
            if old.type != new.type:
                continue
            by_name = name_similarity(old.name, new.name)
            if by_name >= NAME_SIMILARITY:
                scored.append((by_name + 100, old, new, "name"))
            elif profiles_alike(old.profile, new.profile):
                scored.append((by_name, old, new, "values"))
    pairs, used_old, used_new = [], set(), set()
    for _, old, new, evidence in sorted(scored, key=lambda s: (-s[0], s[1].name, s[2].name)):
        if old.name not in used_old and new.name not in used_new:
            pairs.append((old, new, evidence))
            used_old.add(old.name)
            used_new.add(new.name)
    return pairs


def compare(before: Sequence[Column], after: Sequence[Column]) -> list[Change]:
    """The changes from ``before`` to ``after`` (names compared exactly: ``Email`` and ``email`` differ)."""
    old = {c.name: c for c in before}
    new = {c.name: c for c in after}
    changes = [Change(RETYPED, name, {"type": new[name].type, "old_type": old[name].type})
               for name in new if name in old and new[name].type != old[name].type]
    removed = [c for name, c in old.items() if name not in new]
    added = [c for name, c in new.items() if name not in old]
    renamed = _renames(removed, added)
    gone = {o.name for o, _, _ in renamed}
    came = {n.name for _, n, _ in renamed}
    changes += [Change(RENAMED, n.name, {"old_name": o.name, "type": n.type, "evidence": why}) for o, n, why in renamed]
    changes += [Change(ADDED, c.name, {"type": c.type}) for c in added if c.name not in came]
    changes += [Change(REMOVED, c.name, {"old_type": c.type}) for c in removed if c.name not in gone]
    return changes


def fingerprint_text(columns: Sequence[Column]) -> str:
    """What a schema's fingerprint covers: names and types in order (profiles change with the data)."""
    return "\n".join(f"{c.name}\t{c.type}" for c in columns)
