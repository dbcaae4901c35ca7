"""A stricter plan or a new key reaches what a destination already holds, not only later changes."""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import logging
import sqlite3
from pathlib import Path

import pytest
import yaml

from tests.helpers import sync_all

PEOPLE = [(1, "Koval", "o.koval@example.org"), (2, "Bondar", "i.bondar@example.org"),
          (3, "Shevchuk", "t.shevchuk@example.org"), (4, "Melnyk", "a.melnyk@example.org"),
          (5, "Tkachenko", "p.tkachenko@example.org")]
KEYS = {"k2025": "first-secret-key-for-pseudonyms", "k2026": "second-secret-key-for-pseudonyms"}


def _project(folder: Path, action: str, destination: str = "sql", active_key: str = "k2025") -> Path:
    """Customers from a small SQLite CRM, published to a reporting store (SQLite or a CSV drop folder)."""
    (folder / "data").mkdir(parents=True)
    con = sqlite3.connect(folder / "data" / "crm.db")
    con.execute("CREATE TABLE people (id INTEGER PRIMARY KEY, last TEXT, email TEXT)")
    con.executemany("INSERT INTO people VALUES (?, ?, ?)", PEOPLE)
    con.commit()
    con.close()
    (folder / "keys").mkdir()
    for kid, secret in KEYS.items():
        (folder / "keys" / f"{kid}.key").write_text(secret)
    report = {"type": "sql", "url": "sqlite:///out/report.db"} if destination == "sql" else \
        {"type": "files", "path": "out/drop", "create": True, "streams": {"contacts": {"pattern": "contacts_*.csv", "format": "csv"}}}
    config = {
        "hub": {"name": "t", "batch_size": 2, "keys": {kid: {"file": f"keys/{kid}.key"} for kid in KEYS},
                "active_key": active_key},
        "systems": {"crm": {"type": "sql", "url": "sqlite:///data/crm.db"}, "report": report},
        "mappings": {
            "people_in": {"system": "crm", "stream": "people", "target": "customer", "key": "id",
                          "fields": {"customer_number": "id", "name.last": "last", "contact.email": "email"}},
            "contacts_out": {"system": "report", "stream": "contacts", "target": "customer", "key": "hub_id",
                             "fields": {"canonical_id": "hub_id", "customer_number": "number",
                                        "contact.email": "email"}},
        },
        "pipelines": {"people": {"kind": "ingest", "mapping": "people_in"},
                      "contacts": {"kind": "publish", "mapping": "contacts_out",
                                   "write_mode": "upsert" if destination == "sql" else "append"}},
        "policies": ["policy.yaml"],
    }
    (folder / "officehub.yaml").write_text(yaml.safe_dump(config))
    _set_policy(folder, action)
    return folder


def _set_policy(folder: Path, action: str) -> None:
    (folder / "policy.yaml").write_text(yaml.safe_dump({
        "name": "reporting",
        "agreements": [{"id": "report", "destination": "report", "purpose": "reporting",
                        "legal_basis": "GDPR Art. 6(1)(f) legitimate interest", "valid_from": "2020-01-01"}],
        "rules": [{"id": "mail", "select": {"field": "customer.contact.email"}, "action": action}],
    }))


def _set_active_key(folder: Path, kid: str) -> None:
    config = yaml.safe_load((folder / "officehub.yaml").read_text())
    config["hub"]["active_key"] = kid
    (folder / "officehub.yaml").write_text(yaml.safe_dump(config))


def _emails(folder: Path) -> dict[str, str | None]:
    con = sqlite3.connect(folder / "out" / "report.db")
    try:
        columns = {row[1] for row in con.execute("PRAGMA table_info(contacts)")}
        return dict(con.execute(f"SELECT number, {'email' if 'email' in columns else 'NULL'} FROM contacts"))
    finally:
        con.close()


def _audit(folder: Path, action: str) -> list[dict]:
    import json

    con = sqlite3.connect(folder / ".officehub" / "hub.db")
    try:
        return [json.loads(d) for (d,) in con.execute("SELECT detail FROM audit WHERE action = ? ORDER BY id",
                                                      (action,))]
    finally:
        con.close()


def _pseudonym(kid: str, value: str) -> str:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    sub = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"officehub/hash").derive(KEYS[kid].encode())
    return f"{kid}:{hmac.new(sub, value.encode(), hashlib.sha256).hexdigest()[:32]}"


def test_a_field_tightened_to_drop_is_emptied_at_the_destination_for_every_record(tmp_path: Path):
    folder = _project(tmp_path / "p", "allow")
    assert {r.status for r in sync_all(folder).values()} == {"succeeded"}
    assert _emails(folder) == {str(n): mail for n, _, mail in PEOPLE}

    _set_policy(folder, "drop")
    results = sync_all(folder)  # no source change at all

    assert results["contacts"].status == "succeeded"
    assert results["contacts"].metrics.records_read == len(PEOPLE)
    assert _emails(folder) == {str(n): None for n, _, _ in PEOPLE}
    [done] = _audit(folder, "publish.republished")
    assert done["records"] == len(PEOPLE) and done["tightened"] == ["contact.email"]
    assert done["holds"]["contact.email"] == "withheld" and done["holds"]["customer_number"] == "as received"
    [changed] = _audit(folder, "policy.changed")
    assert changed["tightened"] == ["contact.email"] and changed["republish"] is True
    assert "example.org" not in str(_audit(folder, "publish.republished") + _audit(folder, "policy.changed"))
    # Done once: the run after sends nothing again.
    assert sync_all(folder)["contacts"].metrics.records_read == 0


def test_loosening_sends_only_later_changes(tmp_path: Path):
    folder = _project(tmp_path / "p", "drop")
    sync_all(folder)
    assert _emails(folder) == {str(n): None for n, _, _ in PEOPLE}

    _set_policy(folder, "allow")
    results = sync_all(folder)

    assert results["contacts"].metrics.records_read == 0
    assert _audit(folder, "publish.republished") == []
    assert _audit(folder, "policy.changed")[0]["republish"] is False


def test_a_drop_folder_gets_new_files_and_a_warning_that_the_earlier_ones_hold_old_values(
        tmp_path: Path, caplog: pytest.LogCaptureFixture):
    folder = _project(tmp_path / "p", "allow", destination="files")
    sync_all(folder)
    earlier = {p.name: p.read_text() for p in (folder / "out" / "drop").iterdir()}
    assert any("o.koval@example.org" in text for text in earlier.values())

    _set_policy(folder, "drop")
    with caplog.at_level(logging.WARNING):
        sync_all(folder)

    files = {p.name: p.read_text() for p in (folder / "out" / "drop").iterdir()}
    new = {name: text for name, text in files.items() if name not in earlier}
    assert {name: files[name] for name in earlier} == earlier  # delivered files are never rewritten
    assert new and all("-republish-" in name for name in new)
    rows = [row for text in new.values() for row in csv.DictReader(io.StringIO(text))]
    assert sorted(row["number"] for row in rows) == [str(n) for n, _, _ in PEOPLE]
    assert all(row["email"] == "" for row in rows)  # the column is there, empty
    [done] = _audit(folder, "publish.republished")
    assert "removed by hand" in done["earlier_copies"]
    assert any("removed by hand" in r.getMessage() for r in caplog.records)
    assert "example.org" not in caplog.text


def test_a_new_active_key_re_pseudonymises_every_record_and_is_audited(tmp_path: Path):
    folder = _project(tmp_path / "p", "hash")
    sync_all(folder)
    assert _emails(folder) == {str(n): _pseudonym("k2025", mail) for n, _, mail in PEOPLE}

    _set_active_key(folder, "k2026")
    sync_all(folder)

    assert _emails(folder) == {str(n): _pseudonym("k2026", mail) for n, _, mail in PEOPLE}  # no mix of keys
    [rotated] = _audit(folder, "keys.rotated")
    assert rotated == {"from": "k2025", "to": "k2026", "fields": ["contact.email"], "records": len(PEOPLE)}
    [changed] = _audit(folder, "policy.changed")
    assert changed["rekeyed"] == {"contact.email": ["k2025", "k2026"]}
    [done] = _audit(folder, "publish.republished")
    assert done["holds"]["contact.email"] == "pseudonymised with key k2026"


def test_a_destination_with_its_own_key_is_untouched_by_a_rotation(tmp_path: Path):
    folder = _project(tmp_path / "p", "hash")
    policy = yaml.safe_load((folder / "policy.yaml").read_text())
    policy["rules"][0]["params"] = {"key": "k2025"}
    (folder / "policy.yaml").write_text(yaml.safe_dump(policy))
    sync_all(folder)

    _set_active_key(folder, "k2026")
    results = sync_all(folder)

    assert results["contacts"].metrics.records_read == 0
    assert _emails(folder) == {str(n): _pseudonym("k2025", mail) for n, _, mail in PEOPLE}
    assert _audit(folder, "keys.rotated") == []


def test_an_unknown_destination_key_is_a_config_error_with_file_and_line(tmp_path: Path):
    from officehub.config import ConfigError, load_project

    folder = _project(tmp_path / "p", "hash")
    policy = yaml.safe_load((folder / "policy.yaml").read_text())
    policy["rules"][0]["params"] = {"key": "k1999"}
    (folder / "policy.yaml").write_text(yaml.safe_dump(policy))

    with pytest.raises(ConfigError) as caught:
        load_project(folder)
    assert any(i.file == "policy.yaml" and i.line > 0 and "k1999" in i.message for i in caught.value.issues)


def test_a_re_publication_killed_mid_way_resumes_and_completes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from officehub.connectors.sql.connector import SqlConnector

    folder = _project(tmp_path / "p", "allow")
    sync_all(folder)
    _set_policy(folder, "drop")
    write = SqlConnector.write
    calls = []

    def dies_on_the_second_batch(self, stream, batch, mode, **kwargs):  # type: ignore[no-untyped-def]
        if self.name == "report":
            calls.append(kwargs["batch_id"])
            if len(calls) == 2:
                raise KeyboardInterrupt  # the process is killed mid-write
        return write(self, stream, batch, mode, **kwargs)

    monkeypatch.setattr(SqlConnector, "write", dies_on_the_second_batch)
    with pytest.raises(KeyboardInterrupt):
        sync_all(folder)
    assert list(_emails(folder).values()).count(None) == 2  # the first batch only
    monkeypatch.setattr(SqlConnector, "write", write)

    results = sync_all(folder)

    assert results["contacts"].status == "succeeded"
    assert _emails(folder) == {str(n): None for n, _, _ in PEOPLE}
    [done] = _audit(folder, "publish.republished")
    assert done["records"] == len(PEOPLE)
    assert sync_all(folder)["contacts"].metrics.records_read == 0
