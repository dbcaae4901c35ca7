"""A destination that refuses some records: they wait in the quarantine and the rest goes through."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT
from tests.helpers import sync_all
from tests.integration.vendor_api import CRM, CRM_KEY, VendorApi

ACME = ROOT / "examples" / "rest" / "acme_crm.yaml"


@pytest.fixture
def api():
    server = VendorApi().start()
    yield server
    server.stop()


def _project(folder: Path, api: VendorApi) -> Path:
    """Customers from a small SQLite CRM, published to the REST CRM; the policy redacts one e-mail column."""
    import sqlite3

    (folder / "data").mkdir(parents=True)
    con = sqlite3.connect(folder / "data" / "crm.db")
    con.execute("CREATE TABLE people (id INTEGER PRIMARY KEY, last TEXT, email TEXT, consent INTEGER)")
    con.executemany("INSERT INTO people VALUES (?, ?, ?, ?)",
                    [(1, "Koval", "o.koval@example.org", 1), (2, "Bondar", "i.bondar@example.org", 0),
                     (3, "Shevchuk", "t.shevchuk@example.org", 1)])
    con.commit()
    con.close()
    acme = yaml.safe_load(ACME.read_text())["systems"]["acme_crm"]
    acme.update(base_url=api.url + CRM, retries={"max_attempts": 2, "backoff_s": 0.01})
    config = {
        "systems": {"crm": {"type": "sql", "url": "sqlite:///data/crm.db"}, "acme_crm": acme},
        "mappings": {
            "people_in": {"system": "crm", "stream": "people", "target": "customer", "key": "id",
                          "fields": {"customer_number": "id", "name.last": "last", "contact.email": "email",
                                     "consents.marketing": "consent"}},
            "contacts_out": {"system": "acme_crm", "stream": "contacts", "target": "customer", "key": "id",
                             "fields": {"customer_number": "id", "name.last": "name", "contact.email": "email"}},
        },
        "pipelines": {"people": {"kind": "ingest", "mapping": "people_in"},
                      "contacts": {"kind": "publish", "mapping": "contacts_out", "write_mode": "upsert"}},
        "policies": ["policy.yaml"],
    }
    (folder / "officehub.yaml").write_text(yaml.safe_dump(config))
    (folder / "policy.yaml").write_text(yaml.safe_dump({
        "name": "crm-sync",
        "agreements": [{"id": "acme", "destination": "acme_crm", "purpose": "customer care",
                        "legal_basis": "contract", "valid_from": "2020-01-01"}],
        # Only customers who agreed get their e-mail sent; the vendor refuses a contact without one.
        "rules": [{"id": "mail-with-consent", "select": {"field": "customer.contact.email"}, "action": "allow",
                   "consent": "customer.consents.marketing"}],
    }))
    return folder


def test_refused_records_are_quarantined_and_the_checkpoint_moves_on(api: VendorApi, tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("ACME_CRM_API_KEY", CRM_KEY)
    folder = _project(tmp_path / "project", api)

    first = sync_all(folder)
    again = sync_all(folder)

    publish = first["contacts"]
    assert publish.status == "succeeded"
    assert (publish.metrics.records_written, publish.metrics.records_quarantined) == (2, 1)
    assert again["contacts"].metrics.records_read == 0  # the refused record does not block later runs
    stored = dict(api.contacts)
    assert set(stored) == {1, 3} and stored[1]["email"] == "o.koval@example.org"
    import sqlite3

    hub = sqlite3.connect(folder / ".officehub" / "hub.db")
    [(position, reason, stream)] = hub.execute(
        "SELECT position, reason, stream FROM quarantine WHERE pipeline = 'contacts'").fetchall()
    hub.close()
    assert stream == "contacts" and "HTTP 422" in reason and "i.bondar" not in reason
