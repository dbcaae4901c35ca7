"""Identity and data-subject commands as a data steward and a compliance officer use them.

Every test runs the real command line (a subprocess) on its own copy of the identity
estate after `officehub sync --all`: John Smith (crm 1 = acct D-1 by e-mail), Olena
Kovalenko (crm 2 = acct D-2, fuzzy), Petro Bondar (crm 3 = acct D-3), "Bondarenko,
Petro" (acct D-4) waiting in the review queue, and Taras Shevchuk, a CRM customer
and an employee under a litigation hold.
"""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
from pathlib import Path

import pytest

from tests.helpers import run_cli
from tests.integration import identity_estate

#: Values other than names that `match review` must not print without --reveal.
STREETS = sorted({row[4] for row in identity_estate.CRM} | {row[3] for row in identity_estate.ACCT})
BIRTH_DATES = sorted({row[7] for row in identity_estate.CRM} | {row[6] for row in identity_estate.ACCT})
EXIT_LEGAL_HOLD = 3
#: How an erasure report and the audit trail name the estate's litigation hold: field path and class.
HOLD = "employee.litigation_hold (legal)"
#: A reason long enough for a reveal (the commands refuse a shorter one).
REASON = "steward ticket ST-1042"


@pytest.fixture(scope="module")
def synced_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = identity_estate.build(tmp_path_factory.mktemp("identity-cli") / "estate")
    done = run_cli("-p", str(folder), "sync", "--all", "--json")
    assert done.returncode == 0, done.stderr
    return folder


@pytest.fixture
def estate(synced_template: Path, tmp_path: Path) -> Path:
    """A private copy of the synced estate (the commands change it)."""
    return Path(shutil.copytree(synced_template, tmp_path / "estate"))


def cli(folder: Path, *args: str, code: int = 0):
    done = run_cli("-p", str(folder), *args)
    assert done.returncode == code, (done.returncode, done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    return done


def cli_json(folder: Path, *args: str, code: int = 0):
    return json.loads(cli(folder, *args, "--json", code=code).stdout)


def find_one(folder: Path, query: str, entity: str = "customer") -> dict:
    hits = [h for h in cli_json(folder, "subject", "find", query) if h["entity"] == entity]
    assert len(hits) == 1, hits
    return hits[0]


def rows(database: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(database) as db:
        return db.execute(sql).fetchall()


def pending(folder: Path) -> list[dict]:
    return cli_json(folder, "match", "review")


# -- the review queue -------------------------------------------------------------------------------
def test_review_lists_the_bondarenko_pair_with_its_evidence(estate: Path):
    [pair] = pending(estate)
    assert pair["entity"] == "customer" and pair["status"] == "pending" and 0.6 <= pair["score"] < 0.9
    assert pair["method"] == "fuzzy" and set(pair["fields"]) == {"name", "address", "birth_date"}
    assert pair["record"]["name"] == "Petro Bondarenko" and pair["record"]["systems"] == [["acct", "D-4"]]
    assert pair["candidate"]["name"] == "Petro Bondar"
    assert sorted(pair["candidate"]["systems"]) == [["acct", "D-3"], ["crm", "3"]]
    shown = cli(estate, "match", "review").stdout
    assert "Petro Bondarenko" in shown and "acct D-4" in shown and f"{pair['score']:.3f}" in shown
    assert "name 0.96" in shown


def test_review_shows_no_street_or_birth_date_unless_revealed(estate: Path):
    for output in (cli(estate, "match", "review").stdout, cli(estate, "match", "review", "--json").stdout,
                   cli(estate, "match", "review", "--all").stdout):
        assert not [v for v in STREETS + BIRTH_DATES if v in output]
    revealed = cli_json(estate, "match", "review", "--reveal", "--reason", REASON)[0]
    assert revealed["record"]["values"]["address.street"] == "12 Zelena St"
    assert revealed["candidate"]["values"]["address.street"] == "7 Lesi Ukrainky"
    assert "12 Zelena St" in cli(estate, "match", "review", "--reveal", "--reason", REASON).stdout
    looked = cli_json(estate, "audit", "list", "--action", "match.reveal")
    assert looked and "Zelena" not in json.dumps(looked)


def test_link_merges_the_pair_and_unmerge_restores_both_records(estate: Path):
    [pair] = pending(estate)
    survivor, other = pair["candidate"]["canonical_id"], pair["record"]["canonical_id"]
    before = {cid: cli_json(estate, "record", "show", cid)["xrefs"] for cid in (survivor, other)}

    linked = cli(estate, "match", "link", str(pair["id"])).stdout
    log_id = re.search(r"Link log (\d+)", linked).group(1)
    assert f"officehub match unmerge {log_id}" in linked
    merged = cli_json(estate, "record", "show", survivor)
    assert sorted((x["system"], x["vendor_id"]) for x in merged["xrefs"]) == [("acct", "D-3"), ("acct", "D-4"),
                                                                                ("crm", "3")]
    assert cli_json(estate, "record", "show", other)["status"] == "merged"
    assert pending(estate) == []

    cli(estate, "match", "unmerge", log_id)
    for cid in (survivor, other):
        restored = cli_json(estate, "record", "show", cid)
        assert restored["status"] == "active" and restored["xrefs"] == before[cid]
    entry = cli_json(estate, "match", "log", log_id)
    assert entry["action"] == "merge" and entry["undone_at"] is not None and entry["actor"].startswith("user:")
    again = cli(estate, "match", "unmerge", log_id, code=2)
    assert again.stderr.startswith("error ") and "already undone" in again.stderr


def test_reject_keeps_both_records_and_closes_the_pair(estate: Path):
    [pair] = pending(estate)
    rejected = cli_json(estate, "match", "reject", str(pair["id"]))
    assert rejected["status"] == "rejected"
    assert pending(estate) == []
    decided = cli_json(estate, "match", "review", "--all")
    assert decided[0]["status"] == "rejected" and decided[0]["decided_by"].startswith("user:")
    assert cli_json(estate, "record", "show", pair["record"]["canonical_id"])["status"] == "active"


def test_unlink_and_merge_by_hand_print_a_log_id_that_undoes_them(estate: Path):
    john = find_one(estate, "john.smith@example.com")["canonical_id"]
    split = cli_json(estate, "match", "unlink", "customer", "acct", "D-1")
    assert split["survivor_id"] == john and split["moved"] == [["acct", "D-1"]] and split["log_id"]
    assert [x["vendor_id"] for x in cli_json(estate, "record", "show", split["other_id"])["xrefs"]] == ["D-1"]
    printed = cli(estate, "match", "merge", "customer", john, split["other_id"]).stdout
    merge_log = re.search(r"Link log (\d+)", printed).group(1)
    assert sorted(x["vendor_id"] for x in cli_json(estate, "record", "show", john)["xrefs"]) == ["1", "D-1"]
    cli(estate, "match", "unmerge", merge_log)
    cli(estate, "match", "unmerge", str(split["log_id"]))
    assert sorted(x["vendor_id"] for x in cli_json(estate, "record", "show", john)["xrefs"]) == ["1", "D-1"]
    assert [e["undone_at"] is not None for e in cli_json(estate, "match", "log")] == [True, True]


def test_steward_mistakes_get_one_line_errors(estate: Path):
    for args, message in ((("match", "link", "99"), "no review-queue entry 99"),
                          (("match", "unmerge", "99"), "no merge or unlink number 99"),
                          (("match", "merge", "client", "a", "b"), "unknown entity 'client'"),
                          (("match", "unlink", "customer", "acct", "D-9"), "nothing to unlink"),
                          (("record", "show", "nope"), "no record nope in the hub")):
        failed = cli(estate, *args, code=2)
        assert failed.stderr.startswith("error ") and message in failed.stderr and len(failed.stderr.splitlines()) == 1


# -- golden records ---------------------------------------------------------------------------------
def test_record_show_lists_lineage_and_withholds_the_litigation_hold(estate: Path):
    employee = find_one(estate, "taras@example.com", "employee")["canonical_id"]
    plain = cli(estate, "record", "show", employee).stdout
    assert "LIT-2026-7" not in plain and "2026-01-10" not in plain and "<withheld>" in plain
    assert "legal hold" in plain
    shown = cli_json(estate, "record", "show", employee)
    by_field = {f["field"]: f for f in shown["fields"]}
    assert by_field["litigation_hold.matter_ref"]["value"] == "<withheld>"
    assert by_field["litigation_hold.matter_ref"]["sensitivity"] == "legal"
    assert by_field["name.last"] == {**by_field["name.last"], "value": "Shevchuk", "system": "hr", "vendor_id": "E-1"}
    assert shown["held_by"] == ["<withheld>"] and "LIT-2026-7" not in json.dumps(shown)
    revealed = cli_json(estate, "record", "show", employee, "--reveal", "--reason", REASON)
    assert {f["field"]: f["value"] for f in revealed["fields"]}["litigation_hold.matter_ref"] == "LIT-2026-7"
    assert revealed["held_by"] == [HOLD]
    assert cli_json(estate, "audit", "list", "--action", "record.reveal")


def test_record_show_of_a_linked_customer_names_each_system(estate: Path):
    olena = find_one(estate, "Olena")
    shown = cli_json(estate, "record", "show", olena["canonical_id"])
    links = {(x["system"], x["vendor_id"]): x for x in shown["xrefs"]}
    assert set(links) == {("crm", "2"), ("acct", "D-2")}
    assert links[("acct", "D-2")]["linked_by"] == "match" and 0.9 <= links[("acct", "D-2")]["score"] <= 1
    assert all(f["system"] in ("crm", "acct") and f["since"] for f in shown["fields"])


def test_record_history_shows_a_version_per_crm_address_change(estate: Path):
    petro = find_one(estate, "3")["canonical_id"]  # crm 3 = acct D-3
    assert len(cli_json(estate, "record", "history", petro)) == 1
    with sqlite3.connect(estate / "data" / "crm.db") as db:
        db.execute("UPDATE customers SET street = '22 Nova St', zip = '03005' WHERE id = 3")
    cli(estate, "sync", "--all")
    versions = cli_json(estate, "record", "history", petro)
    assert [v["version"] for v in versions] == [1, 2]
    assert versions[-1]["changed"] == ["address.street", "address.postal_code"]
    assert versions[-1]["changed_by"].startswith("crm") and versions[-1]["run_id"]
    table = cli(estate, "record", "history", petro).stdout
    assert "address.street" in table and "22 Nova St" not in table and "7 Lesi Ukrainky" not in table
    revealed = cli_json(estate, "record", "history", petro, "--reveal", "--reason", REASON)
    assert revealed[-1]["changed"]["address.street"] == ["7 Lesi Ukrainky", "22 Nova St"]
    street = {f["field"]: f for f in cli_json(estate, "record", "show", petro)["fields"]}["address.street"]
    assert (street["system"], street["vendor_id"], street["value"]) == ("crm", "3", "22 Nova St")
    # written back to the accounting package, and not bounced back as a change of its own
    assert rows(estate / "data" / "acct.db", "SELECT street FROM debtors WHERE acct_no = 'D-3'") == [("22 Nova St",)]
    cli(estate, "sync", "--all")
    assert len(cli_json(estate, "record", "history", petro)) == 2


def test_a_crm_change_survives_the_first_read_back_of_a_record_the_hub_created_elsewhere(estate: Path):
    iryna = find_one(estate, "iryna.melnyk@example.com")["canonical_id"]  # crm 4; created in acct by acct_out
    with sqlite3.connect(estate / "data" / "crm.db") as db:
        db.execute("UPDATE customers SET street = '22 Nova St' WHERE id = 4")
    cli(estate, "sync", "--all")
    street = {f["field"]: f for f in cli_json(estate, "record", "show", iryna)["fields"]}["address.street"]
    assert street["value"] == "22 Nova St"
    assert rows(estate / "data" / "crm.db", "SELECT street FROM customers WHERE id = 4") == [("22 Nova St",)]


# -- data-subject requests --------------------------------------------------------------------------
def test_subject_find_finds_the_customer_and_the_employee(estate: Path):
    hits = cli_json(estate, "subject", "find", "taras@example.com")
    assert sorted(h["entity"] for h in hits) == ["customer", "employee"]
    assert {h["name"] for h in hits} == {"Taras Shevchuk"}
    employee = next(h for h in hits if h["entity"] == "employee")
    assert employee["systems"] == [["hr", "E-1"]]
    assert "Taras Shevchuk" in cli(estate, "subject", "find", "taras@example.com").stdout


def test_subject_export_writes_everything_the_hub_holds(estate: Path):
    john = find_one(estate, "john.smith@example.com")["canonical_id"]
    exported = json.loads(cli(estate, "subject", "export", john).stdout)
    assert exported["canonical_id"] == john and exported["record"]["contact__email"] == "john.smith@example.com"
    assert {s["system"] for s in exported["systems"]} >= {"crm", "acct"} and exported["lineage"]["name"]
    target = estate / "john.json"
    cli(estate, "subject", "export", john, "--output", str(target))
    assert json.loads(target.read_text())["canonical_id"] == john
    assert len(cli_json(estate, "audit", "list", "--action", "subject.export")) == 2


def test_subject_erase_deletes_in_every_system_and_in_the_hub(estate: Path):
    john = find_one(estate, "john.smith@example.com")["canonical_id"]
    report = cli_json(estate, "subject", "erase", john, "--yes")
    outcomes = {line["system"]: line["outcome"] for line in report["lines"]}
    assert report["erased"] is True and report["held_by"] == []
    assert outcomes == {"crm": "deleted", "acct": "deleted", "reporting": "deleted", "hub": "erased"}
    assert rows(estate / "data" / "crm.db", "SELECT id FROM customers WHERE id = 1") == []
    assert rows(estate / "data" / "acct.db", "SELECT acct_no FROM debtors WHERE acct_no = 'D-1'") == []
    assert rows(estate / "out" / "reporting.db", f"SELECT hub_id FROM customers WHERE hub_id = '{john}'") == []
    assert cli_json(estate, "subject", "find", "john.smith@example.com") == []
    assert cli_json(estate, "record", "show", john)["status"] == "erased"


def test_an_erased_person_stays_gone_after_the_next_sync(estate: Path):
    john = find_one(estate, "john.smith@example.com")["canonical_id"]
    cli(estate, "subject", "erase", john, "--yes", "--report", str(estate / "erasure.json"))
    assert json.loads((estate / "erasure.json").read_text())["erased"] is True
    cli(estate, "sync", "--all")
    everything = "\n".join(map(str, rows(estate / "data" / "crm.db", "SELECT * FROM customers")
                               + rows(estate / "data" / "acct.db", "SELECT * FROM debtors")
                               + rows(estate / "out" / "reporting.db", "SELECT * FROM customers")))
    assert "Smith" not in everything and "Smyth" not in everything and "john.smith" not in everything.lower()
    assert john not in everything


def test_subject_erase_is_refused_by_a_legal_hold(estate: Path):
    employee = find_one(estate, "taras@example.com", "employee")["canonical_id"]
    refused = cli(estate, "subject", "erase", employee, "--yes", "--json", code=EXIT_LEGAL_HOLD)
    report = json.loads(refused.stdout)
    assert report["erased"] is False and report["held_by"] == [HOLD]
    assert {line["outcome"] for line in report["lines"]} == {"kept (legal hold)"}
    assert "legal hold" in refused.stderr
    assert rows(estate / "data" / "hr.db", "SELECT emp_id FROM staff") == [("E-1",)]
    assert cli_json(estate, "record", "show", employee)["status"] == "active"
    assert cli_json(estate, "audit", "list", "--action", "subject.erase.refused")


def test_subject_erase_names_a_hold_by_field_and_class_never_its_matter(estate: Path):
    employee = find_one(estate, "taras@example.com", "employee")["canonical_id"]
    report_file = estate / "erasure.json"
    outputs = [cli(estate, "subject", "erase", employee, *args, code=EXIT_LEGAL_HOLD)
               for args in (["--dry-run"], ["--dry-run", "--json"], ["--yes", "--report", str(report_file)])]
    shown = "".join(o.stdout + o.stderr for o in outputs) + report_file.read_text()
    assert "litigation_hold (legal)" in shown and "legal hold" in shown
    assert "LIT-2026-7" not in shown and "2026-01-10" not in shown
    # The audit trail is append-only: a value written there could never be erased again.
    trail = rows(estate / ".officehub" / "hub.db", "SELECT action, subject, detail FROM audit")
    refused = [r for r in trail if r[0] == "subject.erase.refused"]
    assert refused and json.loads(refused[0][2])["held_by"] == [HOLD]
    assert "LIT-2026-7" not in repr(trail)


def test_subject_export_withholds_special_categories_unless_revealed_with_a_reason(estate: Path):
    employee = find_one(estate, "taras@example.com", "employee")["canonical_id"]
    plain = cli(estate, "subject", "export", employee).stdout
    exported = json.loads(plain)
    assert exported["record"]["litigation_hold__matter_ref"] == "<withheld>"
    assert exported["record"]["name__last"] == "Shevchuk" and exported["held_by"] == [HOLD]
    assert exported["record"]["litigation_hold__since"] == "<withheld>" and "LIT-2026-7" not in plain
    for reason in ([], ["--reason", "   "], ["--reason", "x"]):
        refused = cli(estate, "subject", "export", employee, "--reveal", *reason, code=2)
        assert "--reason" in refused.stderr and refused.stdout == ""
    revealed = json.loads(cli(estate, "subject", "export", employee, "--reveal", "--reason", REASON).stdout)
    assert revealed["record"]["litigation_hold__matter_ref"] == "LIT-2026-7"
    entries = cli_json(estate, "audit", "list", "--action", "subject.export")
    assert [e["detail"]["reveal"] for e in entries] == [True, False]
    assert entries[0]["detail"]["reason"] == REASON and "LIT-2026-7" not in json.dumps(entries)


def test_every_reveal_needs_a_reason_and_records_it(estate: Path):
    employee = find_one(estate, "taras@example.com", "employee")["canonical_id"]
    for command in (["record", "show", employee], ["record", "history", employee], ["match", "review"]):
        refused = cli(estate, *command, "--reveal", code=2)
        assert "--reason" in refused.stderr and "LIT-2026-7" not in refused.stdout
        cli(estate, *command, "--reveal", "--reason", REASON)
    reveals = cli_json(estate, "audit", "list", "--action", "record.reveal") + cli_json(
        estate, "audit", "list", "--action", "match.reveal")
    assert len(reveals) == 3 and {e["detail"]["reason"] for e in reveals} == {REASON}


def test_subject_erase_asks_first_and_a_dry_run_changes_nothing(estate: Path):
    john = find_one(estate, "john.smith@example.com")["canonical_id"]
    unconfirmed = cli(estate, "subject", "erase", john, code=2)  # no answer on stdin: no
    assert "not confirmed" in unconfirmed.stderr and "would delete" in unconfirmed.stderr
    dry = cli_json(estate, "subject", "erase", john, "--dry-run")
    assert dry["dry_run"] is True and {line["outcome"] for line in dry["lines"]} == {"would delete", "would erase"}
    assert rows(estate / "data" / "crm.db", "SELECT id FROM customers WHERE id = 1") == [(1,)]
    assert find_one(estate, "john.smith@example.com")["status"] == "active"


# -- JSON shapes, for scripts -----------------------------------------------------------------------
def test_json_shapes_of_every_identity_command(estate: Path):
    [pair] = pending(estate)
    assert set(pair) >= {"id", "entity", "status", "score", "method", "keys", "fields", "record", "candidate"}
    assert set(pair["record"]) == {"canonical_id", "name", "status", "systems", "values"}
    change = cli_json(estate, "match", "link", str(pair["id"]))
    assert set(change) == {"log_id", "entity", "survivor_id", "other_id", "moved", "undone"}
    [entry] = cli_json(estate, "match", "log")
    assert set(entry) >= {"id", "entity", "action", "survivor_id", "other_id", "detail", "actor", "at", "undone_at"}
    assert set(cli_json(estate, "match", "unmerge", str(change["log_id"]))) == set(change)
    split = cli_json(estate, "match", "unlink", "customer", "acct", "D-1")
    assert set(cli_json(estate, "match", "merge", "customer", split["survivor_id"], split["other_id"])) == set(change)
    shown = cli_json(estate, "record", "show", change["survivor_id"])
    assert set(shown) >= {"entity", "canonical_id", "status", "version", "held_by", "fields", "collections", "xrefs"}
    assert set(shown["fields"][0]) == {"field", "sensitivity", "value", "system", "vendor_id", "run_id", "since"}
    assert set(shown["xrefs"][0]) == {"system", "vendor_id", "linked_by", "score", "linked_at", "erased_at"}
    [version, *_] = cli_json(estate, "record", "history", change["survivor_id"])
    assert set(version) == {"version", "updated_at", "status", "changed_by", "run_id", "changed"}
    [hit] = cli_json(estate, "subject", "find", "Hnatyuk")
    assert set(hit) == {"entity", "canonical_id", "name", "status", "systems"}
    report = cli_json(estate, "subject", "erase", hit["canonical_id"], "--dry-run")
    assert set(report) == {"entity", "canonical_id", "erased", "held_by", "lines", "dry_run"}
    assert set(report["lines"][0]) == {"system", "vendor_id", "outcome", "detail"}
    exported = json.loads(cli(estate, "subject", "export", hit["canonical_id"]).stdout)
    assert set(exported) >= {"entity", "record", "lineage", "systems", "sources", "history", "merges", "held_by"}
    reopened = cli_json(estate, "match", "review", "--all")[0]
    assert reopened["status"] == "pending"  # the link was undone: the steward's question is open again
