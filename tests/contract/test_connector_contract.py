"""The connector contract (officehub.connectors.contract), run against a real system of each kind.

Every built-in connector gets the whole suite from the factory, as a plugin's would; the
example plugin runs it in its own package (plugin_package/tests). The connectors that read
vendor records also pass one test through the hub: a bad record is quarantined with the
position its connector gave it.
"""

from __future__ import annotations

import json
import sqlite3

import yaml

from officehub.connectors.contract import ContractHarness, connector_contract_tests, contacts
from tests.contract.harnesses import (
    ApiInboxHarness,
    FilesHarness,
    MariadbHarness,
    PostgresHarness,
    RestHarness,
    SftpHarness,
    SiteHarness,
    SqliteHarness,
)
from tests.helpers import sync_all


class QuarantinedThroughTheHub:
    """A test of what the hub makes of a connector's positions (it needs the engine, so it is ours)."""

    def test_a_bad_record_is_quarantined_with_its_position(self, harness: ContractHarness) -> None:
        good = contacts(range(1, 4))
        bad = {**contacts(range(4, 5))[0], "email": "not-an-address"}
        harness.seed(good + [bad])
        cursor = harness.options(1).cursor_field
        (harness.base_dir / "officehub.yaml").write_text(yaml.safe_dump({
            "systems": {harness.system: harness.settings()},
            "mappings": {"contacts_in": {
                "system": harness.system, "stream": harness.stream, "target": "customer", "key": "id",
                **({"cursor": cursor} if cursor else {}),
                "fields": {"customer_number": "id", "name.last": "name", "contact.email": "email"}}},
            "pipelines": {"contacts": {"kind": "ingest", "mapping": "contacts_in"}},
        }))
        result = sync_all(harness.base_dir)["contacts"]
        assert (result.status, result.metrics.records_written, result.metrics.records_quarantined) == \
            ("succeeded", 3, 1)
        hub = sqlite3.connect(harness.base_dir / ".officehub" / "hub.db")
        [(position, reason, raw)] = hub.execute("SELECT position, reason, raw FROM quarantine").fetchall()
        hub.close()
        assert position == harness.position_of(4, 3)
        assert reason.startswith("contact.email") and "not-an-address" not in reason
        assert json.loads(raw)["email"] == "not-an-address"


class TestSqlite(QuarantinedThroughTheHub, connector_contract_tests(SqliteHarness)):
    """The sql connector on SQLite."""


class TestPostgres(QuarantinedThroughTheHub, connector_contract_tests(PostgresHarness)):
    """The sql connector on PostgreSQL."""


class TestMariadb(QuarantinedThroughTheHub, connector_contract_tests(MariadbHarness)):
    """The sql connector on MariaDB."""


class TestFiles(QuarantinedThroughTheHub, connector_contract_tests(FilesHarness)):
    """The files connector on a local drop folder."""


class TestApiInbox(QuarantinedThroughTheHub, connector_contract_tests(ApiInboxHarness)):
    """The api connector on an inbox of submissions."""


class TestSftp(QuarantinedThroughTheHub, connector_contract_tests(SftpHarness)):
    """The sftp connector on an OpenSSH server."""


class TestRest(QuarantinedThroughTheHub, connector_contract_tests(RestHarness)):
    """The rest connector on the test CRM's API."""


TestSite = connector_contract_tests(SiteHarness)
