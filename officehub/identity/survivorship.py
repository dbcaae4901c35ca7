"""Survivorship: the golden record's values chosen, field group by field group, from its sources.

A field group is a top-level canonical field with all its leaf columns (``address`` →
street, city, postal code, country): its columns always come from one source, so a
golden address is never one system's street with another system's city.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from officehub.identity.rules import MOST_RECENT, Survivorship, SurvivorshipRule, column_groups


@dataclass(frozen=True, slots=True)
class SourceRecord:
    """One system's copy of the record, in golden columns, as of its last change."""

    system: str
    vendor_id: str
    changed_at: datetime
    run_id: int | None
    values: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Survived:
    """The golden values, which source supplied each field, and the fields in conflict."""

    #: Every leaf column of the entity (None where no source has a value).
    values: dict[str, Any]
    #: Top-level field → (system, vendor_id) that supplied it; absent when no source has a value.
    lineage: dict[str, tuple[str, str]]
    #: Top-level fields that two or more sources changed since ``previous_at`` to different values.
    conflicts: list[str]


def _filled(source: SourceRecord, columns: tuple[str, ...]) -> int:
    return sum(source.values.get(c) is not None for c in columns)


def _supplies(source: SourceRecord, columns: tuple[str, ...]) -> bool:
    """Whether ``source`` has a value in one of ``columns`` (stops at the first)."""
    values = source.values
    return any(values.get(c) is not None for c in columns)


def _pick(rule: SurvivorshipRule, supplying: list[SourceRecord], columns: tuple[str, ...],
          default: SurvivorshipRule) -> SourceRecord:
    """The source whose group wins under ``rule``; ``supplying`` is non-empty and in recency order.

    ``max``/``min`` return the first of equals, so every tie falls to the most recent source.
    """
    if rule.rule == "most_complete":
        return max(supplying, key=lambda s: _filled(s, columns))
    if rule.rule == "trust":
        rank = {system: i for i, system in enumerate(rule.order or ())}
        trusted = [s for s in supplying if s.system in rank]
        return min(trusted, key=lambda s: rank[s.system]) if trusted else supplying[0]
    if rule.rule == "source":
        if found := next((s for s in supplying if s.system == rule.system), None):
            return found
        # the default may itself be a fixed source; its own fallback is most recent
        return _pick(default, supplying, columns, MOST_RECENT)
    return supplying[0]


def _in_conflict(sources: list[SourceRecord], columns: tuple[str, ...]) -> bool:
    """Two of ``sources`` give different non-null values to one of ``columns``."""
    for column in columns:
        values = [v for s in sources if (v := s.values.get(column)) is not None]
        if any(v != values[0] for v in values[1:]):
            return True
    return False


def _recency_order(sources: Sequence[SourceRecord]) -> list[SourceRecord]:
    """Latest change first; equal times by (system, vendor_id), so the input order never matters."""
    by_name = sorted(sources, key=lambda s: (s.system, s.vendor_id))
    return sorted(by_name, key=lambda s: s.changed_at, reverse=True)  # stable: ties keep name order


def _single(columns: dict[str, tuple[str, ...]], source: SourceRecord) -> Survived:
    values = {c: source.values.get(c) for cols in columns.values() for c in cols}
    lineage = {name: (source.system, source.vendor_id) for name, cols in columns.items()
               if any(values[c] is not None for c in cols)}
    return Survived(values, lineage, [])


def survive(entity: str, sources: Sequence[SourceRecord], rules: Survivorship,
            previous_at: datetime | None = None) -> Survived:
    """The golden values of one record of ``entity`` from its ``sources`` under ``rules``.

    ``previous_at`` is when the golden record was last survived: fields that two or more
    sources changed after it, to different values, are reported as conflicts.
    """
    if not sources:
        raise ValueError("survive needs at least one source record")
    groups = dict(column_groups(entity))
    if len(sources) == 1:
        return _single(groups, sources[0])
    ordered = _recency_order(sources)
    changed = [] if previous_at is None else [s for s in ordered if s.changed_at > previous_at]
    values: dict[str, Any] = {}
    lineage: dict[str, tuple[str, str]] = {}
    conflicts = []
    for name, columns in groups.items():
        supplying = [s for s in ordered if _supplies(s, columns)]
        if not supplying:
            values.update(dict.fromkeys(columns))
            continue
        winner = _pick(rules.rule_for(name), supplying, columns, rules.default)
        values.update({c: winner.values.get(c) for c in columns})
        lineage[name] = (winner.system, winner.vendor_id)
        if len(changed) > 1 and _in_conflict(changed, columns):
            conflicts.append(name)
    return Survived(values, lineage, conflicts)


__all__ = ["SourceRecord", "Survived", "survive"]
