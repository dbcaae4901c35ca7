"""The audit trail: append-only entries chained by SHA-256, and their verification.

Each entry's hash covers its content and the previous entry's hash, so editing,
deleting or reordering any entry breaks the chain from that point on. What the chain
alone cannot show (its newest entries cut off, or all of it rebuilt) the signed
checkpoints of :mod:`officehub.store.audit_anchor` and an operator's saved head do.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any

import sqlalchemy as sa

from officehub.canonical_model.errors import RetriableError
from officehub.store.audit_anchor import AuditKeys, Checkpoint, signed_checkpoints
from officehub.store.schema import TABLES

GENESIS = "0" * 64


def _moment() -> datetime:
    # Whole seconds: every supported database stores them exactly, so hashes re-compute.
    return datetime.now(UTC).replace(microsecond=0)


def _as_utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def entry_hash(prev_hash: str, at: datetime, run_id: int | None, actor: str, action: str, subject: str,
               detail: dict[str, Any]) -> str:
    """The hash of one entry, chained to the previous one."""
    body = {"at": _as_utc(at).isoformat(), "run_id": run_id, "actor": actor, "action": action,
            "subject": subject, "detail": detail}
    canonical = json.dumps(body, sort_keys=True, default=str, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256((prev_hash + canonical).encode()).hexdigest()


@dataclass(frozen=True, eq=False)
class Entry:
    """An entry to append later (:func:`append_many`): what an operation did, decided before it is written.

    Compared by identity: two operations that did the same thing are still two entries.
    """

    actor: str
    action: str
    subject: str
    detail: dict[str, Any]
    run_id: int | None = None


def append_many(conn: sa.Connection, entries: Iterable[Entry]) -> list[str]:
    """Append ``entries`` in order, chained to the newest entry and to each other, in one wait for the
    chain's head (see :func:`append`); their hashes. Many operations' entries then cost one lock and one
    commit together where each alone would queue for both."""
    table = TABLES["audit"]
    pending = list(entries)
    if not pending:
        return []
    _hold_head(conn)
    prev = conn.execute(sa.select(table.c.hash).order_by(table.c.id.desc()).limit(1)).scalar() or GENESIS
    at = _moment()
    rows = []
    for entry in pending:
        digest = entry_hash(prev, at, entry.run_id, entry.actor, entry.action, entry.subject, entry.detail)
        rows.append({"at": at, "run_id": entry.run_id, "actor": entry.actor, "action": entry.action,
                     "subject": entry.subject, "detail": entry.detail, "prev_hash": prev, "hash": digest})
        prev = digest
    try:
        conn.execute(sa.insert(table), rows)
    except sa.exc.IntegrityError:
        raise RetriableError("the audit trail could not record this operation (its head moved); "
                             "nothing was done, try again") from None
    return [row["hash"] for row in rows]


def append(conn: sa.Connection, *, actor: str, action: str, subject: str, detail: dict[str, Any],
           run_id: int | None = None) -> str:
    """Append an entry chained to the newest one; returns its hash.

    Appends in concurrent transactions queue for the chain's head (on PostgreSQL an advisory
    lock, held until the transaction ends), so each chains to the one committed before it.
    An append that cannot chain raises RetriableError and its transaction rolls back: what
    it would have recorded is never done unrecorded.
    """
    return append_many(conn, [Entry(actor, action, subject, detail, run_id)])[0]


#: The advisory lock appends queue on (PostgreSQL): any constant that no other lock of the hub uses.
APPEND_LOCK = 0x6F68_6175_6469_7400  # "ohaudit"


def _hold_head(conn: sa.Connection) -> None:
    """Wait for the chain's head: until the transaction holding it ends, on PostgreSQL.

    Under READ COMMITTED (the default) the head read next sees what the last holder
    committed. SQLite has one writer at a time: a transaction that read a head another
    writer has since moved fails to write rather than forking the chain.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": APPEND_LOCK})


def last_detail(conn: sa.Connection, action: str, subject: str) -> dict[str, Any] | None:
    """The detail of the newest entry with this action and subject."""
    table = TABLES["audit"]
    return conn.execute(sa.select(table.c.detail).where(table.c.action == action, table.c.subject == subject)
                        .order_by(table.c.id.desc()).limit(1)).scalar()


def entries(conn: sa.Connection, action: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
    """Newest entries first."""
    table = TABLES["audit"]
    stmt = sa.select(table).order_by(table.c.id.desc()).limit(limit)
    if action:
        stmt = stmt.where(table.c.action == action)
    return [dict(r._mapping) for r in conn.execute(stmt)]


@dataclass(frozen=True)
class Verification:
    """The outcome of checking the chain and its checkpoints."""

    entries: int
    head: str
    broken_at: int | None = None
    problem: str | None = None
    #: True when checkpoints were checked with a trusted key; False: nothing outside the
    #: store vouches for the chain, so truncation or a rewrite would go unnoticed.
    anchored: bool = False
    last_checkpoint: Checkpoint | None = None

    @property
    def ok(self) -> bool:
        """True when every entry and every checkpoint verified."""
        return self.problem is None

    @property
    def unanchored(self) -> int:
        """Entries after the last checkpoint (all of them when there is none)."""
        return self.entries - (self.last_checkpoint.entries if self.last_checkpoint else 0)


_HEX64 = re.compile(r"[0-9a-f]{64}")


def _rows(conn: sa.Connection) -> Iterator[Any]:
    # Raw values, parsed here: an entry edited into nonsense in the database is a
    # verification failure naming the entry, not an error while fetching it.
    table = TABLES["audit"]
    raw = [sa.type_coerce(c, sa.types.NullType()).label(c.name) for c in table.c]
    return iter(conn.execute(sa.select(*raw).order_by(table.c.id)))


def _parsed(row: Any) -> tuple[datetime, dict[str, Any]] | str:
    """The entry's time and detail, or what is malformed about it."""
    for name in ("hash", "prev_hash"):
        if not isinstance(getattr(row, name), str) or not _HEX64.fullmatch(getattr(row, name)):
            return f"malformed: {name} is not 64 hex digits"
    try:
        at = row.at if isinstance(row.at, datetime) else datetime.fromisoformat(row.at)
    except (TypeError, ValueError):
        return "malformed: its time is not a timestamp"
    try:
        detail = row.detail if isinstance(row.detail, dict) else json.loads(row.detail)
    except (TypeError, ValueError):
        detail = None
    return (at, detail) if isinstance(detail, dict) else "malformed: its detail is not a JSON object"


def _entry_problem(row: Any, prev: str) -> str | None:
    parsed = _parsed(row)
    if isinstance(parsed, str):
        return parsed
    if row.prev_hash != prev:
        return "does not follow the entry before it (removed or reordered)"
    at, detail = parsed
    if row.hash != entry_hash(prev, at, row.run_id, row.actor, row.action, row.subject, detail):
        return "content does not match its hash (edited)"
    return None


def verify(conn: sa.Connection, keys: AuditKeys | None = None, expect_head: str | None = None) -> Verification:
    """Walk the chain in order and hold it against its signed checkpoints and an expected head.

    Reports the first entry that was edited, removed, moved or is malformed; a checkpoint
    that is forged or names a head the chain no longer holds where it held it (rewritten,
    or truncated after the checkpoint); an ``expect_head`` the chain does not hold.
    """
    keys = keys or AuditKeys()
    # Without a trusted key a checkpoint proves nothing (anyone could have written it).
    checkpoints, forged = signed_checkpoints(conn, keys) if keys.trusted else ([], None)
    found = partial(Verification, anchored=bool(keys.trusted),
                    last_checkpoint=max(checkpoints, key=lambda c: c.entries, default=None))
    pending: dict[int, list[Checkpoint]] = {}
    for item in checkpoints:
        pending.setdefault(item.entry_id, []).append(item)
    prev, count, seen_expected = GENESIS, 0, expect_head is None
    for row in _rows(conn):
        count += 1
        problem = _entry_problem(row, prev) or _against(pending.pop(row.id, ()), count, row.hash)
        if problem:
            return found(count, prev, row.id, problem)
        prev = row.hash
        seen_expected = seen_expected or row.hash == expect_head
    if pending:
        entry_id = min(pending)
        return found(count, prev, entry_id, f"checkpoint {pending[entry_id][0].id} signed entry {entry_id} as the "
                     "head; the chain no longer holds it (truncated or removed)")
    if not seen_expected:
        return found(count, prev, None, "the chain does not hold the expected head (truncated or rewritten)")
    return found(count, prev, None, forged)


def _against(checkpoints: Iterable[Checkpoint], position: int, digest: str) -> str | None:
    """What is wrong with an entry that checkpoints signed as the head, if anything."""
    for item in checkpoints:
        if (item.entries, item.head) != (position, digest):
            return f"checkpoint {item.id} signed this entry as number {item.entries} with another hash (rewritten)"
    return None
