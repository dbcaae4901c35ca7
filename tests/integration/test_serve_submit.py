"""An application submits records through the hub API: they go through mapping, checks, identity and the
quarantine exactly like an ingest, and the application learns each record's outcome."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import copy_demo_config
from tests.helpers import sync_all
from tests.integration.served import Served, audit_entries, issue_token, serve

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def estate(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from officehub.demo.seed import seed_estate

    folder = copy_demo_config(tmp_path_factory.mktemp("submit") / "demo")
    seed_estate(folder / "data", customers=80, employees=10, products=10)
    results = sync_all(folder)
    assert {r.status for r in results.values()} == {"succeeded"}, {n: r.error for n, r in results.items()}
    return folder


@pytest.fixture(scope="module")
def served(estate: Path) -> Iterator[Served]:
    server = serve(estate)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def token(estate: Path) -> str:
    return issue_token(estate, "webshop", ["read", "submit"])


def known_customer(folder: Path) -> tuple[str, str]:
    hub = sqlite3.connect(folder / ".officehub" / "hub.db")
    try:
        return hub.execute("SELECT canonical_id, contact__email FROM customer WHERE contact__email IS NOT NULL "
                           "AND status = 'active' ORDER BY canonical_id LIMIT 1").fetchone()
    finally:
        hub.close()




def test_submitted_records_are_stored_linked_or_quarantined_like_an_ingest(served: Served, estate: Path,
                                                                            token: str) -> None:
    existing, email = known_customer(estate)
    records = [
        {"id": "W-1", "first_name": "Oksana", "last_name": "Levchenko", "email": "oksana.levchenko@shop.example",
         "phone": "+380 44 555 1212", "city": "Lviv", "postal_code": "79000", "country": "ua"},
        {"id": "W-2", "first_name": "Someone", "last_name": "Known", "email": email.upper()},
        {"id": "W-3", "first_name": "Bad", "last_name": "Address", "email": "not-an-address"},
    ]
    with served.api(token) as api:
        response = api.post("/api/v1/customer/records", json={"records": records})
        assert response.status_code == 200, response.text
        outcome = {r["id"]: r for r in response.json()["records"]}
        assert outcome["W-1"]["status"] == "stored"
        assert outcome["W-2"] == {"id": "W-2", "status": "stored", "canonical_id": existing, "review": False}
        assert outcome["W-3"]["status"] == "quarantined" and outcome["W-3"]["reason"].startswith("contact.email")
        assert "not-an-address" not in response.text
        fetched = api.get(f"/api/v1/customer/records/{outcome['W-1']['canonical_id']}").json()
        assert fetched["fields"]["address"]["city"] == "Lviv"
        assert fetched["fields"]["contact"]["phone"] == "+380445551212"
    entry = audit_entries(estate, "api.submit")[0]
    assert entry["actor"] == "client:webshop" and entry["detail"]["records"] == 3
    assert entry["detail"]["quarantined"] == 1 and "not-an-address" not in str(entry)
    assert not list((estate / ".officehub" / "api-inbox" / "webshop").glob("*.jsonl"))


def test_submitting_a_changed_record_updates_the_same_golden_record(served: Served, token: str) -> None:
    with served.api(token) as api:
        first = api.post("/api/v1/customer/records", json={"records": [
            {"id": "W-10", "first_name": "Ivan", "last_name": "Franko", "email": "ivan.franko@shop.example"}]})
        again = api.post("/api/v1/customer/records", json={"records": [
            {"id": "W-10", "first_name": "Ivan", "last_name": "Franko", "email": "ivan.franko@shop.example",
             "city": "Drohobych"}]})
        cid = first.json()["records"][0]["canonical_id"]
        assert again.json()["records"][0]["canonical_id"] == cid
        assert api.get(f"/api/v1/customer/records/{cid}").json()["fields"]["address"]["city"] == "Drohobych"


def test_a_submission_is_refused_whole_when_it_cannot_be_taken_in(served: Served, estate: Path, token: str) -> None:
    reader = issue_token(estate, "webshop", ["read"])
    with served.api(token) as api, served.api(reader) as read_only:
        no_id = api.post("/api/v1/customer/records", json={"records": [{"first_name": "No", "last_name": "Id"}]})
        assert no_id.status_code == 400 and "needs the application's own id" in no_id.json()["error"]
        assert api.post("/api/v1/employee/records", json={"records": [{"id": "1"}]}).status_code == 403
        assert read_only.post("/api/v1/customer/records", json={"records": [{"id": "1"}]}).status_code == 403
        assert api.post("/api/v1/customer/records", json={"records": []}).status_code == 422
        malformed = api.post("/api/v1/customer/records", content=b"{not json",
                             headers={"content-type": "application/json"})
        assert malformed.status_code == 422 and "Traceback" not in malformed.text


def test_the_access_log_keeps_no_query_string(served: Served, estate: Path) -> None:
    searcher = issue_token(estate, "webshop", ["search"])
    with served.api(searcher) as api:
        assert api.get("/api/v1/customer/search", params={"email": "query.in.log@shop.example"}).status_code == 200
    log = served.log.read_text()
    assert "/api/v1/customer/search?…" in log and "query.in.log" not in log
