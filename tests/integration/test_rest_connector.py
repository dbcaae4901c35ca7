"""The REST connector against a real loopback HTTP server playing two vendor APIs.

The vendors are configured by the YAML files in examples/rest/, loaded the way the hub
loads a system; only the address, page sizes, timeouts and retry pauses are changed
so the tests run fast.
"""

from __future__ import annotations

import logging
import time
from email.utils import formatdate
from pathlib import Path

import pyarrow as pa
import pytest
import yaml
from pydantic import ValidationError

from officehub.canonical_model.errors import FatalError, OfficehubError, RetriableError
from officehub.config.models import SystemConfig
from officehub.connectors import ReadBatch, ReadOptions, WriteMode, connector_class
from officehub.connectors.rest import RejectedRecords, RestConfig, RestConnector
from officehub.connectors.rest.pagination import OffsetPaginator, Paginator
from tests.conftest import ROOT
from tests.integration.vendor_api import CLIENT_SECRET, CRM, CRM_KEY, HELPDESK, Fault, VendorApi, stamp

EXAMPLES = ROOT / "examples" / "rest"
PAGE_SIZES = {"contacts": 5, "deals": 4, "tickets": 4, "agents": 3}
SECRETS = (CRM_KEY, CLIENT_SECRET)


def vendor_settings(vendor: str) -> tuple[str, dict]:
    """The system's name and connector settings from its example YAML, as the hub reads them."""
    doc = yaml.safe_load((EXAMPLES / f"{vendor}.yaml").read_text(encoding="utf-8"))
    ((name, system),) = doc["systems"].items()
    return name, SystemConfig.model_validate(system).connector_settings()


@pytest.fixture
def api():
    server = VendorApi(token_lifetime_s=60).start()
    server.seed()
    yield server
    server.stop()


@pytest.fixture
def make(api: VendorApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A factory: a connector for one of the example vendors, pointed at the test server."""
    monkeypatch.setenv("ACME_CRM_API_KEY", CRM_KEY)
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "helpdesk_client_secret").write_text(CLIENT_SECRET + "\n", encoding="utf-8")
    opened: list[RestConnector] = []

    def build(vendor: str, cls: type[RestConnector] = RestConnector, **overrides) -> RestConnector:
        name, settings = vendor_settings(vendor)
        settings.update(base_url=api.url + (CRM if vendor == "acme_crm" else HELPDESK),
                        timeouts={"connect_s": 2, "read_s": 2}, retries={"max_attempts": 4, "backoff_s": 0.01})
        for stream, spec in settings["streams"].items():
            spec["pagination"]["page_size"] = PAGE_SIZES[stream]
        settings.update(overrides)
        connector = cls(name, RestConfig.model_validate(settings), tmp_path)
        opened.append(connector)
        return connector

    yield build
    for connector in opened:
        connector.close()


def read(connector: RestConnector, stream: str, cursor: dict | None = None, batch_size: int = 1) -> list[ReadBatch]:
    return list(connector.read(stream, cursor, ReadOptions(batch_size=batch_size)))


def ids(batches: list[ReadBatch]) -> list[int]:
    return [i for b in batches if b.batch.num_rows for i in b.batch.column("id").to_pylist()]


def gets(api: VendorApi, path: str) -> list:
    return api.requests_to("GET", path)


# -- the vendor descriptions --------------------------------------------------------------------

def test_both_example_vendors_load_as_the_hub_loads_systems():
    assert connector_class("rest") is RestConnector
    crm = RestConfig.model_validate(vendor_settings("acme_crm")[1])
    desk = RestConfig.model_validate(vendor_settings("helpdesk")[1])
    assert (crm.auth.type, desk.auth.type) == ("api_key", "oauth2_client_credentials")
    assert {s.pagination.style for s in crm.streams.values()} == {"page_number", "offset"}
    assert {s.pagination.style for s in desk.streams.values()} == {"link_header", "cursor"}
    assert crm.streams["contacts"].record_path == "data.items" and desk.streams["tickets"].record_path == ""


@pytest.mark.parametrize("settings, complaint", [
    ({"headers": {"Authorization": "Bearer abc"}}, "carry credentials"),
    ({"base_url": "https://api.example/v2?api_key=abc"}, "must not carry"),
    ({"streams": {"s": {"path": "/s", "write": {"upsert": {"method": "PUT", "path": "/s"}}}}}, "names the record"),
    ({"streams": {"s": {"path": "/s", "pagination": {"style": "pages"}}}}, "style"),
])
def test_config_refuses_credentials_in_plain_sight_and_unaddressed_writes(settings: dict, complaint: str):
    base = {"base_url": "https://api.example/v2", "streams": {"s": {"path": "/s"}}}
    with pytest.raises(ValidationError) as caught:
        RestConfig.model_validate({**base, **settings})
    messages = " ".join(e["msg"] for e in caught.value.errors(include_input=False))  # as `officehub check` shows them
    assert complaint in messages and "abc" not in messages


# -- full reads and pagination ----------------------------------------------------------------------

def test_crm_contacts_are_read_page_by_page_from_data_items(make, api: VendorApi):
    batches = read(make("acme_crm"), "contacts")
    assert ids(batches) == list(range(1, 24))  # the vendor sorts by change time, then id
    assert [h.query["page"] for h in gets(api, CRM + "/contacts")] == ["1", "2", "3", "4", "5"]  # 5,5,5,5,3
    first = batches[0].batch
    assert first.schema.field("id").type == pa.int64()
    assert first.column("address.city").to_pylist()[:2] == ["Kyiv", "Lviv"]  # nested objects flattened
    assert [b.batch.num_rows for b in batches] == [5, 5, 5, 5, 3]  # a batch is one or more whole pages
    tags = [t for b in batches for t in b.batch.column("tags").to_pylist()]
    assert tags[4] == '["vip"]' and tags[0] == "[]"  # lists kept as JSON text
    assert batches[0].positions[0] == "key 1"
    assert batches[-1].cursor == {"since": stamp(7), "seen": [[21], [22], [23]]}


def test_helpdesk_tickets_are_read_from_a_top_level_list_following_link_headers(make, api: VendorApi):
    batches = read(make("helpdesk"), "tickets", batch_size=100)
    assert ids(batches) == list(range(101, 118))
    assert len(gets(api, HELPDESK + "/v1/tickets")) == 5  # 4+4+4+4+1, the last without a next link
    assert len(batches) == 1  # pages are gathered up to the batch size
    assert "requester.email" in batches[0].batch.schema.names


@pytest.mark.parametrize("vendor, stream, expected, requests", [
    ("acme_crm", "deals", list(range(1, 12)), 3),    # offsets 0, 4, 8 (a short page ends it)
    ("helpdesk", "agents", list(range(1, 8)), 3),    # cursor tokens from meta.next_cursor
])
def test_offset_and_cursor_token_pagination_read_everything(make, api: VendorApi, vendor, stream, expected, requests):
    batches = read(make(vendor), stream)
    path = (CRM if vendor == "acme_crm" else HELPDESK + "/v1") + f"/{stream}"
    assert ids(batches) == expected
    assert len(gets(api, path)) == requests
    assert batches[-1].cursor is None  # a finished full read starts from the top next time
    assert all(b.cursor and "page" in b.cursor for b in batches[:-1])


def test_a_vendor_that_caps_the_page_size_is_still_read_to_the_end(make, api: VendorApi):
    settings = vendor_settings("acme_crm")[1]["streams"]
    settings["contacts"]["pagination"]["page_size"] = 500  # the CRM sends at most 50 a page
    api.seed(contacts=120)
    batches = read(make("acme_crm", streams=settings), "contacts", batch_size=1000)
    assert ids(batches) == list(range(1, 121))
    assert [h.query["page"] for h in gets(api, CRM + "/contacts")] == ["1", "2", "3"]  # 50, 50, 20


# -- incremental reads and resuming ---------------------------------------------------------------------

def test_incremental_read_gets_late_records_at_the_boundary_time_and_nothing_twice(make, api: VendorApi):
    crm = make("acme_crm")
    cursor = read(crm, "contacts")[-1].cursor
    assert cursor == {"since": stamp(7), "seen": [[21], [22], [23]]}
    # A contact saved with the boundary's timestamp after the read, and a later change.
    api.contacts[24] = {"id": 24, "name": "Late", "email": "late@example.com", "updated_at": stamp(7)}
    api.contacts[2]["updated_at"] = stamp(9)

    second = read(crm, "contacts", cursor)
    assert ids(second) == [24, 2]
    assert gets(api, CRM + "/contacts")[-1].query["updated_since"] == stamp(7)
    assert second[-1].cursor == {"since": stamp(9), "seen": [[2]]}
    assert ids(read(crm, "contacts", second[-1].cursor)) == []


def test_incremental_read_of_a_vendor_not_sorted_by_change_time(make, api: VendorApi):
    # Tickets come in id order while their change times run the other way, so the newest
    # change is on the first page: the bookmark may only move at the end of the pass.
    desk = make("helpdesk")
    first = read(desk, "tickets")
    assert ids(first) == list(range(101, 118))
    assert first[-1].cursor == {"since": stamp(8), "seen": [[101], [102]]}
    api.tickets[117]["modified_at"] = stamp(8)   # joins the boundary after the read
    api.tickets[110]["modified_at"] = stamp(20)
    second = read(desk, "tickets", first[-1].cursor)
    assert ids(second) == [110, 117]
    assert second[-1].cursor == {"since": stamp(20), "seen": [[110]]}


@pytest.mark.parametrize("vendor, stream", [("acme_crm", "contacts"), ("helpdesk", "tickets"),
                                            ("acme_crm", "deals"), ("helpdesk", "agents")])
def test_reading_resumes_from_any_batch_cursor_without_gaps_or_repeats(make, vendor: str, stream: str):
    connector = make(vendor)
    batches = read(connector, stream)
    everything = ids(batches)
    assert len(batches) > 2
    for index, batch in enumerate(batches[:-1]):
        rest = read(connector, stream, batch.cursor)
        assert ids(batches[:index + 1]) + ids(rest) == everything, f"resuming after batch {index}"
        assert rest[-1].cursor == batches[-1].cursor  # the same bookmark as an uninterrupted read


def test_the_hubs_read_options_take_precedence_but_may_not_contradict_the_vendor_filter(make):
    crm = make("acme_crm")
    batches = list(crm.read("contacts", None, ReadOptions(key=("email",), cursor_field="updated_at", batch_size=50)))
    assert batches[-1].cursor["seen"] == [["c21@example.com"], ["c22@example.com"], ["c23@example.com"]]
    with pytest.raises(FatalError, match="not the stream's incremental.cursor_field updated_at"):
        next(crm.read("contacts", None, ReadOptions(key=("id",), cursor_field="name")))


def test_an_expired_page_token_restarts_the_pass_instead_of_failing(make, api: VendorApi, caplog):
    desk = make("helpdesk")
    first = next(iter(desk.read("agents", None, ReadOptions(batch_size=1))))
    assert "token" in first.cursor["page"]
    api.forget_page_tokens()
    with caplog.at_level(logging.WARNING):
        rest = read(desk, "agents", first.cursor)
    assert ids(rest) == list(range(1, 8))  # read again from the start: nothing lost
    assert "no longer valid" in caplog.text


# -- retries, timeouts, tokens ------------------------------------------------------------------

def test_429_and_503_are_retried_honouring_retry_after_in_seconds(make, api: VendorApi):
    api.inject(CRM + "/contacts", Fault(429, retry_after="1"), Fault(503))
    assert ids(read(make("acme_crm"), "contacts")) == list(range(1, 24))
    first_page = [h for h in gets(api, CRM + "/contacts") if h.query["page"] == "1"]
    assert [h.status for h in first_page] == [429, 503, 200]
    assert first_page[1].at - first_page[0].at >= 0.95   # waited as Retry-After asked
    assert first_page[2].at - first_page[1].at < 0.5     # short backoff without Retry-After


def test_retry_after_as_an_http_date_is_honoured(make, api: VendorApi):
    api.inject(HELPDESK + "/v1/agents", Fault(429, retry_after=formatdate(time.time() + 2, usegmt=True)))
    assert ids(read(make("helpdesk"), "agents")) == list(range(1, 8))
    first, second = gets(api, HELPDESK + "/v1/agents")[:2]
    assert (first.status, second.status) == (429, 200)
    assert 0.9 <= second.at - first.at < 3


def test_retries_are_bounded_and_then_retriable_naming_the_status(make, api: VendorApi):
    api.inject(CRM + "/deals", *[Fault(503)] * 5)
    with pytest.raises(RetriableError) as caught:
        read(make("acme_crm"), "deals")
    assert len(gets(api, CRM + "/deals")) == 4  # max_attempts
    assert caught.value.system == "acme_crm" and caught.value.stream == "deals"
    assert "GET /deals answered HTTP 503" in str(caught.value)


def test_every_nth_request_failing_does_not_change_what_is_read(make, api: VendorApi):
    api.fail_every = 3
    assert ids(read(make("acme_crm"), "contacts")) == list(range(1, 24))
    assert sum(h.status == 503 for h in api.hits) >= 2


def test_a_hanging_server_is_a_retriable_error_within_the_timeout(make, api: VendorApi):
    api.inject(CRM + "/contacts", *[Fault(200, hang_s=10)] * 3)
    crm = make("acme_crm", timeouts={"connect_s": 1, "read_s": 0.3}, retries={"max_attempts": 2, "backoff_s": 0})
    started = time.monotonic()
    with pytest.raises(RetriableError) as caught:
        read(crm, "contacts")
    assert time.monotonic() - started < 2  # 2 attempts × 0.3 s, not 10 s
    assert "no usable answer" in str(caught.value) and "ReadTimeout" in str(caught.value)


def test_an_oauth2_token_is_renewed_before_it_expires(make, api: VendorApi):
    api.token_lifetime_s = 1.0  # renewed after half of it
    desk = make("helpdesk")
    read(desk, "agents")
    assert api.token_requests == 1  # cached across requests
    time.sleep(0.6)
    read(desk, "agents")
    assert api.token_requests == 2
    assert not any(h.status == 401 for h in api.hits)


def test_a_401_renews_the_token_once_and_repeats_the_request(make, api: VendorApi):
    desk = make("helpdesk")
    read(desk, "agents")
    api.revoke_tokens()
    assert ids(read(desk, "agents")) == list(range(1, 8))
    assert api.token_requests == 2
    assert sum(h.status == 401 for h in api.hits) == 1


def test_a_401_after_renewal_is_fatal_without_looping(make, api: VendorApi):
    api.inject(HELPDESK + "/v1/agents", Fault(401), Fault(401), Fault(401))
    with pytest.raises(FatalError, match="refused the credentials"):
        read(make("helpdesk"), "agents")
    assert api.token_requests == 2 and len(gets(api, HELPDESK + "/v1/agents")) == 2


# -- writes ---------------------------------------------------------------------------------------------

NEW_CONTACTS = pa.RecordBatch.from_pylist([
    {"email": f"new{i}@example.com", "name": f"New {i}", "address.city": "Odesa"} for i in range(3)])


def test_a_write_resent_under_the_same_batch_id_creates_no_duplicate(make, api: VendorApi):
    crm = make("acme_crm")
    # The vendor does the work for the first record but its answer is lost: the retry
    # carries the same idempotency key and gets the first answer back.
    api.inject(CRM + "/contacts", Fault(lose_answer=True))
    assert crm.write("contacts", NEW_CONTACTS, WriteMode.APPEND, key=("email",), batch_id="7-9") == 3
    assert crm.write("contacts", NEW_CONTACTS, WriteMode.APPEND, key=("email",), batch_id="7-9") == 3
    created = [c for c in api.contacts.values() if c["email"].startswith("new")]
    assert len(created) == 3 and api.replays == 4
    assert created[0]["address"] == {"city": "Odesa"}  # flattened columns nested again
    crm.write("contacts", NEW_CONTACTS, WriteMode.APPEND, key=("email",), batch_id="10-12")
    assert len([c for c in api.contacts.values() if c["email"].startswith("new")]) == 6  # a new batch is new


def test_a_record_the_vendor_refuses_is_reported_and_the_others_are_written(make, api: VendorApi):
    batch = pa.RecordBatch.from_pylist([
        {"id": 1, "name": "Ann", "email": "ann@example.com"},
        {"id": 2, "name": "Bob", "email": "bob-at-nowhere"},
        {"id": 3, "name": "Cy", "email": "cy@example.com"},
    ])
    with pytest.raises(RejectedRecords) as caught:
        make("acme_crm").write("contacts", batch, WriteMode.UPSERT, key=("id",), batch_id="41-43")
    error = caught.value
    assert error.written == 2 and [r.position for r in error.rejects] == ["batch 41-43 row 1"]
    assert error.rejects[0].raw["email"] == "bob-at-nowhere" and "HTTP 422" in error.rejects[0].reason
    assert "bob-at-nowhere" not in str(error)  # the vendor's body quotes it; the message must not
    assert (api.contacts[1]["name"], api.contacts[3]["name"]) == ("Ann", "Cy")
    assert api.contacts[2]["email"] == "c2@example.com"


def test_a_refused_bulk_chunk_is_resent_record_by_record(make, api: VendorApi):
    batch = pa.RecordBatch.from_pylist([{"id": 900 + i, "subject": f"S{i}", "status": s}
                                        for i, s in enumerate(["open", "bogus", "closed"])])
    with pytest.raises(RejectedRecords) as caught:
        make("helpdesk").write("tickets", batch, WriteMode.UPSERT, key=("id",), batch_id="5-7")
    assert [r.position for r in caught.value.rejects] == ["batch 5-7 row 1"]
    assert {900, 902} <= set(api.tickets) and 901 not in api.tickets
    assert [h.status for h in api.requests_to("POST", HELPDESK + "/v1/tickets/bulk")] == [422]
    assert len(api.requests_to("POST", HELPDESK + "/v1/tickets")) == 3


def test_delete_by_key_and_a_mode_the_vendor_lacks(make, api: VendorApi):
    gone = pa.RecordBatch.from_pylist([{"id": 4}, {"id": 5}])
    crm = make("acme_crm")
    assert crm.write("contacts", gone, WriteMode.DELETE, key=("id",), batch_id="1") == 2
    assert crm.write("contacts", gone, WriteMode.DELETE, key=("id",), batch_id="2") == 2  # already gone is fine
    assert 4 not in api.contacts and 5 not in api.contacts
    with pytest.raises(FatalError, match="no 'delete' endpoint"):
        make("helpdesk").write("tickets", gone, WriteMode.DELETE, key=("id",), batch_id="1")


# -- no secrets, clear failures ----------------------------------------------------------------------

def test_no_secret_or_query_string_appears_in_errors_or_logs(make, api: VendorApi, monkeypatch, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    failures: list[OfficehubError] = []
    crm = make("acme_crm")
    cursor = read(crm, "contacts")[-1].cursor
    api.inject(CRM + "/contacts", *[Fault(503)] * 4)
    with pytest.raises(RetriableError) as caught:
        read(crm, "contacts", cursor)  # the request carries ?updated_since=…
    failures.append(caught.value)
    monkeypatch.setenv("ACME_CRM_API_KEY", "wrong-" + CRM_KEY)
    with pytest.raises(FatalError) as caught:
        read(make("acme_crm"), "deals")
    failures.append(caught.value)
    (tmp_path / "secrets" / "helpdesk_client_secret").write_text("wrong-" + CLIENT_SECRET, encoding="utf-8")
    with pytest.raises(FatalError) as caught:
        read(make("helpdesk"), "agents")
    failures.append(caught.value)
    texts = [str(e) for e in failures] + [repr(e) for e in failures] + [caplog.text]
    assert not [t for t in texts for s in SECRETS if s in t]
    assert not any("updated_since" in str(e) or "?" in str(e) for e in failures)
    assert all(e.__cause__ is None and (e.__context__ is None or e.__suppress_context__) for e in failures)
    assert "refused the client credentials (HTTP 401)" in str(failures[2])


def test_a_missing_secret_is_named_by_its_reference(make, monkeypatch):
    monkeypatch.delenv("ACME_CRM_API_KEY")
    with pytest.raises(FatalError) as caught:
        make("acme_crm").check()
    assert str(caught.value) == "system 'acme_crm': environment variable ACME_CRM_API_KEY is not set"


# -- discovery and hooks -----------------------------------------------------------------------------------

def test_discover_infers_fields_from_a_sample_page(make):
    streams = {s.name: s for s in make("acme_crm").discover()}
    contacts = streams["contacts"]
    types = {f.name: f.type for f in contacts.fields}
    assert types == {"id": "int64", "name": "string", "email": "string", "address.city": "string",
                     "address.country": "string", "tags": "string", "updated_at": "string"}
    assert contacts.primary_key == ("id",) and contacts.cursor_candidates == ("updated_at",)
    assert {f.name: f.type for f in streams["deals"].fields} == {"id": "int64", "title": "string",
                                                                 "amount": "float64", "won": "bool"}


class _StopAtTotal(OffsetPaginator):
    """The CRM tells the total: stop there instead of asking for an empty page."""

    def next(self, state, response, body, records):
        following = super().next(state, response, body, records)
        return following if following and following["offset"] < body["data"]["total"] else None


class AcmeCrm(RestConnector):
    """A vendor quirk as a small subclass: one hook overridden."""

    def paginator(self, stream: str) -> Paginator:
        if stream == "deals":
            return _StopAtTotal(self.config.streams[stream].pagination)
        return super().paginator(stream)


def test_a_subclass_overrides_one_hook(make, api: VendorApi):
    api.deals = {i: {"id": i, "title": f"D{i}"} for i in range(1, 13)}  # 3 full pages of 4
    assert ids(read(make("acme_crm"), "deals")) == list(range(1, 13))
    plain = len(gets(api, CRM + "/deals"))
    assert ids(read(make("acme_crm", cls=AcmeCrm), "deals")) == list(range(1, 13))
    assert (plain, len(gets(api, CRM + "/deals")) - plain) == (4, 3)
