"""One harness per connector kind: how to put test records into a real system and read them back.

The contract suite runs the same checks through every harness; a new connector
joins the suite by adding a harness here.
"""

from __future__ import annotations

import csv
import io
from abc import ABC, abstractmethod
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import yaml

from officehub.config import SystemConfig
from officehub.connectors import Connector, ReadOptions, connector_class
from tests.conftest import ROOT

#: The test records: a key, two fields and a change time that grows.
Row = dict[str, Any]
STREAM = "contacts"
OUT = "contacts_out"


def stamp(minute: int) -> str:
    """A change time as vendors write it (ISO 8601, UTC)."""
    return f"2026-11-01T{10 + minute // 60:02d}:{minute % 60:02d}:00Z"


def rows(ids: range, minute: int = 0, tag: str = "") -> list[Row]:
    """Contacts with ids ``ids``; pairs share a change time so ties cross batch boundaries."""
    return [{"id": i, "name": f"Contact {i}{tag}", "email": f"c{i}@example.org", "updated_at": stamp(minute + i // 2)}
            for i in ids]


class Harness(ABC):
    """A real system of one connector kind, with test records in it."""

    kind: str
    supports_delete = True
    #: Whether changed records come back by cursor (else: new files only).
    cursor_field: str | None = "updated_at"

    def __init__(self, base_dir: Path) -> None:
        self.base_dir = base_dir

    @abstractmethod
    def settings(self) -> dict[str, Any]:
        """The system's settings as they would stand in officehub.yaml."""

    @abstractmethod
    def seed(self, records: list[Row]) -> None:
        """Put ``records`` into the source stream."""

    @abstractmethod
    def change(self, records: list[Row]) -> None:
        """Add or update ``records`` the way the vendor system would."""

    @abstractmethod
    def written(self) -> list[Row]:
        """What the destination stream holds now, as rows with string values."""

    def connector(self, name: str = "system") -> Connector:
        """A connector configured exactly as the hub would configure it."""
        settings = SystemConfig.model_validate(self.settings()).connector_settings()
        cls = connector_class(settings["type"])
        return cls(name, cls.Config.model_validate(settings), self.base_dir)

    def position_of(self, record_id: int, ordinal: int) -> str:
        """Where the hub should say record ``record_id`` (the ``ordinal``-th seeded, from 0) came from."""
        return f"row {record_id}"

    def options(self, batch_size: int) -> ReadOptions:
        """How the hub would ask for the stream."""
        return ReadOptions(key=("id",), cursor_field=self.cursor_field, batch_size=batch_size)

    def close(self) -> None:
        """Stop whatever the harness started."""


def _as_text(records: list[Row]) -> list[Row]:
    return [{k: None if v is None else str(v) for k, v in r.items()} for r in records]


class SqlHarness(Harness):
    """A database table, on SQLite, PostgreSQL or MariaDB."""

    kind = "sql"

    def __init__(self, base_dir: Path, url: str) -> None:
        super().__init__(base_dir)
        self.url = url
        self.engine = sa.create_engine(url)
        meta = sa.MetaData()
        self.table = sa.Table(STREAM, meta, sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
                              sa.Column("name", sa.String(100)), sa.Column("email", sa.String(100)),
                              sa.Column("updated_at", sa.String(30)))
        meta.create_all(self.engine)

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

    def close(self) -> None:
        self.engine.dispose()


FILE_STREAMS = {
    STREAM: {"pattern": "contacts_*.csv", "format": "csv"},
    OUT: {"pattern": "out_*.csv", "format": "csv", "write_name": "out_{batch_id}.csv"},
}


class FilesHarness(Harness):
    """A drop folder of CSV files: new and changed records arrive in new files."""

    kind = "files"
    supports_delete = False
    cursor_field = None

    def __init__(self, base_dir: Path, folder: Path | None = None) -> None:
        super().__init__(base_dir)
        self.folder = folder or base_dir / "drop"
        self.folder.mkdir(parents=True, exist_ok=True)
        self.files = 0

    def settings(self) -> dict[str, Any]:
        return {"type": "files", "path": "drop", "streams": FILE_STREAMS}

    def seed(self, records: list[Row]) -> None:
        self.change(records)

    def position_of(self, record_id: int, ordinal: int) -> str:
        return f"contacts_0001.csv:{ordinal + 2}"  # line 1 is the header

    def change(self, records: list[Row]) -> None:
        self.files += 1
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(records[0]))
        writer.writeheader()
        writer.writerows(records)
        (self.folder / f"contacts_{self.files:04d}.csv").write_text(buffer.getvalue(), encoding="utf-8")

    def written(self) -> list[Row]:
        found = []
        for path in sorted(self.folder.glob("out_*.csv")):
            found += list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
        return sorted(_as_text(found), key=lambda r: int(r["id"]))


class SftpHarness(FilesHarness):
    """The same drop folder, on a real OpenSSH server reached over SFTP with a verified host key."""

    kind = "sftp"

    def __init__(self, base_dir: Path) -> None:
        from tests.integration.sshd import running_sshd

        self._stack = ExitStack()
        self.server = self._stack.enter_context(running_sshd(base_dir / "sshd"))
        super().__init__(base_dir, self.server.files / "drop")

    def settings(self) -> dict[str, Any]:
        server = self.server
        return {"type": "sftp", "host": "127.0.0.1", "port": server.port, "username": server.user,
                "private_key": str(server.user_key), "known_hosts": str(server.known_hosts()),
                "folder": str(self.folder), "streams": FILE_STREAMS}

    def close(self) -> None:
        self._stack.close()


class RestHarness(Harness):
    """The contacts endpoint of the test CRM vendor API (a real HTTP server on loopback)."""

    kind = "rest"

    def __init__(self, base_dir: Path) -> None:
        from tests.integration.vendor_api import CRM, CRM_KEY, VendorApi

        super().__init__(base_dir)
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
        self.change(records)

    def position_of(self, record_id: int, ordinal: int) -> str:
        return f"key {record_id}"

    def change(self, records: list[Row]) -> None:
        with self.api.lock:
            for record in records:
                self.api.contacts[record["id"]] = dict(record)

    def written(self) -> list[Row]:
        with self.api.lock:
            stored = [dict(c) for c in self.api.contacts.values()]
        return sorted(_as_text([{k: c.get(k) for k in ("id", "name", "email")} for c in stored]),
                      key=lambda r: int(r["id"]))

    def close(self) -> None:
        self.api.stop()
