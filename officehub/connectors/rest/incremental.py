"""Incremental reads: which records are new, and the cursor that lets a read resume exactly.

The bookmark is the greatest cursor-field value emitted plus the keys of the records
emitted *at* that value. The vendor is asked for records changed at or after the
bookmark, so a record that gets the bookmark's timestamp after a run is still
fetched, and the remembered keys drop the ones already emitted: nothing missed,
nothing emitted twice.

The bookmark only moves at the end of a pass; until then a cursor also holds the
pass's next page. That makes resuming exact even when the vendor does not sort by
the cursor field (a later page may hold older changes than an earlier one).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from officehub.connectors.base import Cursor
from officehub.connectors.rest.pagination import PageState

#: A record's key values, in key order.
Key = tuple


def order(value: Any) -> tuple:
    """A sort key for cursor values: ISO 8601 times as instants, numbers as numbers, else text."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (1, value)
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return (2, value)
        # A time without a zone is taken as UTC, so it still compares with zoned ones.
        return (0, moment if moment.tzinfo else moment.replace(tzinfo=UTC))
    return (2, json.dumps(value, sort_keys=True))


def _keys_json(keys: set[Key] | frozenset[Key]) -> list[list]:
    return sorted((list(k) for k in keys), key=json.dumps)


@dataclass
class Progress:
    """Where a read stands; becomes the cursor after every batch."""

    incremental: bool
    since: Any = None
    seen: frozenset[Key] = frozenset()
    high: Any = None
    high_seen: set[Key] = field(default_factory=set)
    page: PageState | None = None

    @classmethod
    def resume(cls, cursor: Cursor | None, *, incremental: bool) -> Progress:
        """The progress a stored cursor describes (None: from the beginning)."""
        c = cursor or {}
        seen = frozenset(tuple(k) for k in c.get("seen", []))
        high_seen = {tuple(k) for k in c["high_seen"]} if "high_seen" in c else set(seen)
        since = c.get("since") if incremental else None
        return cls(incremental, since, seen, c.get("high", since), high_seen, c.get("page"))

    def admit(self, value: Any, key: Key) -> bool:
        """Whether a record is new since the bookmark; notes it for the next bookmark if so."""
        if not self.incremental or value is None:
            return True  # without a cursor value a record cannot be placed: emit it
        if self.since is not None:
            relation, bound = order(value), order(self.since)
            if relation < bound or (relation == bound and key in self.seen):
                return False
        self._note(value, key)
        return True

    def _note(self, value: Any, key: Key) -> None:
        if self.high is None or order(value) > order(self.high):
            self.high, self.high_seen = value, {key}
        elif order(value) == order(self.high):
            self.high_seen.add(key)

    def cursor(self) -> Cursor | None:
        """The cursor to resume after everything noted so far."""
        if not self.incremental:
            # A finished full read leaves no cursor: the next run reads everything again.
            return None if self.page is None else {"page": self.page}
        if self.page is None:
            return {"since": self.high, "seen": _keys_json(self.high_seen)}
        return {"since": self.since, "seen": _keys_json(self.seen), "high": self.high,
                "high_seen": _keys_json(self.high_seen), "page": self.page}
