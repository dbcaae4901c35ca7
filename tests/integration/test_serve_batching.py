"""Lookups by id that arrive together are served as one audited batch; API tokens are remembered briefly.

The demo estate's application (the ASGI app in-process, requests sent concurrently): each
request gets its own record or its own 404, the batch leaves one ``api.read`` entry naming
every id it released and how many requests it answered; a batch whose audit entry cannot be
written fails each of its requests and releases nothing. A revoked token is refused once the
time a process remembers tokens for has passed.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from officehub.canonical_model.errors import RetriableError
from officehub.serve.app import create_app
from officehub.serve.batching import Batcher
from officehub.services import api_tokens, audit_trail
from officehub.store.schema import TABLES
from tests.integration import api_estates
from tests.integration.api_estates import SCOPES, SETUP, audit_entries, last_audit_id, store_of

pytestmark = pytest.mark.slow

UNKNOWN = "00000000-0000-7000-8000-000000000000"


@pytest.fixture(scope="module")
def estate(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return api_estates.build_demo(tmp_path_factory.mktemp("batching") / "demo")


@pytest.fixture
def app(estate: Path) -> Iterator[Any]:
    served = create_app(estate)
    served.state.hub.batcher = Batcher(window=0.3)  # wide enough that every request sent together joins
    yield served
    served.state.hub.store.close()


def _active(estate: Path, count: int) -> list[dict[str, Any]]:
    table = TABLES["customer"]
    with store_of(estate) as store, store.begin() as conn:
        rows = conn.execute(sa.select(table.c.canonical_id, table.c.sole_vendor_id).where(
            table.c.status == "active", table.c.sole_vendor_id.isnot(None)).order_by(table.c.canonical_id)
            .limit(count))
        return [dict(r._mapping) for r in rows]


def _get_together(app: Any, token: str, paths: list[str]) -> list[httpx.Response]:
    async def sent() -> list[httpx.Response]:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hub",
                                     headers={"Authorization": f"Bearer {token}"}) as client:
            return list(await asyncio.gather(*(client.get(p) for p in paths)))

    return asyncio.run(sent())


def test_lookups_sent_together_get_their_own_records_under_one_audit_entry_naming_every_id(
        app: Any, estate: Path) -> None:
    rows = _active(estate, 4)
    token = api_estates.token(estate, "webshop", SCOPES)
    before = last_audit_id(estate)
    ids = [r["canonical_id"] for r in rows]
    responses = _get_together(app, token, [f"/api/v1/customer/records/{cid}" for cid in [*ids, UNKNOWN]])
    assert [r.status_code for r in responses] == [200, 200, 200, 200, 404]
    assert [r.json()["canonical_id"] for r in responses[:4]] == ids
    assert responses[4].json() == {"error": f"no customer record {UNKNOWN}"}
    entries = audit_entries(estate, after=before, actions=("api.read",))
    assert len(entries) == 1
    detail = entries[0]["detail"]
    assert sorted(detail["ids"]) == sorted(ids)
    assert (detail["records"], detail["requests"], detail["not_found"]) == (4, 5, 1)
    assert detail["agreement"] and detail["plan"]


def test_lookups_by_a_systems_own_id_sent_together_are_one_batch(app: Any, estate: Path) -> None:
    rows = _active(estate, 3)
    token = api_estates.token(estate, "webshop", SCOPES)
    before = last_audit_id(estate)
    paths = [f"/api/v1/customer/systems/crm/records/{r['sole_vendor_id']}" for r in rows]
    responses = _get_together(app, token, [*paths, "/api/v1/customer/systems/crm/records/no-such-number"])
    assert [r.status_code for r in responses] == [200, 200, 200, 404]
    assert [r.json()["canonical_id"] for r in responses[:3]] == [r["canonical_id"] for r in rows]
    entries = audit_entries(estate, after=before, actions=("api.read",))
    assert len(entries) == 1 and sorted(entries[0]["detail"]["ids"]) == sorted(r["canonical_id"] for r in rows)
    assert entries[0]["detail"]["requests"] == 4


def test_a_batch_whose_audit_entry_fails_fails_each_request_and_releases_nothing(
        app: Any, estate: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rows = _active(estate, 3)
    token = api_estates.token(estate, "webshop", SCOPES)
    before = last_audit_id(estate)

    def refused(*_: Any, **__: Any) -> str:
        raise RetriableError("the audit trail could not record this operation (its head moved); nothing was done, "
                             "try again")

    monkeypatch.setattr("officehub.services.hub_api.audit.append", refused)
    responses = _get_together(app, token, [f"/api/v1/customer/records/{r['canonical_id']}" for r in rows])
    assert [r.status_code for r in responses] == [503, 503, 503]
    assert len({r.text for r in responses}) == 1
    assert all(r["canonical_id"] not in resp.text for r in rows for resp in responses)
    assert not audit_entries(estate, after=before, actions=("api.read",))


def _unique_emails(estate: Path, count: int) -> dict[str, str]:
    """``count`` e-mail addresses each held by one active customer: address → canonical id."""
    table = TABLES["customer"]
    with store_of(estate) as store, store.begin() as conn:
        rows = conn.execute(sa.select(table.c.canonical_id, table.c.contact__email).where(
            table.c.status == "active", table.c.contact__email.isnot(None))).all()
    holders: dict[str, list[str]] = {}
    for cid, email in rows:
        holders.setdefault(email.lower(), []).append(cid)
    return dict(sorted((email, ids[0]) for email, ids in holders.items() if len(ids) == 1)[:count])


def test_searches_sent_together_keep_an_entry_each_appended_in_one_transaction(
        app: Any, estate: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    emails = _unique_emails(estate, 4)
    token = api_estates.token(estate, "webshop", SCOPES)
    app.state.hub.audits.batcher = Batcher(window=0.3)  # every search sent together joins one append
    appended: list[int] = []
    append_many = audit_trail.audit.append_many

    def counted(conn: Any, entries: Any) -> list[str]:
        appended.append(len(entries))
        return append_many(conn, entries)

    monkeypatch.setattr(audit_trail.audit, "append_many", counted)
    before = last_audit_id(estate)
    responses = _get_together(app, token, [f"/api/v1/customer/search?email={e.upper()}" for e in emails])
    assert [r.status_code for r in responses] == [200] * 4
    assert [[rec["canonical_id"] for rec in r.json()["records"]] for r in responses] == [[c] for c in emails.values()]
    assert appended == [4]  # one append of four entries, not four transactions queueing for the chain's head
    entries = audit_entries(estate, after=before, actions=("api.search",))
    assert sorted(e["detail"]["ids"][0] for e in entries) == sorted(emails.values())
    assert all(e["detail"]["records"] == 1 and e["detail"]["agreement"] for e in entries)


def test_a_search_whose_audit_entry_cannot_be_appended_answers_503_and_releases_nothing(
        app: Any, estate: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    emails = _unique_emails(estate, 2)
    token = api_estates.token(estate, "webshop", SCOPES)
    before = last_audit_id(estate)

    def refused(*_: Any, **__: Any) -> list[str]:
        raise RetriableError("the audit trail could not record this operation (its head moved); nothing was done, "
                             "try again")

    monkeypatch.setattr(audit_trail.audit, "append_many", refused)
    responses = _get_together(app, token, [f"/api/v1/customer/search?email={e}" for e in emails])
    assert [r.status_code for r in responses] == [503, 503]
    assert all(cid not in r.text and email not in r.text for email, cid in emails.items() for r in responses)
    assert not audit_entries(estate, after=before, actions=("api.search",))


def test_a_revoked_token_is_refused_once_the_time_a_process_remembers_it_has_passed(estate: Path) -> None:
    with store_of(estate) as store:
        issued, token = api_tokens.issue(store, SETUP, "webshop", "tests-cache", list(SCOPES))
        holders = api_tokens.Holders(ttl=0.5)
        assert holders.of(store, token) is not None
        api_tokens.revoke(store, SETUP, issued.id)
        assert api_tokens.holder(store, token) is None  # the store refuses it at once
        assert holders.of(store, token) is not None  # a process that saw it lately still knows it
        time.sleep(0.6)
        assert holders.of(store, token) is None
        assert holders.cached(token) == (True, None)
        assert holders.of(store, "ohk_never-issued") is None
