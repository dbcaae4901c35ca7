"""Data-subject requests in the web console, served for real on loopback: find, export, erase with four eyes.

The identity estate after a sync (see ``identity_estate``): Iryna Melnyk and Olena Kovalenko
are customers the CRM holds, Taras Shevchuk is an employee under a litigation hold. One
server serves the module; two compliance officers sign in as themselves.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from officehub.engine.subjects import locate
from officehub.store import xref
from tests.helpers import sync_all
from tests.integration import identity_estate
from tests.integration.served import Served, add_users, allow_many_sign_ins, audit_entries, in_hub, serve, signed_in

pytestmark = pytest.mark.slow

ROLES = {"officer": ["compliance"], "second-officer": ["compliance"], "steward": ["steward"], "viewer": ["viewer"]}
REASON = "subject request DSR-2026-031 by e-mail"
#: The litigation hold's matter reference: a legal value that only a reveal shows.
MATTER = identity_estate.HR[0][5]


@pytest.fixture(scope="module")
def estate(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = identity_estate.build(tmp_path_factory.mktemp("subjects") / "estate")
    allow_many_sign_ins(folder)
    results = sync_all(folder)
    assert {r.status for r in results.values()} == {"succeeded"}, {n: r.error for n, r in results.items()}
    add_users(folder, ROLES)
    return folder


@pytest.fixture(scope="module")
def served(estate: Path) -> Iterator[Served]:
    server = serve(estate)
    yield server
    server.stop()






def cid(folder: Path, system: str, vendor_id: str, entity: str = "customer") -> str:
    return str(in_hub(folder, lambda conn: xref.lookup(conn, system, entity, [vendor_id])[vendor_id]))


def status_of(folder: Path, canonical_id: str) -> str:
    return str(in_hub(folder, lambda conn: locate(conn, canonical_id)[1]["status"]))




def proposal_of(folder: Path, canonical_id: str) -> int:
    """The newest erasure proposal of ``canonical_id``, from its audit entry."""
    [newest, *_] = [e for e in audit_entries(folder, "subject.erase.propose") if e["detail"]["canonical_id"] == canonical_id]
    return int(newest["detail"]["proposal"])


def problem(page: str) -> str:
    """The one-line message of an error page."""
    found = re.search(r'<article class="problem">\s*<h2>[^<]*</h2>\s*<p>([^<]+)', page)
    return found.group(1) if found else ""


# -- find and export ------------------------------------------------------------------------------------


def test_an_officer_finds_a_person_with_the_systems_that_hold_them(estate: Path, served: Served) -> None:
    officer = signed_in(served, "officer")
    iryna = cid(estate, "crm", "4")
    page = officer.get("/subjects?q=iryna.melnyk@example.com")
    assert page.status_code == 200
    assert f'href="/subjects/{iryna}"' in page.text and f'href="/records/{iryna}"' in page.text
    assert "Melnyk" in page.text and "crm 4" in page.text
    assert "Nothing found" in officer.get("/subjects?q=nobody@example.com").text


def test_the_export_downloads_as_json_and_withholds_special_values_unless_revealed(estate: Path,
                                                                                  served: Served) -> None:
    officer = signed_in(served, "officer")
    taras = cid(estate, "hr", "E-1", "employee")
    preview = officer.get(f"/subjects/{taras}")
    assert preview.status_code == 200 and MATTER not in preview.text and "&lt;withheld&gt;" in preview.text
    assert preview.headers["cache-control"] == "no-store"

    plain = officer.post(f"/subjects/{taras}/export")
    assert plain.status_code == 200 and plain.headers["cache-control"] == "no-store"
    assert plain.headers["content-disposition"] == f'attachment; filename="employee-{taras}.json"'
    data = plain.json()
    assert data["canonical_id"] == taras and MATTER not in plain.text
    assert data["record"]["litigation_hold__matter_ref"] == "<withheld>"
    [entry] = [e for e in audit_entries(estate, "subject.export") if e["detail"]["to"] == "console download"]
    assert (entry["actor"], entry["subject"]) == ("console:officer", f"employee {taras}")
    assert entry["detail"] == {"to": "console download", "reveal": False}

    refused = officer.post(f"/subjects/{taras}/export", {"reveal": "1", "reason": "because"})
    assert refused.status_code == 400 and MATTER not in refused.text and "reason" in problem(refused.text)
    assert len([e for e in audit_entries(estate, "subject.export") if e["detail"]["to"] == "console download"]) == 1

    revealed = officer.post(f"/subjects/{taras}/export", {"reveal": "1", "reason": REASON})
    assert revealed.status_code == 200 and revealed.json()["record"]["litigation_hold__matter_ref"] == MATTER
    newest = next(e for e in audit_entries(estate, "subject.export") if e["detail"]["to"] == "console download")
    assert newest["actor"] == "console:officer"
    assert newest["detail"] == {"to": "console download", "reveal": True, "reason": REASON}
    assert MATTER not in json.dumps(newest, default=str)


def test_roles_without_the_right_are_refused(estate: Path, served: Served) -> None:
    iryna = cid(estate, "crm", "4")
    for login in ("viewer", "steward"):
        person = signed_in(served, login)
        assert person.get("/subjects").status_code == 403
        assert person.get(f"/subjects/{iryna}").status_code == 403
        assert person.post(f"/subjects/{iryna}/export").status_code == 403
        assert person.post(f"/subjects/{iryna}/erase", {"reason": REASON}).status_code == 403
    assert status_of(estate, iryna) == "active"


# -- erasure with a second person's approval ------------------------------------------------------------


def test_an_erasure_needs_a_second_officer_and_then_runs_everywhere(estate: Path, served: Served) -> None:
    officer, second = signed_in(served, "officer"), signed_in(served, "second-officer")
    iryna = cid(estate, "crm", "4")
    dry_run = officer.get(f"/subjects/{iryna}")
    assert "would delete" in dry_run.text and "would erase" in dry_run.text and "Propose the erasure" in dry_run.text

    proposed = officer.post(f"/subjects/{iryna}/erase", {"reason": REASON})
    assert proposed.status_code == 303 and proposed.headers["location"].startswith(f"/subjects/{iryna}?notice=")
    proposal = proposal_of(estate, iryna)
    listing = second.get("/subjects")
    assert f'action="/subjects/erasures/{proposal}/approve"' in listing.text
    assert f'action="/subjects/erasures/{proposal}/approve"' not in officer.get("/subjects").text
    assert officer.post(f"/subjects/{iryna}/erase", {"reason": REASON}).status_code == 400  # one at a time

    own = officer.post(f"/subjects/erasures/{proposal}/approve")
    assert own.status_code == 400 and "a second person must sign this off" in problem(own.text)
    assert status_of(estate, iryna) == "active"

    approved = second.post(f"/subjects/erasures/{proposal}/approve")
    assert approved.status_code == 303 and "erased" in approved.headers["location"]
    assert status_of(estate, iryna) == "erased"
    with sqlite3.connect(estate / "data" / "crm.db") as crm:
        assert crm.execute("SELECT count(*) FROM customers WHERE id = 4").fetchone() == (0,)

    [propose] = [e for e in audit_entries(estate, "subject.erase.propose") if e["detail"]["proposal"] == proposal]
    [approve] = [e for e in audit_entries(estate, "subject.erase.approve") if e["detail"]["proposal"] == proposal]
    [erase] = [e for e in audit_entries(estate, "subject.erase") if e["subject"] == f"customer {iryna}"]
    assert (propose["actor"], propose["detail"]["reason"]) == ("console:officer", REASON)
    assert (approve["actor"], approve["detail"]["proposed_by"]) == ("console:second-officer", "console:officer")
    assert approve["detail"]["status"] == "erased" and erase["actor"] == "console:second-officer"
    assert "Melnyk" not in json.dumps([propose, approve], default=str)

    after = officer.get(f"/subjects/{iryna}")
    assert after.status_code == 200 and "nothing left to erase" in after.text
    assert "Melnyk" not in after.text and "erased" in after.text


def test_a_legal_hold_refuses_the_approved_erasure_and_nothing_is_deleted(estate: Path, served: Served) -> None:
    officer, second = signed_in(served, "officer"), signed_in(served, "second-officer")
    taras = cid(estate, "hr", "E-1", "employee")
    page = officer.get(f"/subjects/{taras}")
    assert "An erasure would be refused" in page.text and "employee.litigation_hold (legal)" in page.text

    assert officer.post(f"/subjects/{taras}/erase", {"reason": REASON}).status_code == 303
    proposal = proposal_of(estate, taras)
    refused = second.post(f"/subjects/erasures/{proposal}/approve")
    assert refused.status_code == 303
    shown = second.get(refused.headers["location"])
    assert "Refused: a legal hold keeps" in shown.text and "nothing was deleted anywhere" in shown.text
    assert "refused (legal hold)" in shown.text

    assert status_of(estate, taras) == "active"
    with sqlite3.connect(estate / "data" / "hr.db") as hr:
        assert hr.execute("SELECT count(*) FROM staff WHERE emp_id = 'E-1'").fetchone() == (1,)
    [entry] = [e for e in audit_entries(estate, "subject.erase.refused") if e["subject"] == f"employee {taras}"]
    assert entry["actor"] == "console:second-officer"
    [approve] = [e for e in audit_entries(estate, "subject.erase.approve") if e["detail"]["proposal"] == proposal]
    assert approve["detail"]["status"] == "refused (legal hold)" and approve["detail"]["legal_holds"] == 1
    assert not [e for e in audit_entries(estate, "subject.erase") if e["subject"] == f"employee {taras}"]


def test_a_proposal_is_withdrawn_by_its_proposer_or_rejected_by_another(estate: Path, served: Served) -> None:
    officer, second = signed_in(served, "officer"), signed_in(served, "second-officer")
    olena = cid(estate, "crm", "2")
    assert officer.post(f"/subjects/{olena}/erase", {"reason": REASON}).status_code == 303
    first = proposal_of(estate, olena)
    assert second.post(f"/subjects/erasures/{first}/withdraw").status_code == 400
    assert officer.post(f"/subjects/erasures/{first}/withdraw").status_code == 303
    assert officer.post(f"/subjects/erasures/{first}/approve").status_code == 400  # already withdrawn

    assert officer.post(f"/subjects/{olena}/erase", {"reason": REASON}).status_code == 303
    again = proposal_of(estate, olena)
    assert again != first
    assert second.post(f"/subjects/erasures/{again}/reject").status_code == 303
    assert status_of(estate, olena) == "active"
    [rejected] = [e for e in audit_entries(estate, "subject.erase.reject") if e["detail"]["proposal"] == again]
    assert rejected["actor"] == "console:second-officer"
    [withdrawn] = [e for e in audit_entries(estate, "subject.erase.withdraw") if e["detail"]["proposal"] == first]
    assert withdrawn["actor"] == "console:officer"
    page = officer.get(f"/subjects/{olena}")
    assert "withdrawn" in page.text and "rejected" in page.text and "Propose the erasure" in page.text


def test_a_post_without_the_csrf_token_is_refused(estate: Path, served: Served) -> None:
    officer = signed_in(served, "officer")
    olena = cid(estate, "crm", "2")
    assert officer.post(f"/subjects/{olena}/erase", {"reason": REASON}, csrf="forged").status_code == 403
