"""The ``site`` connector: a peer site as a system of this hub.

Publishing to a site seals each policed batch into bundles in the local outbox; ingesting from
a site reads verified bundles from the local inbox. Moving bundles between the sites is the
separate exchange step (``officehub site exchange``), so a publish or an ingest never waits
on the WAN.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from functools import cached_property

import pyarrow as pa
from pydantic import Field

from officehub.canonical_model import ENTITIES, SCHEMA_VERSION, layout
from officehub.canonical_model.errors import FatalError
from officehub.canonical_model.layout import COLUMN_SEPARATOR
from officehub.config.site_settings import load_settings
from officehub.connectors import (
    Connector,
    ConnectorConfig,
    Cursor,
    ReadBatch,
    ReadOptions,
    RejectedRow,
    StreamField,
    StreamInfo,
    WriteMode,
)
from officehub.connectors.base import Capabilities
from officehub.connectors.formats import FileStream
from officehub.connectors.sftp.config import SftpConfig
from officehub.mapping.spec import HUB_COLUMNS
from officehub.sites.bundle import BundleRejected, encode_batch
from officehub.sites.inbox import InboundLink, Received
from officehub.sites.keys import SiteIdentity, load_identity
from officehub.sites.outbox import Outbox
from officehub.sites.peers import trusted_card
from officehub.sites.settings import SitePaths, site_paths

MIB = 1 << 20
#: Room for the header, the GCM tag and the signature around a payload.
ENVELOPE_BYTES = 4096


class ExchangeSftp(SftpConfig):
    """How to reach the peer's exchange folder over SFTP (the sftp connector's settings, no streams)."""

    type: str = "sftp"
    streams: dict[str, FileStream] = {}


class SiteConfig(ConnectorConfig):
    """A peer site: how to reach it, and the limits of the link."""

    type: str = "site"
    sftp: ExchangeSftp | None = Field(None, description="the peer's SFTP server; 'folder' is its exchange folder")
    max_bundle_mib: float = Field(16, gt=0, le=1024, description="largest bundle file; a big batch becomes many")
    gap_timeout_s: float = Field(3600, ge=0, description="how long a missing bundle is waited for before reporting")
    exchange_schedule: str | None = Field("*/5 * * * *", description="cron of the exchange DAG (Airflow)")
    retries: int = Field(5, ge=0, le=100, description="reconnects per exchange when the link drops")
    retry_backoff_s: float = Field(2, ge=0, description="first wait before a reconnect; doubles, at most 60 s")


def _entity(site: str, stream: str) -> str:
    if stream not in ENTITIES:
        raise FatalError(f"site streams are named after canonical entities ({', '.join(sorted(ENTITIES))})",
                         system=site, stream=stream)
    return stream


def split_to_fit(batch: pa.RecordBatch, limit: int, where: str) -> list[tuple[bytes, int]]:
    """Encoded slices of ``batch`` that each fit in a bundle of at most ``limit`` bytes."""
    payload = encode_batch(batch)
    if len(payload) + ENVELOPE_BYTES <= limit:
        return [(payload, batch.num_rows)]
    if batch.num_rows <= 1:
        raise FatalError(f"{where}: one record is larger than max_bundle_mib allows; raise it")
    pieces = max(2, math.ceil(len(payload) / max(1, limit - ENVELOPE_BYTES) * 1.1))
    step = math.ceil(batch.num_rows / pieces)
    return [part for start in range(0, batch.num_rows, step)
            for part in split_to_fit(batch.slice(start, step), limit, where)]


class SiteConnector(Connector):
    """A peer site, reached through bundles in the local outbox and inbox."""

    Config = SiteConfig
    config: SiteConfig
    # Every batch is sealed into bundles the peer applies by canonical id, whatever the mode; deletes
    # are not carried yet (ADR 0005). The cursor is the last bundle applied, not a field.
    capabilities = Capabilities(write_modes={WriteMode.APPEND, WriteMode.UPSERT}, deletes=False,
                                incremental=True, cursor_field=False)
    # A bundle is acknowledged and leaves the inbox when the next is asked for: asked ahead of the
    # commit, a kill in between would acknowledge bundles the hub store never got (lost for good).
    read_ahead = False

    @cached_property
    def paths(self) -> SitePaths:
        """This site's folder."""
        return site_paths(load_settings(self.base_dir), self.base_dir)

    @cached_property
    def identity(self) -> SiteIdentity:
        """This site's unlocked keys."""
        settings = load_settings(self.base_dir)
        passphrase = settings.passphrase.resolve(self.base_dir).get_secret_value().encode()
        return load_identity(self.paths, passphrase)

    def check(self) -> None:
        """The site's keys unlock and the peer is registered with keys we trust."""
        trusted_card(self.paths, self.name)
        _ = self.identity

    def discover(self) -> list[StreamInfo]:
        """One stream per canonical entity, with its flat columns."""
        return [StreamInfo(entity, (StreamField("canonical_id", "string", False),
                                    *(StreamField(f.column, str(f.arrow_type)) for f in layout(entity).fields)),
                           primary_key=("canonical_id",), kind="bundles")
                for entity in sorted(ENTITIES)]

    def write(self, stream: str, batch: pa.RecordBatch, mode: WriteMode, *, key: tuple[str, ...],
              batch_id: str) -> int:
        """Seal ``batch`` into bundles for the peer (a batch id already queued is not queued twice)."""
        _entity(self.name, stream)
        if mode is WriteMode.DELETE:
            raise FatalError("deletes are not carried to sites yet", system=self.name, stream=stream)
        if batch.num_rows == 0:
            return 0
        parts = split_to_fit(batch, int(self.config.max_bundle_mib * MIB), f"site '{self.name}' batch {batch_id}")
        card = trusted_card(self.paths, self.name)
        Outbox(self.paths, self.identity.name, self.name).add(self.identity, card, stream, batch_id, parts)
        return batch.num_rows

    def read(self, stream: str, cursor: Cursor | None, options: ReadOptions) -> Iterator[ReadBatch]:
        """Verified bundles of ``stream`` that follow ``cursor``, one batch per bundle, in chain order."""
        entity = _entity(self.name, stream)
        link = InboundLink(self.paths, self.identity, self.name)
        after = int((cursor or {}).get("seq", 0))
        plan = link.plan(stream, after)
        link.dropped(plan.duplicates)
        if plan.rejects:
            yield ReadBatch(pa.RecordBatch.from_pylist([]), [], cursor, [_reject(i, r) for i, r in plan.rejects])
            link.quarantined(plan.rejects)  # the quarantine rows are committed: now move the files
        for item in plan.chain:
            self._schema_supported(item)
            try:
                opened = link.open(item)
            except BundleRejected as exc:
                yield ReadBatch(pa.RecordBatch.from_pylist([]), [], cursor, [_reject(item, exc.reason)])
                link.quarantined([(item, exc.reason)])
                return  # the rest of the chain waits for a good copy of this bundle
            cursor = {"seq": item.header.seq}
            yield ReadBatch(_complete(opened.batch, entity, self.name, item.name), [f"{item.name}:{i + 1}" for i in
                                                              range(opened.batch.num_rows)], cursor)
            link.applied(item)  # resumed only once the engine committed the batch with the cursor
        link.check_gap(stream, int((cursor or {}).get("seq", 0)), plan.waiting, self.config.gap_timeout_s)

    def _schema_supported(self, item: Received) -> None:
        if item.header.schema_version > SCHEMA_VERSION:
            raise FatalError(f"bundle uses canonical schema version {item.header.schema_version}, this hub knows "
                             f"{SCHEMA_VERSION}: upgrade officehub here", system=self.name, position=item.name)


def _reject(item: Received, reason: str) -> RejectedRow:
    """A quarantine entry for a bundle: where, why, and its routing header only — never record values."""
    raw = item.header.safe_summary() if item.header is not None else {}
    return RejectedRow(position=item.name, reason=f"bundle rejected: {reason}", raw={"bundle": item.name, **raw})


def _complete(batch: pa.RecordBatch, entity: str, site: str, where: str) -> pa.RecordBatch:
    """Add fields the sender's policy withheld, as empty columns, so the mapping finds every column.

    A field this hub's model does not have means the sites' models differ: dropping its
    values silently would lose data, so the bundle waits (FatalError naming the fields)
    until this site's model files have the field and the store is upgraded.
    """
    fields = layout(entity).fields
    known = {leaf.column for leaf in fields} | set(HUB_COLUMNS)
    unknown = sorted(name.replace(COLUMN_SEPARATOR, ".") for name in batch.schema.names if name not in known)
    if unknown:
        raise FatalError(f"the bundle carries {entity} field(s) this hub's model does not have: {', '.join(unknown)} "
                         "(the sites' models differ: add them to this site's model files and run 'officehub store "
                         "upgrade'; the bundle waits and is applied then)", system=site, position=where)
    columns = {name: batch.column(name) for name in batch.schema.names}
    for leaf in fields:
        if leaf.column not in columns:
            columns[leaf.column] = pa.nulls(batch.num_rows, leaf.arrow_type)
    return pa.RecordBatch.from_pydict(columns)
