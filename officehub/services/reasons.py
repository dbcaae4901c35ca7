"""A reveal or a detokenize needs a stated reason: the rule, checked by the service that performs it."""

from __future__ import annotations

from officehub.canonical_model.errors import FatalError

#: The shortest reason accepted: enough for a ticket or matter number with a word, not "x" or "n/a".
MIN_REASON = 10


class ReasonRequired(FatalError):
    """An operation that shows protected values was asked for without a reason worth recording."""


def stated_reason(reason: str | None, what: str) -> str:
    """The reason given for ``what`` (a reveal, a detokenize), stripped; ReasonRequired when it says nothing."""
    text = (reason or "").strip()
    if len(text) < MIN_REASON:
        raise ReasonRequired(f"{what} needs a reason with at least {MIN_REASON} characters saying why "
                             "(it is recorded in the audit trail)")
    return text
