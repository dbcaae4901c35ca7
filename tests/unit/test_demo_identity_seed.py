"""The demo's accounting debtors meet the demo's identity rules as the seed promises.

Each debtor is mapped with the demo's own mappings and decided by the real matcher
against the CRM's customers, so a change to the rules, the mappings or the seed that
would move a debtor from "linked" to "review" (or back) fails here, by account number.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from officehub.config import Project, load_project
from officehub.demo.seed import SeedSummary, seed_estate
from officehub.identity import Candidate, Decision, Matcher, normalise_text
from officehub.mapping import InboundMapping

Estate = tuple[Path, SeedSummary, dict[str, Decision]]

DEMO = Path(__file__).resolve().parents[2] / "examples" / "demo"


@pytest.fixture(scope="module")
def project() -> Project:
    return load_project(DEMO)


def _records(project: Project, db: Path, table: str, mapping: str, clean: bool = True) -> dict[str, dict[str, Any]]:
    """Vendor id → golden columns, through the demo's mapping; reported deletes and dirty rows left out."""
    with closing(sqlite3.connect(db)) as conn:
        cursor = conn.execute(f"SELECT * FROM {table}")
        names = [d[0] for d in cursor.description]
        rows = cursor.fetchall()
    batch = pa.RecordBatch.from_pydict({n: pa.array([r[i] for r in rows], pa.string()) for i, n in enumerate(names)})
    compiled = InboundMapping(project.config.mappings[mapping], mapping)
    if (deleted := compiled.deleted(batch)) is not None:
        batch = batch.filter(pc.invert(deleted))
    mapped = compiled.apply(batch)
    assert not clean or mapped.errors == {}, f"{mapping}: rows that would be quarantined: {mapped.errors}"
    columns = {name: col.to_pylist() for name, col in mapped.columns.items()}
    return {vid: {name: col[i] for name, col in columns.items()} for i, vid in enumerate(mapped.vendor_ids)}


def _decisions(project: Project, data_dir: Path) -> dict[str, Decision]:
    """Every open debtor decided against the CRM's customers (the golden records before accounting runs).

    Candidates are found as the hub store finds them: by the match keys and blocks a debtor shares.
    """
    matcher = Matcher("customer", project.config.identity.customer.match)
    crm = _records(project, data_dir / "crm.db", "CUST", "crm_customers", clean=False)
    index: dict[tuple[str, str], list[Candidate]] = {}
    for custno, values in crm.items():
        for pair in matcher.index_keys(values):
            index.setdefault(pair, []).append(Candidate(custno, values, frozenset({"crm"})))
    debtors = _records(project, data_dir / "accounting.db", "DEBTORS", "accounting_debtors")
    return {acct: matcher.decide(values, "accounting", [c for pair in matcher.index_keys(values)
                                                         for c in index.get(pair, [])])
            for acct, values in debtors.items()}


@pytest.fixture(scope="module")
def estate(tmp_path_factory: pytest.TempPathFactory, project: Project) -> Estate:
    data_dir = tmp_path_factory.mktemp("identity")
    summary = seed_estate(data_dir)
    return data_dir, summary, _decisions(project, data_dir)


def _assert_intended(summary: SeedSummary, decisions: dict[str, Decision]) -> None:
    cases = summary.identity
    outcome = {acct: (d.outcome, d.canonical_id, d.evidence.get("method")) for acct, d in decisions.items()}
    expected = {
        **{acct: ("link", custno, "key") for acct, custno in cases.by_key.items()},
        **{acct: ("link", custno, "fuzzy") for acct, custno in cases.by_fuzzy.items()},
        **{acct: ("review", custno, "fuzzy") for acct, custno in cases.review.items()},
    }
    wrong = {acct: (outcome[acct], want) for acct, want in expected.items() if outcome[acct] != want}
    assert wrong == {}
    strays = {acct: outcome[acct] for acct in cases.new if outcome[acct][0] != "new"}
    assert strays == {}
    assert set(decisions) == set(expected) | set(cases.new)  # closed accounts are deletes, not records


def test_every_debtor_ends_where_the_seed_says(estate: Estate) -> None:
    _, summary, decisions = estate
    _assert_intended(summary, decisions)


def test_the_mix_of_cases(estate: Estate) -> None:
    _, summary, _ = estate
    cases = summary.identity
    clean_crm = summary.customers - summary.dirty["crm.CUST"]
    overlap = len(cases.by_key) + len(cases.by_fuzzy) + len(cases.review)
    assert 0.35 * clean_crm <= overlap <= 0.45 * clean_crm
    assert len(cases.by_fuzzy) >= 20 and len(cases.review) >= 3 and len(cases.closed) == 2
    assert 0.08 * clean_crm <= len(cases.new) <= 0.12 * clean_crm
    assert summary.debtors == overlap + len(cases.new) + len(cases.closed)


def test_fuzzy_links_are_spelled_differently_and_share_no_key(estate: Estate, project: Project) -> None:
    data_dir, summary, _ = estate
    crm = _records(project, data_dir / "crm.db", "CUST", "crm_customers", clean=False)
    debtors = _records(project, data_dir / "accounting.db", "DEBTORS", "accounting_debtors")

    def name(values: dict[str, Any]) -> str | None:
        return normalise_text(f"{values['name__first']} {values['name__last']}")

    fuzzy = summary.identity.by_fuzzy
    for acct, custno in fuzzy.items():
        assert debtors[acct]["contact__email"] is None
        assert debtors[acct]["contact__phone"] is None or debtors[acct]["contact__phone"] != crm[custno]["contact__phone"]
    respelled = [acct for acct, custno in fuzzy.items() if name(debtors[acct]) != name(crm[custno])]
    assert len(respelled) >= 0.8 * len(fuzzy)
    for acct, custno in summary.identity.review.items():
        assert name(debtors[acct]) == name(crm[custno]) or debtors[acct]["birth_date"] != crm[custno]["birth_date"]


def test_review_scores_sit_between_the_thresholds(estate: Estate, project: Project) -> None:
    _, summary, decisions = estate
    fuzzy = project.config.identity.customer.match.fuzzy
    scores = [decisions[acct].score for acct in summary.identity.review]
    assert all(fuzzy.review_at <= s < fuzzy.link_at for s in scores)


def test_the_held_employee_is_also_a_customer(estate: Estate) -> None:
    data_dir, summary, _ = estate
    held = summary.identity.held
    assert held is not None and set(held.ids) == {"hr", "crm"}
    with closing(sqlite3.connect(data_dir / "hr.db")) as hr:
        employee = hr.execute("SELECT first_name, last_name, email FROM employees WHERE emp_id = ?",
                              (held.ids["hr"],)).fetchone()
        active = hr.execute("SELECT active FROM litigation_holds WHERE emp_id = ?", (held.ids["hr"],)).fetchone()
    with closing(sqlite3.connect(data_dir / "crm.db")) as crm:
        customer = crm.execute("SELECT FNAME, LNAME, EMAIL FROM CUST WHERE CUSTNO = ?", (held.ids["crm"],)).fetchone()
        same_mail = crm.execute("SELECT count(*) FROM CUST WHERE lower(EMAIL) = ?", (held.email,)).fetchone()[0]
    with closing(sqlite3.connect(data_dir / "accounting.db")) as acc:
        debtor = acc.execute("SELECT count(*) FROM DEBTORS WHERE lower(MAIL) = ?", (held.email,)).fetchone()[0]
    assert employee == customer and employee[2] == held.email
    assert active == (1,) and same_mail == 1 and debtor == 0


def test_the_erasable_customer_is_in_crm_and_accounting_only(estate: Estate) -> None:
    data_dir, summary, _ = estate
    erasable = summary.identity.erasable
    assert erasable is not None and set(erasable.ids) == {"crm", "accounting"}
    assert summary.identity.by_key[erasable.ids["accounting"]] == erasable.ids["crm"]
    with closing(sqlite3.connect(data_dir / "accounting.db")) as acc:
        mail = acc.execute("SELECT MAIL FROM DEBTORS WHERE ACCT_NO = ?", (erasable.ids["accounting"],)).fetchone()
    with closing(sqlite3.connect(data_dir / "hr.db")) as hr:
        staff = hr.execute("SELECT count(*) FROM employees WHERE lower(email) = ?", (erasable.email,)).fetchone()
    assert mail == (erasable.email,) and staff == (0,)


@pytest.mark.parametrize("seed", [1, 7])
def test_other_seeds_keep_their_promises(tmp_path: Path, project: Project, seed: int) -> None:
    summary = seed_estate(tmp_path, customers=300, employees=40, products=10, seed=seed)
    _assert_intended(summary, _decisions(project, tmp_path))
    assert len(summary.identity.review) >= 3 and summary.identity.held is not None


def test_tiny_estates_still_seed(tmp_path: Path) -> None:
    summary = seed_estate(tmp_path, customers=1, employees=1, products=1)
    assert summary.debtors == 2 and summary.identity.by_key == {} and summary.identity.erasable is None
