"""One hub-store transaction with its actor: what a service's reads and its audit entry share (or, for reads,
the entries to append once the transaction ended)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from officehub.engine.context import RunContext
from officehub.store import audit
from officehub.store.hub import HubStore


@contextmanager
def acting(store: HubStore, actor: str) -> Iterator[RunContext]:
    """A transaction on ``store`` as ``actor``, committed when the block ends and rolled back on an error.

    An operation outside a run has no run id; its audit entry and its reads commit together.
    """
    with store.begin() as conn:
        yield RunContext(conn, actor)


@dataclass(frozen=True)
class Reading(RunContext):
    """A read-only operation's context: the audit entries it decides are kept here, to be appended after
    its transaction ends, together with other operations' (:func:`officehub.services.audit_trail.append_entries`).

    Whoever opened it must append them before handing out anything read: what was released is
    recorded before it leaves, as with an entry appended in the same transaction.
    """

    entries: list[audit.Entry] = field(default_factory=list)


@contextmanager
def reading(store: HubStore, actor: str) -> Iterator[Reading]:
    """A transaction on ``store`` for reads as ``actor`` whose audit entries collect on the context (see :class:`Reading`)."""
    with store.begin() as conn:
        yield Reading(conn, actor)


def record(ctx: RunContext, entry: audit.Entry) -> None:
    """Append ``entry`` in ``ctx``'s transaction, or keep it on a :class:`Reading` to append later."""
    if isinstance(ctx, Reading):
        ctx.entries.append(entry)
    else:
        audit.append(ctx.conn, actor=entry.actor, action=entry.action, subject=entry.subject, detail=entry.detail,
                     run_id=entry.run_id)
