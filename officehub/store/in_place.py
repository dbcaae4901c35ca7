"""Set-based updates of records that one system alone supplies (PostgreSQL and SQLite).

Most records of a hub come from one system, and an incremental sync mostly brings new
versions of records the hub already holds. Such a record is kept in the sole form (ADR 0018):
its golden row is the system's copy. A batch of them therefore needs no row in Python: the
new values are COPYed into a temporary table, one query finds the rows that qualify, and two
statements archive the superseded golden versions and write the new ones.

A row qualifies when its vendor id is a sole-form golden row's key for this system, the
record is active, and it has no value in a column the batch does not carry (the general
path's merge would keep it). Everything else — new vendor ids, records with several sources,
erased records — is left to the general path, which gives the same result row by row
(ADR 0009).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pyarrow as pa
import sqlalchemy as sa

from officehub.arrowsql.bulk import bulk_write
from officehub.arrowsql.modes import WriteMode
from officehub.canonical_model import SCHEMA_VERSION
from officehub.store import bookkeeping as bk
from officehub.store import golden
from officehub.store.schema import TABLES
from officehub.store.select import unnested

_T = TABLES
INCOMING = "officehub_incoming"
#: Databases whose UPDATE … FROM the set-based statements use (SQLite has it since 3.33).
DIALECTS = ("postgresql", "sqlite")


@dataclass
class InPlace:
    """What a batch's set-based update did, by vendor id."""

    unchanged: list[str] = field(default_factory=list)  # the record already held these values
    updated: list[str] = field(default_factory=list)    # a new version written
    versions: int = 0                                    # new golden versions written

    @property
    def handled(self) -> set[str]:
        """Vendor ids the general path need not look at."""
        return {*self.unchanged, *self.updated}


def update_single_sources(conn: sa.Connection, entity: str, system: str, values: dict[str, pa.Array],
                          vendor_ids: list[str], digests: list[str], changed_at: pa.Array,
                          unmapped: list[str], *, changed_by: str, run_id: int | None) -> InPlace:
    """Update the qualifying rows among ``vendor_ids`` (one per vendor id, in batch order).

    ``values`` holds the batch's canonical columns for those rows, ``digests`` their
    content hashes and ``changed_at`` when the source says each changed; ``unmapped`` are
    the entity's columns the batch does not carry.
    """
    out = InPlace()
    if not vendor_ids:
        return out
    incoming = _stage(conn, entity, values, vendor_ids, digests, changed_at)
    found = conn.execute(_qualifying(entity, system, incoming, unmapped)).all()
    order = {vid: k for k, vid in enumerate(vendor_ids)}
    found.sort(key=lambda row: order[row.vendor_id])
    out.unchanged = [r.vendor_id for r in found if r.same]
    versioned = [r for r in found if not r.same]
    out.updated = [r.vendor_id for r in versioned]
    if versioned:
        cids = [r.canonical_id for r in versioned]
        golden.archive(conn, entity, cids)
        first = golden.next_change_seqs(conn, entity, len(versioned))
        _update_golden(conn, entity, incoming, list(values), unmapped,
                       [r.vendor_id for r in versioned], cids, list(range(first, first + len(cids))),
                       changed_by=changed_by, run_id=run_id)
        out.versions = len(versioned)
    # Dropped now (a failed batch's rollback drops it on PostgreSQL): the general path may stage tables of its own.
    _drop_temporary(conn, INCOMING)
    return out


def _drop_temporary(conn: sa.Connection, name: str) -> None:
    schema = "pg_temp" if conn.dialect.name == "postgresql" else "temp"
    conn.execute(sa.text(f"DROP TABLE {schema}.{name}"))


@contextmanager
def _keyed(conn: sa.Connection, **arrays: tuple[list[Any], sa.types.TypeEngine]) -> Iterator[sa.FromClause]:
    """Parallel lists as one table ``keys`` to join an update to.

    PostgreSQL gets them as one array parameter per list; elsewhere they go into a temporary
    table (SQLite caps a statement's parameters, and a ``VALUES`` list would be re-parsed per batch).
    """
    if conn.dialect.name == "postgresql":
        yield unnested(**arrays)
        return
    keys = sa.Table("officehub_keys", sa.MetaData(), *(sa.Column(n, kind) for n, (_, kind) in arrays.items()),
                    prefixes=["TEMPORARY"])
    keys.create(conn)
    names = list(arrays)
    conn.execute(sa.insert(keys), [dict(zip(names, row)) for row in zip(*(values for values, _ in arrays.values()))])
    try:
        yield keys
    finally:
        _drop_temporary(conn, keys.name)


def _stage(conn: sa.Connection, entity: str, values: dict[str, pa.Array], vendor_ids: list[str],
           digests: list[str], changed_at: pa.Array) -> sa.Table:
    """A temporary table (dropped at commit at the latest) holding the batch, typed like the golden table."""
    g = _T[entity]
    types = {"vendor_id": g.c.sole_vendor_id.type, "changed_at": g.c.sole_changed_at.type}
    names = ["vendor_id", "content_hash", "changed_at", *values]
    incoming = sa.Table(INCOMING, sa.MetaData(), *(sa.Column(n, types.get(n, g.c[n].type if n in g.c else None))
                                                   for n in names),
                        prefixes=["TEMPORARY"], postgresql_on_commit="DROP")
    incoming.create(conn)
    columns = {"vendor_id": pa.array(vendor_ids, pa.string()), "content_hash": pa.array(digests, pa.string()),
               "changed_at": changed_at, **values}
    # Not analysed: with no statistics the planner probes the indexes per staged row; with
    # them it judged a hash join over a scan of the whole cross-reference cheaper (2x slower).
    bulk_write(conn, incoming, golden.arrow_batch(entity, columns), WriteMode.APPEND, ())
    return incoming


def _qualifying(entity: str, system: str, incoming: sa.Table, unmapped: list[str]) -> sa.Select:
    """(vendor id, canonical id, record unchanged?) of the rows that qualify."""
    g = _T[entity]
    return (
        sa.select(incoming.c.vendor_id, g.c.canonical_id, (g.c.content_hash == incoming.c.content_hash).label("same"))
        .select_from(incoming.join(g, sa.and_(g.c.sole_system == system, g.c.sole_vendor_id == incoming.c.vendor_id)))
        .where(g.c.status == "active", *(g.c[c].is_(None) for c in unmapped))
    )


def _update_golden(conn: sa.Connection, entity: str, incoming: sa.Table, names: list[str], unmapped: list[str],
                   vendor_ids: list[str], canonical_ids: list[str], seqs: list[int], *,
                   changed_by: str, run_id: int | None) -> None:
    """New versions of the golden records: the source's values, as survivorship of one source gives them."""
    g = _T[entity]
    moment: datetime = bk.now()
    with _keyed(conn, vendor_id=(vendor_ids, sa.String()), canonical_id=(canonical_ids, g.c.canonical_id.type),
                change_seq=(seqs, sa.BigInteger())) as keys:
        conn.execute(sa.update(g)
                     .where(g.c.canonical_id == keys.c.canonical_id, incoming.c.vendor_id == keys.c.vendor_id)
                     .values(**{n: incoming.c[n] for n in names}, **dict.fromkeys(unmapped),
                             content_hash=incoming.c.content_hash, version=g.c.version + 1,
                             sole_changed_at=incoming.c.changed_at,
                             change_seq=keys.c.change_seq, schema_version=SCHEMA_VERSION, updated_at=moment,
                             status="active", merged_into=None, deleted_at=None, purge_after=None,
                             changed_by=changed_by, run_id=run_id, lineage=None))
