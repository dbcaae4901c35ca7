"""Our harnesses for the connector contract (officehub.connectors.contract): one real system per kind.

SQLite, PostgreSQL and MariaDB (sql), a local drop folder (files), an OpenSSH server
(sftp), an HTTP vendor API (rest) and a peer site (site), each real and on loopback or in
the test's folder. Except for the site, the connectors are configured as the hub configures
them: from officehub.yaml settings, through the entry point of their type.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import socket
import sqlite3
from collections.abc import Mapping
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import sqlalchemy as sa
import yaml

from officehub.canonical_model.errors import FatalError, RetriableError
from officehub.config import SystemConfig
from officehub.config.site_settings import load_settings
from officehub.connectors import Connector, ReadOptions, WriteMode, connector_class
from officehub.connectors.api_inbox import ApiInboxConnector
from officehub.connectors.contract import ContractHarness, ErrorCase, Row
from officehub.connectors.files import FilesConnector
from officehub.connectors.rest import RestConnector
from officehub.connectors.sftp import SftpConnector
from officehub.connectors.sql import SqlConnector
from officehub.sites.bundle import file_name
from officehub.sites.connector import SiteConfig, SiteConnector
from officehub.sites.keys import init_site, public_card
from officehub.sites.peers import add_peer, revoke_peer
from officehub.sites.settings import SitePaths, site_paths
from tests.conftest import ROOT
from tests.leak_scan import register_secret

STREAM = ContractHarness.stream
OUT = ContractHarness.out_stream


def closed_port() -> int:
    """A loopback TCP port nothing listens on: connecting to it is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _as_text(records: list[Row]) -> list[Row]:
    return [{k: None if v is None else str(v) for k, v in r.items()} for r in records]


class HubHarness(ContractHarness):
    """A harness whose connector is made as the hub makes it: settings from officehub.yaml, class by entry point."""

    def connector(self, settings: Mapping[str, Any] | None = None) -> Connector:
        own = SystemConfig.model_validate(dict(self.settings() if settings is None else settings)).connector_settings()
        cls = connector_class(own["type"])
        assert cls is self.connector_class, f"type {own['type']!r} is registered as {cls.__name__}"
        return cls(self.system, cls.Config.model_validate(own), self.base_dir)


class SqlHarness(HubHarness):
    """A database table; subclasses say which database."""

    connector_class = SqlConnector

    def __init__(self, base_dir: Path, request: pytest.FixtureRequest) -> None:
        super().__init__(base_dir, request)
        self.url = self.database_url()
        self.engine = sa.create_engine(self.url)
        meta = sa.MetaData()
        self.table = sa.Table(STREAM, meta, sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
                              sa.Column("name", sa.String(100)), sa.Column("email", sa.String(100)),
                              sa.Column("updated_at", sa.String(30)))
        meta.create_all(self.engine)

    def database_url(self) -> str:
        """The URL of an empty database for this test."""
        raise NotImplementedError

    def settings(self) -> dict[str, Any]:
        return {"type": "sql", "url": self.url}

    def seed(self, records: list[Row]) -> None:
        with self.engine.begin() as conn:
            conn.execute(sa.insert(self.table), records)

    def change(self, records: list[Row]) -> None:
        with self.engine.begin() as conn:
            conn.execute(sa.delete(self.table).where(self.table.c.id.in_([r["id"] for r in records])))
            conn.execute(sa.insert(self.table), records)

    def written(self) -> list[Row]:
        with self.engine.connect() as conn:
            out = sa.Table(OUT, sa.MetaData(), autoload_with=conn)
            return _as_text([dict(r._mapping) for r in conn.execute(sa.select(out).order_by(out.c.id))])

    def position_of(self, record_id: int, ordinal: int) -> str:
        return f"row {record_id}"

    def server_cases(self, refused_user: str, password: str) -> list[ErrorCase]:
        """A server that is down (retriable) and one that refuses the login (fatal, the password unseen)."""
        (self.base_dir / "db.password").write_text(register_secret(password, "database password"))
        url = sa.make_url(self.url)
        down = url.set(port=closed_port()).render_as_string(hide_password=False)
        refused = url.set(username=refused_user).render_as_string(hide_password=False)
        return [
            ErrorCase("the server is down", RetriableError, {"type": "sql", "url": down, "connect_timeout_s": 5}),
            ErrorCase("the server refuses the login", FatalError,
                      {"type": "sql", "url": refused, "password": {"file": "db.password"}}, secret=password),
        ]

    def close(self) -> None:
        self.engine.dispose()


class SqliteHarness(SqlHarness):
    """A table in a SQLite file."""

    def database_url(self) -> str:
        return f"sqlite:///{self.base_dir / 'vendor.db'}"

    def error_cases(self) -> list[ErrorCase]:
        self._locker: sqlite3.Connection | None = None

        def lock() -> None:
            # Another program writing: it holds the database's exclusive lock past the connector's timeout.
            self._locker = sqlite3.connect(self.base_dir / "vendor.db", isolation_level=None)
            self._locker.execute("BEGIN EXCLUSIVE")

        return [
            ErrorCase("the database file does not exist", FatalError,
                      {"type": "sql", "url": f"sqlite:///{self.base_dir / 'missing.db'}"}),
            ErrorCase("another program holds the database locked", RetriableError,
                      {"type": "sql", "url": self.url, "connect_timeout_s": 1}, call="read", prepare=lock),
        ]

    def close(self) -> None:
        if getattr(self, "_locker", None) is not None:
            self._locker.close()
        super().close()


class PostgresHarness(SqlHarness):
    """A table in a fresh PostgreSQL database."""

    def database_url(self) -> str:
        return self.request.getfixturevalue("postgres_url")

    def error_cases(self) -> list[ErrorCase]:
        return self.server_cases("officehub_nobody", "pg-Sup3rSecret-password")


class MariadbHarness(SqlHarness):
    """A table in a fresh MariaDB database."""

    def database_url(self) -> str:
        return self.request.getfixturevalue("mariadb_url")

    def error_cases(self) -> list[ErrorCase]:
        return self.server_cases("root", "maria-Sup3rSecret-password")


FILE_STREAMS = {
    STREAM: {"pattern": "contacts_*.csv", "format": "csv"},
    OUT: {"pattern": "out_*.csv", "format": "csv", "write_name": "out_{batch_id}.csv"},
}


class FilesHarness(HubHarness):
    """A drop folder of CSV files: new and changed records arrive in new files."""

    connector_class = FilesConnector

    def __init__(self, base_dir: Path, request: pytest.FixtureRequest, folder: Path | None = None) -> None:
        super().__init__(base_dir, request)
        self.folder = folder or base_dir / "drop"
        self.folder.mkdir(parents=True, exist_ok=True)
        self.files = 0

    def settings(self) -> dict[str, Any]:
        return {"type": "files", "path": "drop", "streams": FILE_STREAMS}

    def seed(self, records: list[Row]) -> None:
        self.files += 1
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(records[0]))
        writer.writeheader()
        writer.writerows(records)
        (self.folder / f"contacts_{self.files:04d}.csv").write_text(buffer.getvalue(), encoding="utf-8")

    def position_of(self, record_id: int, ordinal: int) -> str:
        return f"contacts_0001.csv:{ordinal + 2}"  # line 1 is the header

    def written(self) -> list[Row]:
        found = []
        for path in sorted(self.folder.glob("out_*.csv")):
            found += list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
        return sorted(_as_text(found), key=lambda r: int(r["id"]))

    def error_cases(self) -> list[ErrorCase]:
        return [ErrorCase("the folder does not exist", FatalError,
                          {"type": "files", "path": "unmounted", "streams": FILE_STREAMS})]


class ApiInboxHarness(HubHarness):
    """Submissions of an application through the hub API: JSON Lines files in the system's inbox."""

    connector_class = ApiInboxConnector

    def __init__(self, base_dir: Path, request: pytest.FixtureRequest) -> None:
        super().__init__(base_dir, request)
        self.submissions = 0

    def settings(self) -> dict[str, Any]:
        return {"type": "api", "streams": [STREAM]}

    def seed(self, records: list[Row]) -> None:
        self.submissions += 1
        inbox = self.base_dir / ".officehub" / "api-inbox" / self.system
        inbox.mkdir(parents=True, exist_ok=True)
        body = "".join(json.dumps(r) + "\n" for r in records)
        (inbox / f"{STREAM}-{self.submissions:020d}.jsonl").write_text(body, encoding="utf-8")

    def position_of(self, record_id: int, ordinal: int) -> str:
        return f"{STREAM}-{1:020d}.jsonl:{ordinal + 1}"

    def written(self) -> list[Row]:
        return []  # an api system is never written to

    def error_cases(self) -> list[ErrorCase]:
        (self.base_dir / "not-a-folder").write_text("a file where the inbox folder should be")
        return [ErrorCase("the inbox folder cannot be made", FatalError,
                          {"type": "api", "streams": [STREAM], "folder": "not-a-folder"})]


class SftpHarness(FilesHarness):
    """The same drop folder, on a real OpenSSH server reached over SFTP with a verified host key."""

    connector_class = SftpConnector

    def __init__(self, base_dir: Path, request: pytest.FixtureRequest) -> None:
        from tests.integration.sshd import running_sshd

        self._stack = ExitStack()
        self.server = self._stack.enter_context(running_sshd(base_dir / "sshd"))
        super().__init__(base_dir, request, self.server.files / "drop")

    def settings(self) -> dict[str, Any]:
        server = self.server
        return {"type": "sftp", "host": "127.0.0.1", "port": server.port, "username": server.user,
                "private_key": str(server.user_key), "known_hosts": str(server.known_hosts()),
                "folder": str(self.folder), "streams": FILE_STREAMS, "connect_timeout_s": 5}

    def error_cases(self) -> list[ErrorCase]:
        password = register_secret("sftp-Sup3rSecret-password", "SSH password")
        (self.base_dir / "sftp.password").write_text(password)
        by_password = {k: v for k, v in self.settings().items() if k != "private_key"}
        return [
            ErrorCase("the server is down", RetriableError, {**self.settings(), "port": closed_port()}),
            ErrorCase("the server's host key is not the pinned one", FatalError,
                      {**{k: v for k, v in self.settings().items() if k != "known_hosts"},
                       "host_key_fingerprint": "SHA256:" + "A" * 43}),
            ErrorCase("the server refuses the password", FatalError,
                      {**by_password, "password": {"file": "sftp.password"}}, secret=password),
        ]

    def close(self) -> None:
        self._stack.close()


class RestHarness(HubHarness):
    """The contacts endpoint of the test CRM vendor API (a real HTTP server on loopback)."""

    connector_class = RestConnector

    def __init__(self, base_dir: Path, request: pytest.FixtureRequest) -> None:
        from tests.integration.vendor_api import CRM, CRM_KEY, VendorApi

        super().__init__(base_dir, request)
        self.api = VendorApi().start()
        (base_dir / "crm.key").write_text(CRM_KEY)
        acme = yaml.safe_load((ROOT / "examples" / "rest" / "acme_crm.yaml").read_text())["systems"]["acme_crm"]
        acme.update(base_url=self.api.url + CRM, retries={"max_attempts": 3, "backoff_s": 0.01},
                    auth={**acme["auth"], "key": {"file": "crm.key"}})
        acme["streams"][OUT] = {**acme["streams"][STREAM]}
        acme["streams"][STREAM]["pagination"]["page_size"] = 3
        self._settings = acme

    def settings(self) -> dict[str, Any]:
        return self._settings

    def seed(self, records: list[Row]) -> None:
        with self.api.lock:
            for record in records:
                self.api.contacts[record["id"]] = dict(record)

    def position_of(self, record_id: int, ordinal: int) -> str:
        return f"key {record_id}"

    def written(self) -> list[Row]:
        with self.api.lock:
            stored = [dict(c) for c in self.api.contacts.values()]
        return sorted(_as_text([{k: c.get(k) for k in ("id", "name", "email")} for c in stored]),
                      key=lambda r: int(r["id"]))

    def error_cases(self) -> list[ErrorCase]:
        wrong = register_secret("crm-Wr0ngSecret-apikey", "api key")
        (self.base_dir / "wrong.key").write_text(wrong)
        down = self.api.url.rsplit(":", 1)[0] + f":{closed_port()}"
        return [
            ErrorCase("the API is unreachable", RetriableError,
                      {**self._settings, "base_url": self._settings["base_url"].replace(self.api.url, down)}),
            ErrorCase("the API refuses the key", FatalError,
                      {**self._settings, "auth": {**self._settings["auth"], "key": {"file": "wrong.key"}}},
                      secret=wrong),
        ]

    def close(self) -> None:
        self.api.stop()


#: The two sites of the site harness: this hub, and the peer its connector reaches.
HERE, PEER = "kyiv", "lviv"
PASSPHRASE = register_secret("site passphrase for the contract tests", "site passphrase")


class SiteHarness(ContractHarness):
    """This hub's link to a peer site, both in the test's folder; bundles are carried as the exchange would.

    The source is this site's inbox from the peer, filled by the peer's own site connector;
    the destination is the peer, which applies this site's outbox by canonical id.
    """

    connector_class = SiteConnector
    stream = out_stream = "customer"
    columns = {"id": "canonical_id", "name": "name__last", "email": "contact__email"}
    system = PEER
    #: Records per bundle the peer seals, so that a read has several batches.
    bundle_records = 2

    def __init__(self, base_dir: Path, request: pytest.FixtureRequest) -> None:
        super().__init__(base_dir, request)
        self.peer_dir = base_dir / "peer"
        self.here, self.peer = self._site(base_dir, HERE), self._site(self.peer_dir, PEER)
        add_peer(self.here, public_card(self.peer))
        add_peer(self.peer, public_card(self.here))
        self.delivered: dict[str, bytes] = {}  # bundles carried to this site's inbox, by name
        self.carried_out: set[str] = set()
        self.sent = 0
        self.peer_cursor: dict | None = None
        self.peer_holds: dict[str, Row] = {}

    @staticmethod
    def _site(folder: Path, name: str) -> SitePaths:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "site.passphrase").write_text(PASSPHRASE)
        (folder / "officehub.yaml").write_text(yaml.safe_dump(
            {"sites": {"name": name, "folder": "site", "passphrase": {"file": "site.passphrase"}}}))
        paths = site_paths(load_settings(folder), folder)
        init_site(paths, name, PASSPHRASE.encode())
        return paths

    def settings(self) -> dict[str, Any]:
        return {"type": "site"}

    def batch(self, records: list[Row]) -> pa.RecordBatch:
        return pa.RecordBatch.from_pydict({
            "canonical_id": pa.array([str(r["id"]) for r in records], pa.string()),
            "name__last": pa.array([r["name"] for r in records], pa.string()),
            "contact__email": pa.array([r["email"] for r in records], pa.string())})

    def seed(self, records: list[Row]) -> None:
        """The peer publishes ``records`` to this site; its bundles arrive in this site's inbox."""
        with SiteConnector(HERE, SiteConfig(), self.peer_dir) as sender:
            for start in range(0, len(records), self.bundle_records):
                self.sent += 1
                sender.write(self.stream, self.batch(records[start:start + self.bundle_records]), WriteMode.UPSERT,
                             key=self.key, batch_id=f"peer-{self.sent}")
        inbox = self.here.inbox(PEER)
        for bundle in sorted(self.peer.outbox(HERE).glob("*.ohb")):
            if bundle.name not in self.delivered:
                self.delivered[bundle.name] = bundle.read_bytes()
                shutil.copyfile(bundle, inbox / bundle.name)

    def rewind(self) -> None:
        """Deliver every bundle again, as a resent upload would: those applied already are dropped."""
        for name, content in self.delivered.items():
            (self.here.inbox(PEER) / name).write_bytes(content)

    def position_of(self, record_id: int, ordinal: int) -> str:
        seq, row = divmod(ordinal, self.bundle_records)
        return f"{file_name(PEER, seq + 1)}:{row + 1}"

    def written(self) -> list[Row]:
        """What the peer holds once it applied every bundle this site sealed for it."""
        for bundle in sorted(self.here.outbox(PEER).glob("*.ohb")):
            if bundle.name not in self.carried_out:
                self.carried_out.add(bundle.name)
                shutil.copyfile(bundle, self.peer.inbox(HERE) / bundle.name)
        with SiteConnector(HERE, SiteConfig(), self.peer_dir) as receiver:
            for read in receiver.read(self.stream, self.peer_cursor, ReadOptions(key=self.key)):
                for row in read.batch.to_pylist():
                    self.peer_holds[row["canonical_id"]] = {"id": row["canonical_id"], "name": row["name__last"],
                                                            "email": row["contact__email"]}
                self.peer_cursor = read.cursor
        return sorted(self.peer_holds.values(), key=lambda r: int(r["id"]))

    def error_cases(self) -> list[ErrorCase]:
        def gap() -> None:
            self.seed([{"id": i, "name": f"Contact {i}", "email": f"c{i}@example.org"} for i in range(1, 5)])
            (self.here.inbox(PEER) / file_name(PEER, 1)).unlink()

        return [
            ErrorCase("a bundle is missing from the chain past the gap timeout", RetriableError,
                      {"type": "site", "gap_timeout_s": 0}, call="read", prepare=gap),
            ErrorCase("the peer's keys are revoked", FatalError, prepare=lambda: revoke_peer(self.here, PEER)),
        ]
