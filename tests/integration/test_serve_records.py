"""The golden record page of the web console, served for real on loopback: lineage, history, reveal.

The identity estate after a sync (see ``identity_estate``): John Smith is held by the CRM and
accounting (linked by e-mail), Taras Shevchuk is an employee under a litigation hold whose
matter reference is legal-class data, and Petro Bondar waits in the review queue.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from officehub.config import load_project
from officehub.engine import open_store
from officehub.services import records
from officehub.services.session import acting
from officehub.store import audit, xref
from tests.helpers import sync_all
from tests.integration import identity_estate
from tests.integration.served import Served, add_users, allow_many_sign_ins, in_hub, serve, signed_in

pytestmark = pytest.mark.slow

ROLES = {"steward": ["steward"], "officer": ["compliance"], "viewer": ["viewer"], "operator": ["operator"]}
REASON = "grievance GRV-2026-12 needs the hold"
#: The litigation hold's matter reference: a legal value that only a reveal shows.
MATTER = identity_estate.HR[0][5]


@pytest.fixture(scope="module")
def estate(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = identity_estate.build(tmp_path_factory.mktemp("records") / "estate")
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


def reveals(folder: Path) -> list[dict[str, Any]]:
    return list(in_hub(folder, lambda conn: audit.entries(conn, "record.reveal", 1000)))


def history_rows(page: str) -> list[list[str]]:
    """The cells of the history table's rows, as text."""
    body = page.split('<table class="history">', 1)[1].split("</table>", 1)[0].split("<tbody>", 1)[1]
    return [[html.unescape(re.sub(r"<[^>]+>", "", cell)).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
            for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)]


def test_a_steward_reads_a_record_with_its_lineage_and_history(estate: Path, served: Served) -> None:
    john = cid(estate, "crm", "1")
    page = signed_in(served, "steward").get(f"/records/{john}")
    assert page.status_code == 200
    row = re.search(r"<th>contact\.email</th>(.*?)</tr>", page.text, re.S)
    assert row, page.text
    cells = [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row.group(1), re.S)]
    value, sensitivity, system, vendor_id, run = cells[:5]
    assert value.lower() == "john.smith@example.com" and sensitivity and system in ("crm", "acct")
    assert vendor_id == {"crm": "1", "acct": "D-1"}[system] and run.isdigit()
    assert "crm" in page.text and "D-1" in page.text  # both holders in the xrefs

    store = open_store(load_project(estate))
    try:
        with acting(store, "user:test") as ctx:
            versions = records.history(ctx, john)
    finally:
        store.close()
    shown = history_rows(page.text)
    assert [r[0] for r in shown] == [str(v["version"]) for v in versions]
    assert [r[5] for r in shown] == [", ".join(v["changed"]) for v in versions]
    assert any("name.first" in r[5] for r in shown)


def test_special_categories_are_withheld_until_revealed_with_a_reason(estate: Path, served: Served) -> None:
    taras = cid(estate, "hr", "E-1", "employee")
    steward, officer = signed_in(served, "steward"), signed_in(served, "officer")
    plain = steward.get(f"/records/{taras}")
    assert plain.status_code == 200 and MATTER not in plain.text
    assert "&lt;withheld&gt;" in plain.text and "1 hold(s), withheld" in plain.text
    assert "litigation_hold.matter_ref" in plain.text and "hr" in plain.text and "E-1" in plain.text
    assert 'action="/records/' not in plain.text  # a steward has no right to reveal: no form is offered
    assert steward.post(f"/records/{taras}/reveal", {"reason": REASON}).status_code == 403

    officer_view = officer.get(f"/records/{taras}")
    assert officer_view.status_code == 200 and MATTER not in officer_view.text
    assert f'action="/records/{taras}/reveal"' in officer_view.text
    before = len(reveals(estate))
    short = officer.post(f"/records/{taras}/reveal", {"reason": "curious"})
    assert short.status_code == 400 and MATTER not in short.text and len(reveals(estate)) == before

    shown = officer.post(f"/records/{taras}/reveal", {"reason": REASON})
    assert shown.status_code == 200 and MATTER in shown.text and shown.headers["cache-control"] == "no-store"
    assert "employee.litigation_hold (legal)" in shown.text
    [entry, *_] = reveals(estate)
    assert len(reveals(estate)) == before + 1
    assert (entry["actor"], entry["subject"]) == ("console:officer", f"employee {taras}")
    assert entry["detail"]["reason"] == REASON and "litigation_hold.matter_ref" in entry["detail"]["fields"]
    assert MATTER not in str(entry)


def test_roles_without_the_right_are_refused(estate: Path, served: Served) -> None:
    john = cid(estate, "crm", "1")
    for login in ("viewer", "operator"):
        person = signed_in(served, login)
        assert person.get(f"/records/{john}").status_code == 403
        assert person.post(f"/records/{john}/reveal", {"reason": REASON}).status_code == 403
    assert signed_in(served, "steward").get("/records/no-such-record").status_code == 404


def test_the_review_queue_and_subject_hits_link_to_the_records(estate: Path, served: Served) -> None:
    queue = signed_in(served, "steward").get("/reviews")
    linked = re.findall(r'href="/records/([^"]+)"', queue.text)
    assert linked and len(linked) % 2 == 0
    assert signed_in(served, "steward").get(f"/records/{linked[0]}").status_code == 200
    hits = signed_in(served, "officer").get("/subjects?q=Bondar")
    assert f'href="/records/{cid(estate, "crm", "3")}"' in hits.text


def test_a_project_without_sites_says_so(served: Served) -> None:
    page = signed_in(served, "viewer").get("/sites")
    assert page.status_code == 200 and "This project has no peer sites" in page.text
