"""The quarantine never loses newer data: one open entry per vendor record, closed as resolved when
the row arrives valid, superseded when the hub already holds newer data, and listed a page at a time."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml

from officehub.store.migrate import HEAD
from tests.helpers import run_cli

GOOD_BIRTH = "1990-05-01"


def _estate(folder: Path, rows: list[tuple[int, str, str, str]], hub_url: str | None = None) -> Path:
    """An HR table (id, last name, birth date, change time) read incrementally into the hub."""
    (folder / "data").mkdir(parents=True)
    _write_rows(folder, rows)
    config = {
        "systems": {"hr": {"type": "sql", "url": "sqlite:///data/hr.db"}},
        "mappings": {"hr_staff": {"system": "hr", "stream": "staff", "target": "employee", "key": "id",
                                  "cursor": "updated_at",
                                  "fields": {"employee_number": "id", "name.last": "last",
                                             "birth_date": {"from": "born", "transforms": [{"date": "%Y-%m-%d"}]}}}},
        "pipelines": {"staff_in": {"kind": "ingest", "mapping": "hr_staff", "max_quarantine_fraction": 1.0}},
    }
    if hub_url:
        config["hub"] = {"store": hub_url}
    (folder / "officehub.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    return folder


def _write_rows(folder: Path, rows: list[tuple[int, str, str, str]]) -> None:
    """The source's current rows: what an HR clerk's edits leave in the table."""
    con = sqlite3.connect(folder / "data" / "hr.db")
    con.execute("CREATE TABLE IF NOT EXISTS staff (id INTEGER PRIMARY KEY, last TEXT, born TEXT, updated_at TEXT)")
    con.executemany("INSERT OR REPLACE INTO staff VALUES (?, ?, ?, ?)", rows)
    con.commit()
    con.close()


def _sync(folder: Path) -> dict:
    done = run_cli("-p", str(folder), "sync", "staff_in", "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout)[0]


def _entries(folder: Path, *args: str) -> dict:
    listed = run_cli("-p", str(folder), "quarantine", "list", "--json", *args)
    assert listed.returncode == 0, listed.stdout + listed.stderr
    return json.loads(listed.stdout)


def _hub(folder: Path) -> sqlite3.Connection:
    return sqlite3.connect(folder / ".officehub" / "hub.db")


def _fix_mapping(folder: Path) -> None:
    """The fix an IT person would make: 'n/a' means no birth date."""
    path = folder / "officehub.yaml"
    config = yaml.safe_load(path.read_text())
    config["mappings"]["hr_staff"]["fields"]["birth_date"]["transforms"].insert(0, {"null_if": ["n/a"]})
    path.write_text(yaml.safe_dump(config, sort_keys=False))


def test_replay_never_writes_a_stale_row_over_newer_data_and_closes_it_as_superseded(tmp_path: Path):
    folder = _estate(tmp_path / "estate", [(1, "Koval", "n/a", "2026-01-01 09:00:00"),
                                           (2, "Shevchenko", "n/a", "2026-01-01 09:00:00")])
    assert _sync(folder)["records_quarantined"] == 2
    # An entry kept from before the hub knew vendor ids: ingest cannot tie it to its record,
    # so it is still open when the source's fixed row arrives later.
    hub = _hub(folder)
    hub.execute("UPDATE quarantine SET vendor_id = NULL")
    hub.commit()
    hub.close()
    _write_rows(folder, [(1, "Koval", GOOD_BIRTH, "2026-01-02 09:00:00")])
    assert _sync(folder)["records_written"] == 1
    _fix_mapping(folder)

    replayed = run_cli("-p", str(folder), "quarantine", "replay", "--json")
    text_check = run_cli("-p", str(folder), "quarantine", "list", "--all", "--json")

    assert replayed.returncode == 0, replayed.stdout + replayed.stderr
    [result] = json.loads(replayed.stdout)
    hub = _hub(folder)
    births = dict(hub.execute("SELECT employee_number, birth_date FROM employee").fetchall())
    hub.close()
    assert str(births["1"]).startswith(GOOD_BIRTH) and births["2"] is None
    assert result["superseded"] == 1 and result["records_written"] == 1  # row 2 had no newer copy: applied
    statuses = {q["position"]: q["status"] for q in json.loads(text_check.stdout)["items"]}
    assert sorted(statuses.values()) == ["replayed", "superseded"]


def test_replay_without_change_times_keeps_a_copy_stored_by_a_later_read(tmp_path: Path):
    folder = _estate(tmp_path / "estate", [(1, "Koval", "n/a", "not a time")])
    assert _sync(folder)["records_quarantined"] == 1
    hub = _hub(folder)
    hub.execute("UPDATE quarantine SET vendor_id = NULL")
    hub.commit()
    hub.close()
    _write_rows(folder, [(1, "Koval", GOOD_BIRTH, "zz later")])
    assert _sync(folder)["records_written"] == 1
    _fix_mapping(folder)

    [result] = json.loads(run_cli("-p", str(folder), "quarantine", "replay", "--json").stdout)

    hub = _hub(folder)
    assert str(hub.execute("SELECT birth_date FROM employee").fetchone()[0]).startswith(GOOD_BIRTH)
    hub.close()
    assert result["superseded"] == 1 and result["records_written"] == 0


def test_replay_applies_a_row_newer_than_the_hub_copy(tmp_path: Path):
    folder = _estate(tmp_path / "estate", [(1, "Koval", GOOD_BIRTH, "2026-01-01 09:00:00")])
    _sync(folder)
    _write_rows(folder, [(1, "Kovalenko", "n/a", "2026-01-02 09:00:00")])  # a later edit that fails
    assert _sync(folder)["records_quarantined"] == 1
    _fix_mapping(folder)

    [result] = json.loads(run_cli("-p", str(folder), "quarantine", "replay", "--json").stdout)

    assert result["superseded"] == 0 and result["records_written"] == 1
    hub = _hub(folder)
    assert hub.execute("SELECT name__last FROM employee").fetchone()[0] == "Kovalenko"
    hub.close()


def _touch_every_row_and_fix_one(folder: Path) -> None:
    _sync(folder)
    _write_rows(folder, [(n, f"Koval{n}", "unknown", "2026-01-02 09:00:00") for n in range(1, 5)]
                + [(5, "Koval5", GOOD_BIRTH, "2026-01-02 09:00:00")])
    _sync(folder)


@pytest.mark.parametrize("hub", ["sqlite", "postgres"])
def test_a_record_read_bad_again_keeps_one_open_entry_and_a_fixed_one_closes_as_resolved(
        hub: str, tmp_path: Path, request: pytest.FixtureRequest):
    url = request.getfixturevalue("postgres_url") if hub == "postgres" else None
    folder = _estate(tmp_path / "estate", [(n, f"Koval{n}", "n/a", "2026-01-01 09:00:00") for n in range(1, 6)],
                     hub_url=url)

    _touch_every_row_and_fix_one(folder)

    page = _entries(folder)
    assert page["total"] == 4 and len(page["items"]) == 4
    run_ids = {q["run_id"] for q in page["items"]}
    assert len(run_ids) == 1 and run_ids == {max(q["run_id"] for q in _entries(folder, "--all")["items"])}
    shown = json.loads(run_cli("-p", str(folder), "quarantine", "show", str(page["items"][0]["id"]), "--reveal",
                               "--reason", "checking the later read is kept", "--json").stdout)
    assert shown["raw"]["born"] == "unknown" and shown["raw"]["updated_at"] == "2026-01-02 09:00:00"
    closed = [q for q in _entries(folder, "--all")["items"] if q["status"] != "open"]
    assert [(q["vendor_id"], q["status"]) for q in closed] == [("5", "resolved")]
    if url:
        engine = sa.create_engine(url)
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one() == HEAD
        engine.dispose()


def test_quarantine_list_pages_and_says_how_many_there_are(tmp_path: Path):
    folder = _estate(tmp_path / "estate", [(n, f"Koval{n}", "n/a", "2026-01-01 09:00:00") for n in range(1, 6)])
    _sync(folder)

    page = _entries(folder, "--limit", "2", "--offset", "2")
    text = run_cli("-p", str(folder), "quarantine", "list", "--limit", "2")

    assert page["total"] == 5 and [q["vendor_id"] for q in page["items"]] == ["3", "4"]
    assert "showing 1–2 of 5" in text.stdout and "--offset 2" in text.stdout
    assert "showing 5–5 of 5" in run_cli("-p", str(folder), "quarantine", "list", "--offset", "4").stdout
