"""The web console in a real browser: headless Chromium (Selenium) on ``officehub serve`` with the demo estate.

Each test is one person's errand, done as they would do it: following the menu, typing into
fields and pressing buttons by the words on them. It checks what the page then shows and
what the hub recorded (the audit trail, the hub store, the project's files).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from officehub.config import load_project
from officehub.engine import open_store
from officehub.engine.subjects import locate
from officehub.services import accounts, erasures
from officehub.store import audit, matches
from officehub.store import bookkeeping as bk
from tests.e2e.console import Person

pytestmark = pytest.mark.slow

People = Callable[[str | None], Person]
REASON = "complaint CMP-2026-204 about a rejected row"


def in_hub(folder: Path, query: Callable[[Any], Any]) -> Any:
    """``query(conn)`` on the estate's hub store."""
    store = open_store(load_project(folder))
    try:
        with store.begin() as conn:
            return query(conn)
    finally:
        store.close()


def recorded(folder: Path, action: str) -> list[dict[str, Any]]:
    """The audit trail's entries of ``action``, newest first."""
    return in_hub(folder, lambda conn: audit.entries(conn, action, 1000))


# -- (a) signing in ---------------------------------------------------------------------------------------


def test_a_newcomer_signs_in_with_a_one_time_password_and_chooses_their_own(estate: Path, person: People) -> None:
    store = open_store(load_project(estate))
    try:
        _, made = accounts.add(store, "user:test-setup", "newcomer", ["viewer"], display_name="A Newcomer")
    finally:
        store.close()
    own = "a-password-of-my-own"

    someone = person(None).open("/quarantine")
    assert someone.path == "/login?next=/quarantine" and someone.heading == "Sign in"
    someone.fill("login", "newcomer").fill("password", "not-the-password-at-all").press("Sign in")
    assert "wrong login or password" in someone.problem
    assert someone.field("login").get_attribute("value") == "newcomer"

    someone.fill("password", str(made)).press("Sign in")
    assert someone.path == "/account/password"
    assert "You signed in with a one-time password" in someone.text
    assert someone.open("/").path == "/account/password"  # nothing else until the password is chosen
    someone.fill("current", str(made)).fill("new", own).press("Save")
    assert someone.heading == "Overview" and someone.notice == "Your password is changed"
    assert "A Newcomer" in someone.text

    assert someone.sign_out().path == "/login"
    assert someone.sign_in("newcomer", own).heading == "Overview"
    logins = [e for e in recorded(estate, "user.login") if e["actor"] == "console:newcomer"]
    changed = [e for e in recorded(estate, "user.password") if e["actor"] == "console:newcomer"]
    failed = [e for e in recorded(estate, "user.login.failed") if e["subject"] == logins[0]["subject"]]
    assert len(logins) == 2 and len(changed) == 1 and len(failed) == 1
    assert not [e for e in (*logins, *changed, *failed) if own in str(e) or str(made) in str(e)]


# -- (b) a steward settles a match review -----------------------------------------------------------------


def test_a_steward_merges_a_pair_and_it_leaves_the_queue(estate: Path, person: People) -> None:
    steward = person("steward").follow("Reviews")
    cards = steward.driver.find_elements("css selector", "main article[id^='review-']")
    assert cards and steward.heading == f"Match reviews {len(cards)} waiting"
    pair = cards[-1]
    review_id = int(pair.get_attribute("id").removeprefix("review-"))

    from selenium.webdriver.support.ui import WebDriverWait

    # htmx posts the form and swaps the outcome in where the pair was: no page load.
    steward.button("Same — merge", within=pair).click()
    decided = WebDriverWait(steward.driver, 30).until(
        lambda d: d.find_element("id", f"review-{review_id}") if "merged into" in
        d.find_element("id", f"review-{review_id}").text else False)
    merged = re.search(rf"Pair {review_id} merged into (\S+)", decided.text)
    assert merged, decided.text
    assert steward.button("Undo", within=decided).is_displayed()
    steward.follow("Reviews")
    assert not steward.driver.find_elements("id", f"review-{review_id}")
    assert steward.heading == f"Match reviews {len(cards) - 1} waiting"

    assert in_hub(estate, lambda conn: matches.review(conn, review_id))["decided_by"] == "console:steward"
    [merge] = [e for e in recorded(estate, "record.merge") if e["subject"].endswith(merged.group(1))]
    assert merge["actor"] == "console:steward"


# -- (c) a compliance officer reveals a quarantined record ------------------------------------------------


def test_an_officer_reveals_a_quarantined_record_for_a_reason_and_finds_it_in_the_audit(estate: Path,
                                                                                        person: People) -> None:
    officer = person("officer-a").follow("Quarantine")
    first = officer.driver.find_element("css selector", "main table tbody tr")
    item = int(first.find_element("css selector", "td").text)
    officer.follow(str(item), within=first)
    assert officer.heading == f"Quarantined record {item}"
    held = in_hub(estate, lambda conn: bk.get_quarantined(conn, item))
    values = [str(v) for v in held["raw"].values() if v not in (None, "", held["vendor_id"])]
    assert values and {c.text for c in officer.driver.find_elements("css selector", "td.withheld")} == {"<hidden>"}
    assert not [v for v in values if len(v) > 3 and v in officer.text]

    officer.fill("reason", "because")
    officer.button("Reveal").click()  # the browser itself refuses a reason this short
    assert officer.path == f"/quarantine/{item}"
    assert officer.driver.execute_script("return arguments[0].validity.tooShort", officer.field("reason"))

    officer.fill("reason", REASON).press("Reveal")
    assert "this reveal is in the audit trail under your name" in officer.text
    assert all(v in officer.text for v in values)

    officer.follow("Audit").fill("action", "quarantine.reveal").press("Filter")
    table = officer.driver.find_element("css selector", "main table")
    newest = officer.rows(table)[0]
    assert newest[2:5] == ["console:officer-a", "quarantine.reveal", f"quarantine {item}"]
    assert REASON in newest[5]
    entry = recorded(estate, "quarantine.reveal")[0]
    assert (entry["actor"], entry["subject"], entry["detail"]["reason"]) == ("console:officer-a", f"quarantine {item}",
                                                                             REASON)
    assert not [v for v in values if len(v) > 3 and v in str(entry)]


# -- (d) a policy change, signed off by a second officer --------------------------------------------------

CHANGE = "change request CR-2026-31: checkout shows credit limits"
FINANCIAL = "    select: {entity: customer, class: financial}\n    action: "


def matrix_cell(someone: Person, destination: str, field: str) -> str:
    """What the policy matrix says ``destination`` receives of ``field``."""
    table = someone.driver.find_element("css selector", "table.matrix")
    header = [th.text.split("\n")[0] for th in table.find_elements("css selector", "thead tr:first-child th")]
    [row] = [r for r in someone.rows(table) if r[0] == field]
    return row[header.index(destination)].split("\n")[0]


def test_a_policy_change_proposed_by_one_officer_is_in_force_once_another_signs_it_off(estate: Path,
                                                                                       person: People) -> None:
    a = person("officer-a").follow("Policies")
    assert matrix_cell(a, "webshop", "credit_limit.amount") == "drop"
    a.follow("Propose a change").choose("file", "policies/webshop.yaml").press("Edit this file")
    text = a.field("text").get_attribute("value")
    assert text == (estate / "policies" / "webshop.yaml").read_text()
    a.fill("text", text.replace(FINANCIAL + "drop", FINANCIAL + "allow")).fill("reason", CHANGE)
    a.press("Check and propose")
    found = re.fullmatch(r"/policies/proposals/(\d+)\?notice=.*", a.path)
    assert found and a.notice == "Proposed: a second compliance officer signs it off"
    proposal = int(found.group(1))
    assert not a.driver.find_elements("xpath", '//button[normalize-space()="Sign off — put it in force"]')
    assert FINANCIAL + "drop" in (estate / "policies" / "webshop.yaml").read_text()

    b = person("officer-b").follow("Policies")
    b.follow(str(proposal), within=b.driver.find_element("xpath", "//h3[.='Changes']/following-sibling::table"))
    changes = b.rows(b.driver.find_element("css selector", "main table"))
    assert ["webshop", "customer", "credit_limit.amount", "drop", "allow"] in [r[:5] for r in changes]
    b.press("Preview on recent records")
    assert "Would receive" in b.text
    b.press("Sign off — put it in force")
    assert b.path.startswith("/policies?notice=")
    assert re.fullmatch(rf"Proposal {proposal} is in force \(policy version \S+\)", b.notice), b.notice
    assert matrix_cell(b, "webshop", "credit_limit.amount") == "allow"

    assert FINANCIAL + "allow" in (estate / "policies" / "webshop.yaml").read_text()
    assert recorded(estate, "policy.change.propose")[0]["actor"] == "console:officer-a"
    approved = recorded(estate, "policy.change.approve")[0]
    assert (approved["actor"], approved["detail"]["proposed_by"]) == ("console:officer-b", "console:officer-a")


# -- (e) a data subject's erasure, approved by a second officer -------------------------------------------

ERASURE = "subject request DSR-2026-077 by e-mail"


def erasable_customer(folder: Path) -> dict[str, Any]:
    """An active customer with an e-mail address whom no legal hold keeps."""
    project = load_project(folder)
    store = open_store(project)
    try:
        with store.begin() as conn:
            rows = conn.exec_driver_sql("SELECT canonical_id FROM customer WHERE status = 'active' "
                                        "AND contact__email IS NOT NULL ORDER BY canonical_id").all()
            found = [locate(conn, r[0])[1] for r in rows]
        for row in found:
            dry_run = erasures.preview(project, store, "user:test-setup", row["canonical_id"])
            if dry_run is not None and not dry_run.held_by:
                return row
    finally:
        store.close()
    raise AssertionError("the demo estate has no customer to erase")


def test_an_erasure_proposed_by_one_officer_runs_when_another_approves_it(estate: Path, person: People) -> None:
    subject = erasable_customer(estate)
    canonical_id, email = subject["canonical_id"], subject["contact__email"]
    a = person("officer-a").follow("Subjects")
    a.fill("q", email).press("Find")
    a.follow(canonical_id)
    assert a.heading.startswith(f"customer {canonical_id}")
    assert "What an erasure would do now" in a.text
    erase = a.driver.find_element("css selector", "form[action$='/erase']")
    a.fill("reason", ERASURE, within=erase).press("Propose the erasure", within=erase)
    found = re.match(r"Erasure proposed \(proposal (\d+)\)", a.notice)
    assert found, a.notice
    proposal = int(found.group(1))
    mine = a.driver.find_element("id", f"proposal-{proposal}")
    assert "waiting" in mine.text and a.button("Withdraw", within=mine)
    assert not mine.find_elements("xpath", './/button[normalize-space()="Approve and erase"]')
    assert in_hub(estate, lambda conn: locate(conn, canonical_id)[1]["status"]) == "active"

    b = person("officer-b").follow("Subjects")
    b.press("Approve and erase", within=b.driver.find_element("id", f"proposal-{proposal}"))
    assert b.path.startswith(f"/subjects/{canonical_id}?notice=")
    assert b.notice.startswith(f"Proposal {proposal} approved: customer {canonical_id} erased"), b.notice
    assert "nothing left to erase" in b.text and email not in b.text

    assert in_hub(estate, lambda conn: locate(conn, canonical_id)[1]["status"]) == "erased"
    [proposed] = [e for e in recorded(estate, "subject.erase.propose") if e["detail"]["proposal"] == proposal]
    [approved] = [e for e in recorded(estate, "subject.erase.approve") if e["detail"]["proposal"] == proposal]
    assert (proposed["actor"], proposed["detail"]["reason"]) == ("console:officer-a", ERASURE)
    assert (approved["actor"], approved["detail"]["proposed_by"]) == ("console:officer-b", "console:officer-a")
