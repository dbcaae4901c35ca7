"""What a new plan changes for values a destination already holds.

A destination keeps what it was sent. When a plan withholds a field more than the
decisions it was published under, or makes its pseudonyms with another key, the
values already there are wrong under the new plan, and only a re-publication of
every record fixes them. The decisions in force are kept as plain data
(:func:`decisions_in_force`) so they can be stored with a destination's checkpoint
and compared with whatever plan the next run compiles.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from officehub.policies.plan import FieldDecision, PolicyPlan

#: Operators whose output is made with a key: a new key gives every value a new pseudonym.
KEYED = frozenset({"hash", "tokenize"})
#: Operators that send a value unchanged, a constant or nothing; every other one sends a derived form.
_NOT_DERIVED = frozenset({"allow", "drop", "nullify", "redact"})

Decisions = Mapping[str, Mapping[str, Any]]


def key_of(decision: FieldDecision, active: str | None) -> str | None:
    """The key id a keyed decision makes its values with (its own ``key`` param, else the active key)."""
    if decision.action not in KEYED:
        return None
    return getattr(decision.operator.params, "key", None) or active


def decisions_in_force(plan: PolicyPlan) -> dict[str, dict[str, Any]]:
    """Per field: action, its strictness, params, key id and consent flag, as JSON-able data."""
    return {d.path: {"action": d.action, "strictness": d.operator.strictness,
                     "params": d.operator.params.model_dump(mode="json"), "key": key_of(d, plan.key_id),
                     "consent": d.consent_column} for d in plan.decisions}


@dataclass(frozen=True)
class PlanChange:
    """Fields a destination holds too much of under a new plan, and pseudonyms whose key changed."""

    #: Fields the new plan withholds more than (or sends in another form than) the old one.
    tightened: tuple[str, ...] = ()
    #: Field → (key id before, key id now), for keyed fields whose key changed.
    rekeyed: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)

    @property
    def republish(self) -> bool:
        """True when values already at the destination are wrong under the new plan."""
        return bool(self.tightened or self.rekeyed)

    def key_moves(self) -> list[tuple[str | None, str | None]]:
        """Each distinct (from key, to key) among the re-keyed fields."""
        return sorted(set(self.rekeyed.values()), key=str)


def withholds_more(before: Mapping[str, Any], now: Mapping[str, Any]) -> bool:
    """True when ``now`` lets less of a field through than ``before``, or in another form.

    A change whose effect cannot be told from names and strictness alone (same
    operator, other params; one derived form for another) counts as more: re-sending
    costs time, leaving a stale value costs a leak.
    """
    if now["consent"] and now["consent"] != before.get("consent"):
        return True
    if now["strictness"] != before.get("strictness"):
        return now["strictness"] > before.get("strictness", -1) or _both_derived(before, now)
    return now["action"] != before.get("action") or _unkeyed(now["params"]) != _unkeyed(before.get("params") or {})


def _unkeyed(params: Mapping[str, Any]) -> dict[str, Any]:
    # The key is compared on its own: a new key is a rotation, not a tightening.
    return {name: value for name, value in params.items() if name != "key"}


def _both_derived(before: Mapping[str, Any], now: Mapping[str, Any]) -> bool:
    return before.get("action") not in _NOT_DERIVED and now["action"] not in _NOT_DERIVED


def compare(before: Decisions, plan: PolicyPlan) -> PlanChange:
    """What ``plan`` changes for values sent under the decisions ``before``.

    Fields new to the plan were never sent, so they change nothing; a field that
    only loosens (drop → allow) is sent as records change, as any new value is.
    """
    now = decisions_in_force(plan)
    tightened, rekeyed = [], {}
    for path, decision in now.items():
        old = before.get(path)
        if old is None:
            continue
        if withholds_more(old, decision):
            tightened.append(path)
        if old.get("key") is not None and decision["key"] is not None and decision["key"] != old["key"]:
            rekeyed[path] = (old["key"], decision["key"])
    return PlanChange(tuple(tightened), rekeyed)
