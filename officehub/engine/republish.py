"""Re-publication: a destination that holds values its plan no longer allows gets every record again.

A publish run sends only changes, so a stricter plan (a field now dropped, masked,
hashed or put under consent) or a new pseudonym key would reach only the records
that change afterwards: the rest keep the old values, and a reporting table mixes
two keys. The decisions a destination was last sent under are kept in its
checkpoint; when the plan compiled for a run differs from them in a way that leaves
stale values behind, the run re-sends every record from change number 0, emptying
withheld fields explicitly. The re-publication is kept in the checkpoint until it
ends, so a crash resumes it rather than forgetting it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from officehub.policies import PlanChange, PolicyPlan, compare, decisions_in_force

#: What a destination holds of a withheld field it supplies itself.
KEPT = "not emptied: the destination supplies this field itself; remove the hub's values there by hand"
#: Batch ids of a re-publication end in this, so a re-sent file never replaces an earlier one.
TAG = "republish"


@dataclass(frozen=True)
class Republication:
    """A re-publication under way: what it empties and why, and how far it got."""

    started_run: int
    tightened: tuple[str, ...] = ()
    rekeyed: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)
    records: int = 0
    #: The destination keeps earlier copies the hub cannot change or delete (an append-only drop folder).
    stale_copies: bool = False

    @property
    def empty(self) -> frozenset[str]:
        """Fields written as explicit nulls where the plan withholds them."""
        return frozenset(self.tightened)

    def batch_id(self, first: int, last: int) -> str:
        """The batch id of a re-sent batch: the same on resume, never one of the first sending."""
        return f"{first:012d}-{last:012d}-{TAG}-{self.started_run}"

    def sent(self, records: int) -> Republication:
        """This re-publication after ``records`` more were sent."""
        return replace(self, records=self.records + records)

    def state(self) -> dict[str, Any]:
        """As stored in the checkpoint (ids, field paths, key ids and counts only)."""
        return {"started_run": self.started_run, "tightened": list(self.tightened),
                "rekeyed": {path: list(keys) for path, keys in self.rekeyed.items()},
                "records": self.records, "stale_copies": self.stale_copies}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Republication:
        """The re-publication a checkpoint holds."""
        return cls(int(state["started_run"]), tuple(state.get("tightened", ())),
                   {path: (keys[0], keys[1]) for path, keys in state.get("rekeyed", {}).items()},
                   int(state.get("records", 0)), bool(state.get("stale_copies", False)))

    def merged(self, change: PlanChange, run_id: int) -> Republication:
        """A new re-publication from the start, for a further change while this one was under way."""
        rekeyed = {**self.rekeyed, **change.rekeyed}
        return Republication(run_id, tuple(dict.fromkeys(self.tightened + change.tightened)), rekeyed)


def change_since(cursor: dict[str, Any], plan: PolicyPlan, last_fingerprint: str | None,
                 fields: Iterable[str]) -> PlanChange:
    """What ``plan`` changes for the values of ``fields`` (those the mapping sends) already sent
    under ``cursor``'s decisions.

    A checkpoint from before decisions were kept has only the plan fingerprint of the
    last publish audit entry to go by: any difference counts as every withheld field
    tightened (fail safe).
    """
    sent = set(fields)
    if not cursor.get("seq"):
        return PlanChange()  # nothing was sent yet
    if "decisions" in cursor:
        change = compare(cursor["decisions"], plan)
        return PlanChange(tuple(p for p in change.tightened if p in sent),
                          {p: keys for p, keys in change.rekeyed.items() if p in sent})
    if last_fingerprint == plan.fingerprint:
        return PlanChange()
    return PlanChange(tuple(p for p, d in decisions_in_force(plan).items() if p in sent and d["action"] != "allow"))


def holdings(plan: PolicyPlan, fields: Iterable[str], kept: frozenset[str] = frozenset()) -> dict[str, str]:
    """Per field the destination receives: what it holds once every record was sent under ``plan``
    (``kept``: withheld fields left as they were, because the destination supplies them itself)."""
    now = decisions_in_force(plan)
    return {path: KEPT if path in kept and now[path]["action"] in ("drop", "nullify") else _holds(now[path])
            for path in fields if path in now}


def _holds(decision: dict[str, Any]) -> str:
    action = decision["action"]
    if action in ("drop", "nullify"):
        held = "withheld"
    elif decision["key"]:
        held = f"pseudonymised with key {decision['key']}"
    elif action == "allow":
        held = "as received"
    else:
        held = f"transformed ({action})"
    return f"{held} where consented, else withheld" if decision["consent"] and action not in ("drop", "nullify") \
        else held
