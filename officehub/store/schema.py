"""The hub store's tables, as SQLAlchemy Core metadata.

Golden-record tables are generated from the canonical model: one table per
entity (nested single values flattened into columns), one child table per
repeating group. So the hub store is itself the shared, queryable database of
customers, products and employees. The bookkeeping tables (xref, checkpoints,
runs, quarantine, audit) are fixed.

The metadata is built for a schema *revision*: each Alembic migration creates
exactly what its revision added (``hub_metadata(1)`` is the store as migration
0001 created it), so a released migration never changes meaning.

Revision 2 (identity resolution) adds, per entity, a source layer
(``customer__source``: each system's own copy of a record, the input of
survivorship) and a history (``customer__history``: every superseded version),
record status, lineage and who changed it on the golden tables, the echo hash on
xref, and the match-key index, review queue and link log.

Revision 3 indexes when soft-deleted records fall due for purging, so the check each
ingest makes does not scan the whole golden table, and (on PostgreSQL) leaves free room
in the pages of the tables in :data:`UPDATED_IN_PLACE`.

Revision 4 adds ``audit_checkpoint``: signed checkpoints of the audit chain's head, which
anchor the chain against truncation and wholesale rewriting (docs/adr/0010).

Revision 6 adds ``hub_model``: the canonical model (built-in and declared entities) the
entity tables were last shaped for, so a changed model is noticed with one query and
applied by ``officehub store upgrade`` (docs/adr/0012).

Revision 7 adds ``field_flag``: the field-level data-quality flags of fields whose mapping says
``on_error: flag`` (the value that did not convert, kept beside a record that was stored without
it), and counts flagged and nulled fields per run.

Revision 8 stores a record that one system alone supplies once (docs/adr/0018): its golden
row carries that system's key and its copy's bookkeeping (``sole_*``), with no source row and
no cross-reference; the source layer holds copies only of records several systems supply.

Revision 9 adds the accounts of ``officehub serve`` (docs/adr/0022): ``hub_user`` (console users, their
roles and argon2 password hashes), ``api_token`` (applications' tokens, stored as digests), ``approval``
(changes a second person must sign off: policy changes, erasures) and ``hub_secret`` (the key that
signs session cookies when the configuration names none, shared by every server process).

Revision 10 indexes the fields the hub API's exact search compares, on every golden table that has
them: ``lower(contact__email)``, ``contact__phone``, ``tax_id__number`` and
``organisation__registration_number``.

Revision 5 gives each quarantine entry the vendor id of its record (null where the row had
no readable key), so a pipeline keeps one open entry per vendor record, and indexes it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

import sqlalchemy as sa
from sqlalchemy.dialects import mysql

from officehub.canonical_model import ENTITIES, CanonicalRecord, EntityLayout, LeafField, layout, model_cache
from officehub.canonical_model.layout import layout_of

ID = sa.String(36)
HASH = sa.String(64)
#: Microseconds on MariaDB/MySQL too (their DATETIME keeps whole seconds by default):
#: "most recent" survivorship compares these.
PRECISE_TIME = sa.DateTime(timezone=True).with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def _column(leaf: LeafField) -> sa.Column:
    from officehub.arrowsql.types import sql_type  # the one Arrow → SQL type table we keep

    return sa.Column(leaf.column, sql_type(leaf.arrow_type), nullable=True)


#: The newest schema revision this code builds (one per Alembic migration).
LATEST = 11


def golden_state_columns() -> list[sa.Column]:
    """Revision 2 columns of golden tables: status, lineage and what changed the record."""
    return [
        # active | deleted (soft, in its grace period) | purged | merged | erased
        sa.Column("status", sa.String(10), nullable=False, server_default="active"),
        sa.Column("merged_into", ID),
        sa.Column("deleted_at", sa.DateTime(timezone=True)),
        sa.Column("purge_after", sa.DateTime(timezone=True)),
        sa.Column("changed_by", sa.String(300)),
        sa.Column("run_id", sa.Integer),
        # JSON text (written by bulk COPY): {"fields": {top-level field: [system, vendor id]},
        # "conflicts": [fields two sources changed differently]}, when more than one source supplies it
        sa.Column("lineage", sa.Text),
    ]


def sole_columns() -> list[sa.Column]:
    """Revision 8 columns of golden tables: the key and copy bookkeeping of a record's only source system.

    Set only while one ingesting system supplies the record (the sole form of ADR 0018); empty
    once a second system's record is linked to it (the layered form, with source rows).
    """
    return [
        sa.Column("sole_system", sa.String(100)),
        sa.Column("sole_vendor_id", sa.String(200)),
        # when the system's values last changed (the source row's changed_at)
        sa.Column("sole_changed_at", PRECISE_TIME),
        # the last complete snapshot of the system that held the record (the source row's seen_run)
        sa.Column("sole_seen_run", sa.Integer),
        # what the hub last wrote to that system for the record (the echo hash of its xref)
        sa.Column("sole_sent_hash", HASH),
    ]


def sole_index(entity: str) -> sa.Index:
    """Revision 8: a system's record by its key, unique among sole-form records."""
    return sa.Index(f"uq_{entity}_sole", "sole_system", "sole_vendor_id", unique=True)


def _golden_table(metadata: sa.MetaData, lay: EntityLayout, revision: int) -> None:
    sa.Table(
        lay.entity, metadata,
        sa.Column("canonical_id", ID, primary_key=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("content_hash", HASH, nullable=False),
        sa.Column("change_seq", sa.BigInteger, nullable=False, index=True),
        sa.Column("schema_version", sa.Integer, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        *(_column(leaf) for leaf in lay.fields),
        *(golden_state_columns() if revision >= 2 else ()),
        *(sole_columns() if revision >= 8 else ()),
        comment=f"golden records: {lay.entity}",
    )
    if revision >= 8:
        metadata.tables[lay.entity].append_constraint(sole_index(lay.entity))
    if revision >= 2:
        _source_and_history(metadata, lay)
    if revision >= 3:
        metadata.tables[lay.entity].append_constraint(purge_index(lay.entity))
    if revision >= 10:
        exact_search_indexes(metadata.tables[lay.entity])  # each index attaches itself to the table
    for coll in lay.collections:
        sa.Table(
            child_table_name(lay.entity, coll.name), metadata,
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("canonical_id", ID, sa.ForeignKey(f"{lay.entity}.canonical_id"), nullable=False, index=True),
            sa.Column("system", sa.String(100), nullable=False),
            sa.Column("vendor_id", sa.String(200), nullable=False),
            sa.Column("content_hash", HASH, nullable=False),
            *(_column(leaf) for leaf in coll.fields),
            sa.UniqueConstraint("system", "vendor_id", name=f"uq_{lay.entity}_{coll.name}_source"),
            comment=f"repeating group {coll.name} of {lay.entity}",
        )


def _source_and_history(metadata: sa.MetaData, lay: EntityLayout) -> None:
    sa.Table(
        source_table_name(lay.entity), metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("system", sa.String(100), nullable=False),
        sa.Column("vendor_id", sa.String(200), nullable=False),
        sa.Column("canonical_id", ID, nullable=False, index=True),
        sa.Column("content_hash", HASH, nullable=False),
        # when this system's values last changed (not merely when they were read again)
        sa.Column("changed_at", PRECISE_TIME, nullable=False),
        sa.Column("run_id", sa.Integer),
        sa.Column("seen_run", sa.Integer),
        sa.Column("deleted_at", sa.DateTime(timezone=True)),
        *(_column(leaf) for leaf in lay.fields),
        sa.UniqueConstraint("system", "vendor_id", name=f"uq_{lay.entity}_source"),
        comment=f"each system's own copy of a {lay.entity}: the input of survivorship",
    )
    sa.Table(
        history_table_name(lay.entity), metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("canonical_id", ID, nullable=False, index=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("content_hash", HASH, nullable=False),
        sa.Column("change_seq", sa.BigInteger, nullable=False),
        sa.Column("schema_version", sa.Integer, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        *(_column(leaf) for leaf in lay.fields),
        *golden_state_columns(),
        comment=f"superseded versions of {lay.entity} golden records",
    )


#: Tables whose rows an incremental sync rewrites without changing an indexed column.
UPDATED_IN_PLACE = ("xref", *(f"{entity}__source" for entity in ENTITIES))


def purge_index(entity: str) -> sa.Index:
    """Revision 3: soft-deleted records by purge date (partial where the database allows it:
    only deleted records have one, so the index stays as small as the grace list)."""
    column = sa.column("purge_after")
    return sa.Index(f"ix_{entity}_purge_after", "purge_after",
                    postgresql_where=column.isnot(None), sqlite_where=column.isnot(None))


#: Revision 10: the columns the hub API's exact search compares (``hub_api.EXACT_FIELDS``), and the
#: name each one's index ends in. The e-mail is compared case-insensitively, so its index is on lower().
EXACT_SEARCH_COLUMNS = {"contact__email": "email_lower", "contact__phone": "phone", "tax_id__number": "tax_id",
                        "organisation__registration_number": "registration_number"}


#: MariaDB and MySQL index a text column by its first characters only (longer than any id or phone number).
_TEXT_PREFIX = 100


def exact_search_indexes(table: sa.Table) -> list[sa.Index]:
    """Revision 10: an index on each exact-search column ``table`` has (the e-mail's on ``lower(e-mail)``),
    so a search is a look-up at any size instead of a scan of the whole table.

    The e-mail's index is made on PostgreSQL only: MariaDB has no index on an expression, and on
    SQLite the hub replaces lower() with a Unicode-aware one (officehub.store.hub), which a
    connection without it (the sqlite3 shell) would not match — an index built on it would look
    inconsistent there. SQLite hubs are one machine's; their e-mail search reads the table.
    """
    indexes = []
    for column, suffix in EXACT_SEARCH_COLUMNS.items():
        if column not in table.c:
            continue
        name = f"ix_{table.name}_{suffix}"
        if suffix == "email_lower":
            indexes.append(sa.Index(name, sa.func.lower(table.c[column])).ddl_if(dialect="postgresql"))
        else:
            indexes.append(sa.Index(name, table.c[column], mysql_length=_TEXT_PREFIX, mariadb_length=_TEXT_PREFIX))
    return indexes


def source_table_name(entity: str) -> str:
    """Name of the table holding each system's own copy of ``entity`` records."""
    return f"{entity}__source"


def history_table_name(entity: str) -> str:
    """Name of the table holding superseded versions of ``entity`` golden records."""
    return f"{entity}__history"


def child_table_name(entity: str, collection: str) -> str:
    """Name of the child table holding ``entity``'s repeating group ``collection``."""
    return f"{entity}__{collection}"


def xref_revision2_columns() -> list[sa.Column]:
    """Revision 2 columns of xref: how the link was made, the echo hash, erasure."""
    return [
        # auto (a new record or a deterministic/fuzzy match), manual (a steward's link), publish
        sa.Column("linked_by", sa.String(100)),
        sa.Column("match_score", sa.Float),
        # hash of the canonical values the hub last wrote to this system for this record:
        # reading the same values back is an echo, not a change
        sa.Column("sent_hash", HASH),
        sa.Column("erased_at", sa.DateTime(timezone=True)),
    ]


def run_revision2_columns() -> list[sa.Column]:
    """Revision 2 columns of run: records deleted, and records linked to an existing golden record."""
    return [sa.Column("records_deleted", sa.BigInteger, nullable=False, server_default="0"),
            sa.Column("records_linked", sa.BigInteger, nullable=False, server_default="0")]


def _identity_tables(metadata: sa.MetaData) -> None:
    now = sa.func.current_timestamp()
    sa.Table(
        "match_key", metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("entity", sa.String(50), nullable=False),
        sa.Column("key", sa.String(100), nullable=False),
        sa.Column("value", sa.String(400), nullable=False),
        sa.Column("canonical_id", ID, nullable=False, index=True),
        sa.Index("ix_match_key_lookup", "entity", "key", "value"),
        comment="normalised match keys and blocks of golden records, for finding candidates",
    )
    sa.Table(
        "match_review", metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("entity", sa.String(50), nullable=False),
        sa.Column("canonical_id", ID, nullable=False, index=True),
        sa.Column("candidate_id", ID, nullable=False, index=True),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("evidence", sa.JSON, nullable=False),
        # pending | linked | rejected | obsolete
        sa.Column("status", sa.String(10), nullable=False, server_default="pending", index=True),
        sa.Column("run_id", sa.Integer),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=now),
        sa.Column("decided_at", sa.DateTime(timezone=True)),
        sa.Column("decided_by", sa.String(200)),
        comment="pairs the fuzzy rules scored between review_at and link_at, for a data steward",
    )
    sa.Table(
        "link_log", metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("entity", sa.String(50), nullable=False),
        sa.Column("action", sa.String(10), nullable=False),  # merge | unlink
        sa.Column("survivor_id", ID, nullable=False, index=True),
        sa.Column("other_id", ID, nullable=False, index=True),
        # what is needed to undo it: the xrefs moved, the other record's state before
        sa.Column("detail", sa.JSON, nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("undone_at", sa.DateTime(timezone=True)),
        comment="manual merges and unlinks, each reversible",
    )


def _bookkeeping(metadata: sa.MetaData, revision: int) -> None:
    now = sa.func.current_timestamp()
    sa.Table(
        "xref", metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("system", sa.String(100), nullable=False),
        sa.Column("entity", sa.String(50), nullable=False),
        sa.Column("vendor_id", sa.String(200), nullable=False),
        sa.Column("canonical_id", ID, nullable=False, index=True),
        sa.Column("record_hash", HASH),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=now),
        *(xref_revision2_columns() if revision >= 2 else ()),
        sa.UniqueConstraint("system", "entity", "vendor_id", name="uq_xref_source"),
    )
    if revision >= 2:
        _identity_tables(metadata)
    sa.Table(
        "change_counter", metadata,
        sa.Column("entity", sa.String(50), primary_key=True),
        sa.Column("value", sa.BigInteger, nullable=False),
    )
    sa.Table(
        "checkpoint", metadata,
        sa.Column("pipeline", sa.String(200), primary_key=True),
        sa.Column("cursor", sa.JSON, nullable=True),
        sa.Column("run_id", sa.Integer),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    sa.Table(
        "run", metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("pipeline", sa.String(200), nullable=False, index=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.Column("records_read", sa.BigInteger, nullable=False, default=0),
        sa.Column("records_written", sa.BigInteger, nullable=False, default=0),
        sa.Column("records_unchanged", sa.BigInteger, nullable=False, default=0),
        sa.Column("records_quarantined", sa.BigInteger, nullable=False, default=0),
        sa.Column("fields_redacted", sa.BigInteger, nullable=False, default=0),
        sa.Column("error", sa.Text),
        *(run_revision2_columns() if revision >= 2 else ()),
        *(run_revision7_columns() if revision >= 7 else ()),
    )
    sa.Table(
        "quarantine", metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.Integer, nullable=False, index=True),
        sa.Column("pipeline", sa.String(200), nullable=False, index=True),
        sa.Column("system", sa.String(100), nullable=False),
        sa.Column("stream", sa.String(200), nullable=False),
        sa.Column("position", sa.String(400), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("raw", sa.JSON, nullable=False),
        # open | resolved (the row later arrived valid) | superseded (the hub holds newer data) | replayed
        sa.Column("status", sa.String(20), nullable=False, server_default="open", index=True),
        sa.Column("resolved_run_id", sa.Integer),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=now),
        *(quarantine_revision5_columns() if revision >= 5 else ()),
    )
    if revision >= 5:
        metadata.tables["quarantine"].append_constraint(quarantine_record_index())
    sa.Table(
        "audit", metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("run_id", sa.Integer),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(100), nullable=False),
        sa.Column("subject", sa.String(400), nullable=False),
        sa.Column("detail", sa.JSON, nullable=False),
        sa.Column("prev_hash", HASH, nullable=False),
        sa.Column("hash", HASH, nullable=False, unique=True),
    )
    if revision >= 4:
        audit_checkpoint_table(metadata)
    if revision >= 6:
        hub_model_table(metadata)
    if revision >= 7:
        field_flag_table(metadata)
    if revision >= 9:
        account_tables(metadata)
    if revision >= 11:
        drift_tables(metadata)
        alert_tables(metadata)


def run_revision7_columns() -> list[sa.Column]:
    """Revision 7 columns of run: fields flagged, and fields nulled, because their value did not convert."""
    return [sa.Column("fields_flagged", sa.BigInteger, nullable=False, server_default="0"),
            sa.Column("fields_nulled", sa.BigInteger, nullable=False, server_default="0")]


def field_flag_table(metadata: sa.MetaData) -> sa.Table:
    """Revision 7: one open data-quality flag per (system, record, field) whose value did not convert."""
    return sa.Table(
        "field_flag", metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("entity", sa.String(50), nullable=False),
        sa.Column("system", sa.String(100), nullable=False),
        sa.Column("vendor_id", sa.String(200), nullable=False),
        sa.Column("field", sa.String(200), nullable=False),
        sa.Column("pipeline", sa.String(200), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        # the vendor's text as read, so a steward can fix it at the source (the hub's own table,
        # like the quarantine's raw rows; erased with the record)
        sa.Column("raw", sa.Text),
        sa.Column("run_id", sa.Integer),
        sa.Column("flagged_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("system", "entity", "vendor_id", "field", name="uq_field_flag"),
        comment="field values that did not convert, kept as data-quality flags beside the stored record",
    )


def account_tables(metadata: sa.MetaData) -> list[sa.Table]:
    """Revision 9: console users, API tokens, four-eyes approvals and the session-signing secret."""
    now = sa.func.current_timestamp()
    return [
        sa.Table(
            "hub_user", metadata,
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("login", sa.String(200), nullable=False, unique=True),
            sa.Column("display_name", sa.String(200)),
            sa.Column("email", sa.String(320)),
            sa.Column("roles", sa.JSON, nullable=False),
            # argon2id (argon2-cffi); null for a user who signs in only through single sign-on
            sa.Column("password_hash", sa.String(200)),
            # "issuer subject" of the OpenID provider's account, for single sign-on
            sa.Column("oidc_subject", sa.String(400), unique=True),
            sa.Column("status", sa.String(10), nullable=False, server_default="active"),  # active | disabled
            sa.Column("must_change_password", sa.Boolean, nullable=False, server_default=sa.false()),
            # raised when the password changes or the user is disabled: every earlier session ends
            sa.Column("session_version", sa.Integer, nullable=False, server_default="1"),
            sa.Column("failed_logins", sa.Integer, nullable=False, server_default="0"),
            sa.Column("locked_until", sa.DateTime(timezone=True)),
            sa.Column("last_login_at", sa.DateTime(timezone=True)),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=now),
            sa.Column("created_by", sa.String(200), nullable=False),
            comment="people who sign in to the console, with their roles",
        ),
        sa.Table(
            "api_token", metadata,
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("client", sa.String(100), nullable=False, index=True),
            sa.Column("name", sa.String(200), nullable=False),
            sa.Column("prefix", sa.String(20), nullable=False),  # shown in lists, never enough to use
            sa.Column("digest", HASH, nullable=False, unique=True),  # sha256 of the whole token
            sa.Column("scopes", sa.JSON, nullable=False),
            sa.Column("expires_at", sa.DateTime(timezone=True)),
            sa.Column("revoked_at", sa.DateTime(timezone=True)),
            sa.Column("last_used_at", sa.DateTime(timezone=True)),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=now),
            sa.Column("created_by", sa.String(200), nullable=False),
            comment="applications' API tokens, stored as digests",
        ),
        sa.Table(
            "approval", metadata,
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("kind", sa.String(50), nullable=False),      # policy.change | subject.erase
            sa.Column("subject", sa.String(400), nullable=False),
            # what takes effect on sign-off: a policy document's text, or the record to erase (ids, no values)
            sa.Column("payload", sa.JSON, nullable=False),
            sa.Column("reason", sa.Text, nullable=False),
            # pending | approved | rejected | withdrawn | failed
            sa.Column("status", sa.String(10), nullable=False, server_default="pending", index=True),
            sa.Column("proposed_by", sa.String(200), nullable=False),
            sa.Column("proposed_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("decided_by", sa.String(200)),
            sa.Column("decided_at", sa.DateTime(timezone=True)),
            sa.Column("outcome", sa.JSON),
            comment="changes that take effect only when a second person signs them off",
        ),
        sa.Table(
            "hub_secret", metadata,
            sa.Column("name", sa.String(100), primary_key=True),
            sa.Column("value", sa.String(200), nullable=False),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=now),
            comment="the session-signing key when the configuration names none",
        ),
    ]


def quarantine_revision5_columns() -> list[sa.Column]:
    """Revision 5 column of quarantine: the vendor id of the record (null where no key was readable)."""
    return [sa.Column("vendor_id", sa.String(200))]


def quarantine_record_index() -> sa.Index:
    """Revision 5: open entries by pipeline and vendor record, looked up on every ingest batch."""
    return sa.Index("ix_quarantine_record", "pipeline", "vendor_id", "status")


def hub_model_table(metadata: sa.MetaData) -> sa.Table:
    """Revision 6: each model the store's entity tables were shaped for, newest last (docs/adr/0012)."""
    return sa.Table(
        "hub_model", metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("fingerprint", HASH, nullable=False),   # sha256 of the declarations below
        sa.Column("declarations", sa.JSON, nullable=False),  # every entity's declaration, built-ins included
        sa.Column("changes", sa.JSON, nullable=False),    # what applying it did to the tables (names only)
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("applied_by", sa.String(200), nullable=False),
        comment="the canonical models the entity tables were shaped for",
    )


def audit_checkpoint_table(metadata: sa.MetaData) -> sa.Table:
    """Revision 4: signed checkpoints of the audit chain's head (the signature covers every other column)."""
    return sa.Table(
        "audit_checkpoint", metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("entry_id", sa.Integer, nullable=False, index=True),  # the head entry when it was signed
        sa.Column("entries", sa.BigInteger, nullable=False),            # how many entries the chain held then
        sa.Column("head", HASH, nullable=False),
        sa.Column("key_id", sa.String(100), nullable=False),            # fingerprint of the public key
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("signature", sa.String(100), nullable=False),         # Ed25519, base64
        comment="signed checkpoints of the audit chain's head",
    )


def drift_tables(metadata: sa.MetaData) -> list[sa.Table]:
    """Revision 11: what each source stream offered when last read, and every change seen in it (schema drift)."""
    now = sa.func.current_timestamp()
    return [
        sa.Table(
            "stream_schema", metadata,
            sa.Column("system", sa.String(100), primary_key=True),
            sa.Column("stream", sa.String(200), primary_key=True),
            sa.Column("columns", sa.JSON, nullable=False, comment="[{name, type}] as discovered"),
            sa.Column("fingerprint", HASH, nullable=False),
            sa.Column("run_id", sa.Integer),
            # when this record last changed (a run that finds the same columns leaves it as it is)
            sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False, server_default=now),
        ),
        sa.Table(
            "schema_change", metadata,
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("system", sa.String(100), nullable=False),
            sa.Column("stream", sa.String(200), nullable=False),
            sa.Column("pipeline", sa.String(200)),
            sa.Column("run_id", sa.Integer, index=True),
            sa.Column("kind", sa.String(20), nullable=False, comment="added | removed | renamed | retyped"),
            sa.Column("column_name", sa.String(200), nullable=False),
            sa.Column("detail", sa.JSON, nullable=False, comment="types, the old name; never a value"),
            sa.Column("handling", sa.String(20), nullable=False, comment="evolve | freeze | quarantine"),
            sa.Column("special_category", sa.String(50), comment="the class a new column looks like, if any"),
            sa.Column("at", sa.DateTime(timezone=True), nullable=False, server_default=now),
        ),
    ]


def alert_tables(metadata: sa.MetaData) -> list[sa.Table]:
    """Revision 11: open and past incidents of the alert rules, so each incident is sent once."""
    return [
        sa.Table(
            "alert_incident", metadata,
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("rule", sa.String(100), nullable=False),
            sa.Column("subject", sa.String(400), nullable=False, comment="what it is about: a pipeline, agreement, site"),
            sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("closed_at", sa.DateTime(timezone=True)),
            sa.Column("sent_at", sa.DateTime(timezone=True), comment="when every channel had the opening message"),
            sa.Column("resolved_sent_at", sa.DateTime(timezone=True),
                      comment="when every channel had the message that the condition cleared"),
            sa.Column("detail", sa.JSON, nullable=False, comment="ids, counts, reasons; never a value"),
            sa.Index("ix_alert_incident_open", "rule", "subject", "closed_at"),
        ),
    ]


@model_cache
def hub_metadata(revision: int = LATEST) -> sa.MetaData:
    """All hub-store tables for the canonical model in force, as of schema ``revision``."""
    metadata = sa.MetaData()
    _bookkeeping(metadata, revision)
    for entity in ENTITIES:
        _golden_table(metadata, layout(entity), revision)
    return metadata


def entity_tables_of(models: Iterable[type[CanonicalRecord]]) -> list[sa.Table]:
    """The entity tables (golden, source, history, child) that ``models`` call for, newest revision."""
    metadata = sa.MetaData()
    for model in models:
        _golden_table(metadata, layout_of(model), LATEST)
    return list(metadata.tables.values())


class _Tables(Mapping[str, sa.Table]):
    """The newest revision's tables by name, for the model in force when a table is asked for.

    Modules keep this at import time; a model installed later (a project's own entities)
    is still seen, where a copy of ``hub_metadata().tables`` would not.
    """

    def __getitem__(self, name: str) -> sa.Table:
        return hub_metadata().tables[name]

    def __iter__(self) -> Iterator[str]:
        return iter(hub_metadata().tables)

    def __len__(self) -> int:
        return len(hub_metadata().tables)


#: The hub store's tables by name (see :class:`_Tables`).
TABLES: Mapping[str, sa.Table] = _Tables()
