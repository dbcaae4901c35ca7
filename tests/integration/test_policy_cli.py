"""The policy and audit commands on a synced copy of the demo estate, as a compliance officer uses them."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import sqlite3
from pathlib import Path

import pyarrow as pa
import pytest

from tests.helpers import run_cli, synced_demo

IBAN = "UA213223130000026007233566001"
SPECIAL = ("medical", "criminal", "legal")


@pytest.fixture(scope="module")
def synced(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return synced_demo(tmp_path_factory.mktemp("policy-cli"))


def cli(folder: Path, *args: str):  # type: ignore[no-untyped-def]
    return run_cli("-p", str(folder), *args)


def copy_of(folder: Path, target: Path) -> Path:
    return Path(shutil.copytree(folder, target))


def test_policy_check_passes_on_the_demo(synced: Path):
    done = cli(synced, "policy", "check", "--json")
    assert done.returncode == 0, done.stderr
    findings = json.loads(done.stdout)
    assert isinstance(findings, list) and not [f for f in findings if f["level"] == "error"]


def test_policy_check_finds_unreachable_shadowed_and_unfounded_rules(synced: Path, tmp_path: Path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("""
name: bad
agreements:
  - {id: bad-1, destination: reporting, purpose: management reporting, legal_basis: "GDPR Art. 6(1)(f)",
     valid_from: 2026-01-01}
rules:
  - {id: typo-field, select: {field: "employee.home_adress.*"}, action: drop}
  - {id: dept-allow, select: {field: employee.employment.department}, action: allow}
  - {id: dept-drop, select: {field: employee.employment.department}, action: drop}
  - {id: health-open, select: {field: employee.occupational_health_restrictions}, action: allow}
""")
    done = cli(synced, "policy", "check", str(bad), "--json")
    assert done.returncode == 2, done.stderr
    found = {f["subject"]: (f["level"], f["message"]) for f in json.loads(done.stdout)}
    assert found["rule typo-field"][0] == "warning" and "unreachable" in found["rule typo-field"][1]
    assert found["rule dept-allow"][0] == "warning" and "shadowed" in found["rule dept-allow"][1]
    assert found["rule health-open"][0] == "error" and "legal basis" in found["rule health-open"][1]
    assert "rule dept-drop" not in found


def test_policy_explain_shows_who_decided_and_why(synced: Path):
    done = cli(synced, "policy", "explain", "--destination", "payroll", "--entity", "employee", "--json")
    assert done.returncode == 0, done.stderr
    shown = json.loads(done.stdout)["employee"]
    assert shown["agreement"]["id"] == "payroll-dpa-2026"
    rows = {r["field"]: r for r in shown["fields"]}
    health = rows["occupational_health_restrictions"]
    assert (health["class"], health["action"], health["rule"]) == ("medical", "drop",
                                                                   "gdpr-special-categories/art9-health")
    assert rows["birth_date"]["rule"] == "no-birth-date" and rows["salary.amount"]["action"] == "allow"


def test_policy_diff_lists_exactly_the_changed_fields(synced: Path, tmp_path: Path):
    old, new = tmp_path / "old", tmp_path / "new"
    shutil.copytree(synced / "policies", old)
    shutil.copytree(synced / "policies", new)
    reporting = new / "reporting.yaml"
    text = reporting.read_text()
    changed = text.replace('select: {field: "customer.name.*"}\n    action: drop',
                           'select: {field: "customer.name.*"}\n    action: nullify')
    assert changed != text
    reporting.write_text(changed)
    done = cli(synced, "policy", "diff", str(old), str(new), "--json")
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    assert {(r["destination"], r["entity"], r["field"]) for r in rows} == {
        ("reporting", "customer", "name.first"), ("reporting", "customer", "name.middle"),
        ("reporting", "customer", "name.last")}
    assert all((r["old"], r["new"], r["rule"]) == ("drop", "nullify", "customer-names-pseudonymous") for r in rows)
    assert json.loads(cli(synced, "policy", "diff", str(old), str(old), "--json").stdout) == []


def test_policy_preview_abbreviates_originals_and_shows_what_is_sent(synced: Path):
    done = cli(synced, "policy", "preview", "--destination", "reporting", "--sample", "2", "--json")
    assert done.returncode == 0, done.stderr
    previews = json.loads(done.stdout)
    assert sorted(p["entity"] for p in previews) == \
        ["customer"] * 2 + ["employee"] * 2 + ["inspection"] * 2 + ["invoice"] * 2 + ["product"] * 2
    hub = sqlite3.connect(synced / ".officehub" / "hub.db")
    compared = 0
    for item in previews:
        for f in item["fields"]:
            actual = hub.execute(f"SELECT {f['field'].replace('.', '__')} FROM {item['entity']} "
                                 "WHERE canonical_id = ?", (item["canonical_id"],)).fetchone()[0]
            if actual is None:
                assert f["before"] is None
                continue
            if f["class"] in SPECIAL:
                assert f["before"] == f"{f['class']} · present"
                continue
            assert f["before"] != str(actual) and f["before"].endswith(" chars)")
            if isinstance(actual, str) and len(actual) > 2:  # numbers and dates are stored in other forms
                assert f"({len(actual)} chars)" in f["before"]
                assert actual not in f["before"] and f["before"].startswith(actual[:2])
                compared += 1
        if item["entity"] == "employee":
            number = next(f for f in item["fields"] if f["field"] == "employee_number")
            assert number["action"] == "hash" and re.fullmatch(r"demo-2026:[0-9a-f]{32}", number["after"])
            assert not any(f["field"].startswith("name.") and f["after"] not in (None, "(withheld)")
                           for f in item["fields"])
    hub.close()
    assert compared >= 10


CASES = """
today: 2026-06-01
cases:
  - name: reporting pseudonymises staff
    destination: reporting
    entity: employee
    record: {employee_number: E00042, name: {first: Olha, last: Bondar}, occupational_health_restrictions: no lifting,
             employment: {hire_date: 2019-04-15, department: Sales}}
    expect:
      absent: [name.first, name.last, occupational_health_restrictions]
      matches: {employee_number: "demo-2026:[0-9a-f]{32}"}
      equals: {employment.hire_date: "2019-04", employment.department: Sales}
"""


def test_policy_test_passes_and_fails_with_exit_codes(synced: Path, tmp_path: Path):
    passing, failing = tmp_path / "passing.yaml", tmp_path / "failing.yaml"
    passing.write_text(CASES)
    failing.write_text(CASES.replace("absent: [name.first,", "present: [name.first]\n      absent: ["))
    ok = cli(synced, "policy", "test", str(passing), "--json")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert [(r["case"], r["passed"]) for r in json.loads(ok.stdout)] == [("reporting pseudonymises staff", True)]
    bad = cli(synced, "policy", "test", str(failing), "--json")
    assert bad.returncode == 1, bad.stderr
    (outcome,) = json.loads(bad.stdout)
    assert not outcome["passed"] and outcome["failures"] == ["name.first was not received"]


def test_policy_preview_shows_special_categories_as_class_and_presence_only(synced: Path, tmp_path: Path):
    copy = copy_of(synced, tmp_path / "preview")
    # The newest employee gets a health note; the sample of one shows that record.
    with sqlite3.connect(copy / ".officehub" / "hub.db") as hub:
        newest = hub.execute("SELECT canonical_id FROM employee ORDER BY change_seq DESC LIMIT 1").fetchone()[0]
        hub.execute("UPDATE employee SET occupational_health_restrictions = 'no lifting over 10 kg', "
                    "background_check__outcome = 'record_found' WHERE canonical_id = ?", (newest,))
    # Reporting may now receive health data under a basis its agreement lists.
    reporting = copy / "policies" / "reporting.yaml"
    reporting.write_text(reporting.read_text()
                         .replace("    valid_until: 2028-06-30\n",
                                  "    valid_until: 2028-06-30\n    special_categories: [{class: medical, basis: gdpr-9-2-h}]\n", 1)
                         .replace("rules:\n", "rules:\n  - id: health-to-reporting\n"
                                  "    select: {field: employee.occupational_health_restrictions}\n"
                                  "    action: allow\n    legal_basis: gdpr-9-2-h\n", 1))
    previewed = len(json.loads(cli(copy, "audit", "list", "--action", "policy.preview", "--json").stdout))
    shown = cli(copy, "policy", "preview", "--destination", "reporting", "--sample", "1", "--json")
    assert shown.returncode == 0, shown.stderr
    [employee] = [p for p in json.loads(shown.stdout) if p["entity"] == "employee"]
    fields = {f["field"]: f for f in employee["fields"]}
    health, check = fields["occupational_health_restrictions"], fields["background_check.outcome"]
    assert (health["class"], health["action"], health["before"], health["after"]) == (
        "medical", "allow", "medical · present", "medical · present")
    assert (check["before"], check["after"]) == ("criminal · present", "(withheld)")
    table = cli(copy, "policy", "preview", "--destination", "reporting", "--sample", "1")
    for output in (shown.stdout, table.stdout):
        assert "no lifting" not in output and "no… (" not in output and "record_found" not in output
        assert "re… (" not in output
    entries = json.loads(cli(copy, "audit", "list", "--action", "policy.preview", "--json").stdout)
    assert len(entries) == previewed + 2 and entries[0]["subject"] == "reporting"
    assert entries[0]["detail"] == {"pipelines": ["reporting_customers_out", "reporting_employees_out",
                                                  "reporting_products_out", "reporting_invoices_out",
                                                  "reporting_inspections_out"], "records": 5, "canonical_ids": 5}


def test_policy_detokenize_round_trip_is_audited_without_the_value(synced: Path):
    from officehub.config import load_project
    from officehub.policies.operators import OperatorContext, Tokenize

    keys = load_project(synced).keyring()
    token = Tokenize(Tokenize.Params(), OperatorContext("employee.bank_account_iban", keys)).apply(
        pa.array([IBAN]))[0].as_py()
    assert token.startswith("tok:demo-2026:")
    done = cli(synced, "policy", "detokenize", token, "--field", "employee.bank_account_iban",
               "--reason", "payroll dispute PD-7")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == IBAN
    entries = json.loads(cli(synced, "audit", "list", "--action", "detokenize", "--json").stdout)
    assert len(entries) == 1
    assert entries[0]["subject"] == "employee.bank_account_iban"
    assert entries[0]["detail"]["reason"] == "payroll dispute PD-7"
    assert entries[0]["detail"]["outcome"] == "recovered"
    assert IBAN not in json.dumps(entries[0]) and token not in json.dumps(entries[0])
    assert json.loads(cli(synced, "audit", "verify", "--json").stdout)["ok"]


def test_policy_detokenize_needs_a_real_reason_and_audits_every_failed_attempt(synced: Path, tmp_path: Path):
    from officehub.config import load_project
    from officehub.policies.operators import OperatorContext, Tokenize

    copy = copy_of(synced, tmp_path / "detokenize")
    keys = load_project(copy).keyring()
    token = Tokenize(Tokenize.Params(), OperatorContext("employee.bank_account_iban", keys)).apply(
        pa.array([IBAN]))[0].as_py()
    iban = ("--field", "employee.bank_account_iban")
    recovered = len(json.loads(cli(copy, "audit", "list", "--action", "detokenize", "--json").stdout))
    for reason in ([], ["--reason", ""], ["--reason", "          "], ["--reason", "because"]):
        refused = cli(copy, "policy", "detokenize", token, *iban, *reason)
        assert refused.returncode == 2 and "--reason" in refused.stderr and IBAN not in refused.stdout
    reason = ("--reason", "payroll dispute PD-7")
    attempts = {"wrong field": (token, "--field", "customer.notes"),
                "wrong key": (token.replace("tok:demo-2026:", "tok:old-2019:"), *iban),
                "garbled": (token[:-6] + "AAAAAA", *iban), "not a token": ("hello", *iban)}
    for args in attempts.values():
        failed = cli(copy, "policy", "detokenize", *args, *reason)
        assert failed.returncode == 2 and failed.stderr.startswith("error ") and len(failed.stderr.splitlines()) == 1
        assert IBAN not in failed.stdout + failed.stderr
    entries = json.loads(cli(copy, "audit", "list", "--action", "detokenize.failed", "--json").stdout)
    assert len(entries) == 4 + len(attempts)
    assert all(e["detail"]["outcome"] == "failed" and e["detail"]["error"] for e in entries)
    assert [e["detail"]["reason"] for e in entries[:len(attempts)]] == ["payroll dispute PD-7"] * len(attempts)
    assert entries[len(attempts)]["detail"]["reason"] == "because"
    assert entries[-1]["detail"]["token_sha256"] == hashlib.sha256(token.encode()).hexdigest()[:16]
    assert IBAN not in json.dumps(entries) and token not in json.dumps(entries)
    assert len(json.loads(cli(copy, "audit", "list", "--action", "detokenize", "--json").stdout)) == recovered


def _tamper_edit(con: sqlite3.Connection) -> int:
    detail = json.loads(con.execute("SELECT detail FROM audit WHERE id = 3").fetchone()[0])
    detail["records"] = detail["records"] - 1
    con.execute("UPDATE audit SET detail = ? WHERE id = 3", (json.dumps(detail),))
    return 3


def _tamper_delete(con: sqlite3.Connection) -> int:
    con.execute("DELETE FROM audit WHERE id = 3")
    return 4


def _tamper_swap(con: sqlite3.Connection) -> int:
    con.execute("UPDATE audit SET id = -2 WHERE id = 2")
    con.execute("UPDATE audit SET id = 2 WHERE id = 3")
    con.execute("UPDATE audit SET id = 3 WHERE id = -2")
    return 2


def test_audit_verify_detects_edits_deletions_and_reordering(synced: Path, tmp_path: Path):
    ok = cli(synced, "audit", "verify", "--json")
    assert ok.returncode == 0, ok.stderr
    result = json.loads(ok.stdout)
    assert result["ok"] and result["entries"] >= 6 and result["broken_at"] is None
    for tamper in (_tamper_edit, _tamper_delete, _tamper_swap):
        copy = copy_of(synced, tmp_path / tamper.__name__)
        con = sqlite3.connect(copy / ".officehub" / "hub.db")
        broken = tamper(con)
        con.commit()
        con.close()
        done = cli(copy, "audit", "verify", "--json")
        assert done.returncode == 1, (tamper.__name__, done.stdout, done.stderr)
        found = json.loads(done.stdout)
        assert not found["ok"] and found["broken_at"] == broken, (tamper.__name__, found)
        expected = "edited" if tamper is _tamper_edit else "removed or reordered"
        assert expected in found["problem"]


def test_publishing_under_an_expired_agreement_fails_and_sends_nothing(synced: Path, tmp_path: Path):
    copy = copy_of(synced, tmp_path / "expired")
    payroll = copy / "policies" / "payroll.yaml"
    payroll.write_text(payroll.read_text().replace("valid_until: 2028-06-30", "valid_until: 2025-12-31"))
    hr = sqlite3.connect(copy / "data" / "hr.db")
    hr.execute("UPDATE employees SET job_title = 'Chief Auditor', updated_at = '2099-01-01T00:00:00' "
               "WHERE emp_id = (SELECT emp_id FROM employees WHERE job_title IS NOT NULL ORDER BY emp_id LIMIT 1)")
    hr.commit()
    hr.close()
    before = sorted(p.name for p in (copy / "out" / "payroll").iterdir())
    done = cli(copy, "sync", "hr_employees_in", "payroll_employees_out", "--json")
    assert done.returncode == 2, done.stdout + done.stderr
    results = {r["pipeline"]: r for r in json.loads(done.stdout)}
    assert results["hr_employees_in"]["status"] == "succeeded" and results["hr_employees_in"]["records_written"] == 1
    failed = results["payroll_employees_out"]
    assert failed["status"] == "failed" and "expired" in failed["error"] and failed["records_written"] == 0
    assert sorted(p.name for p in (copy / "out" / "payroll").iterdir()) == before
