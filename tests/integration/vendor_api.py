"""A real HTTP server on loopback playing two differently shaped vendor APIs, for the REST connector's tests.

- **CRM** under ``/crm/api/v2``: an API key in ``X-Api-Key``; ``contacts`` paged by page
  number, records in ``{"data": {"items": [...]}}``, filtered by ``updated_since`` and sorted
  by change time; ``deals`` paged by offset/limit; contacts written one by one
  (POST creates with a new id, PUT /contacts/{id} creates or replaces, DELETE removes).
- **Helpdesk** under ``/helpdesk``: OAuth2 client credentials (``/oauth/token``, tokens that
  expire after ``token_lifetime_s``); ``tickets`` as a top-level JSON list paged by
  ``Link`` headers, filtered by ``modified_after`` but sorted by id, not by change time;
  ``agents`` paged by a cursor token in the body; tickets written in bulk (all or nothing)
  or one by one.

Both remember idempotency keys (the same key gets the first answer again and nothing is
done twice) and refuse bad records with 422, quoting the bad value as real vendors do.
Faults are deterministic: ``inject`` scripts the answers to the next requests to a path
(429 with ``Retry-After``, 503, a hang, an answer lost after the work was done), and
``fail_every`` answers every Nth request with 503.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from tests.leak_scan import register_secret

CRM_KEY = register_secret("crm-Sup3rSecret-apikey", "api key")
CLIENT_ID = "officehub-sync"
CLIENT_SECRET = register_secret("hd-Sup3rSecret-client", "client secret")
BASE_TIME = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)

CRM = "/crm/api/v2"
HELPDESK = "/helpdesk"


def stamp(minutes: float) -> str:
    """An ISO 8601 UTC time ``minutes`` after the test epoch, as the vendors write it."""
    return (BASE_TIME + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@dataclass
class Fault:
    """A scripted answer: a status (with Retry-After), a hang, or a lost answer."""

    status: int = 503
    retry_after: str | None = None
    hang_s: float = 0.0
    lose_answer: bool = False  # do the work, then drop the connection without answering


@dataclass
class Hit:
    """One request the server received."""

    method: str
    path: str
    query: dict[str, str]
    status: int
    at: float
    idempotency_key: str | None


@dataclass
class Answer:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


class VendorApi:
    """Both vendors, their in-memory data, their faults and a log of every request."""

    def __init__(self, token_lifetime_s: float = 60.0) -> None:
        self.token_lifetime_s = token_lifetime_s
        self.lock = threading.RLock()
        self.contacts: dict[int, dict] = {}
        self.deals: dict[int, dict] = {}
        self.tickets: dict[int, dict] = {}
        self.agents: list[dict] = []
        self.tokens: dict[str, float] = {}
        self.page_tokens: dict[str, int] = {}
        self.idempotent: dict[str, Answer] = {}
        self.replays = 0
        self.token_requests = 0
        self.fail_every: int | None = None
        self.hits: list[Hit] = []
        self._faults: dict[str, deque[Fault]] = {}
        self._count = 0
        self._clock = 10_000
        self._stopping = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.api = self  # type: ignore[attr-defined]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="vendor-api", daemon=True)

    # -- life cycle ------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> VendorApi:
        """Serve in a background thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Release hung requests and stop serving."""
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()

    # -- test controls -----------------------------------------------------------------------------
    def seed(self, contacts: int = 23, deals: int = 11, tickets: int = 17, agents: int = 7) -> None:
        """Deterministic data: contacts share change times in threes; tickets' change times run against their ids."""
        for i in range(1, contacts + 1):
            self.contacts[i] = {"id": i, "name": f"Contact {i}", "email": f"c{i}@example.com",
                                "address": {"city": "Kyiv" if i % 2 else "Lviv", "country": "UA"},
                                "tags": ["vip"] if i % 5 == 0 else [], "updated_at": stamp(i // 3)}
        for i in range(1, deals + 1):
            self.deals[i] = {"id": i, "title": f"Deal {i}", "amount": 1000.5 * i, "won": i % 3 == 0}
        for n in range(tickets):
            tid = 101 + n
            self.tickets[tid] = {"id": tid, "subject": f"Ticket {tid}", "status": "open",
                                 "requester": {"email": f"r{tid}@example.com"},
                                 "modified_at": stamp((tickets - n) // 2)}
        self.agents = [{"id": 1 + n, "name": f"Agent {n + 1}", "active": n % 4 != 3} for n in range(agents)]

    def inject(self, path: str, *faults: Fault) -> None:
        """Answer the next requests whose path starts with ``path`` with these faults, in order."""
        with self.lock:
            self._faults.setdefault(path, deque()).extend(faults)

    def tick(self) -> str:
        """The vendor's clock: a new, later change time on every call."""
        with self.lock:
            self._clock += 1
            return stamp(self._clock)

    def revoke_tokens(self) -> None:
        """Forget every OAuth2 token, as a vendor does on a key rotation."""
        with self.lock:
            self.tokens.clear()

    def forget_page_tokens(self) -> None:
        """Expire every agents cursor token handed out so far."""
        with self.lock:
            self.page_tokens.clear()

    def requests_to(self, method: str, path: str) -> list[Hit]:
        """The logged requests with this method and exact path."""
        return [h for h in self.hits if h.method == method and h.path == path]

    # -- serving ---------------------------------------------------------------------------------------
    def serve(self, handler: _Handler) -> None:
        """Answer one request: a scripted fault, or the vendor's real behaviour."""
        url = urlsplit(handler.path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        fault = self._next_fault(url.path)
        if fault is not None and fault.hang_s:
            self._stopping.wait(fault.hang_s)
        if fault is not None and not fault.lose_answer:
            answer = Answer(fault.status, {"error": "try later"},
                            {"Retry-After": fault.retry_after} if fault.retry_after else {})
        else:
            answer = self._route(handler, url.path, query, raw)
        key = handler.headers.get("Idempotency-Key") or handler.headers.get("X-Idempotency-Key")
        with self.lock:
            self.hits.append(Hit(handler.command, url.path, query, answer.status, time.monotonic(), key))
        if fault is not None and fault.lose_answer:
            handler.close_connection = True  # the work is done, but the client never hears of it
            return
        handler.answer(answer)

    def _next_fault(self, path: str) -> Fault | None:
        with self.lock:
            self._count += 1
            for prefix, queue in self._faults.items():
                if queue and path.startswith(prefix):
                    return queue.popleft()
            if self.fail_every and self._count % self.fail_every == 0 and not path.endswith("/oauth/token"):
                return Fault(503)
        return None

    def _route(self, handler: _Handler, path: str, query: dict[str, str], raw: bytes) -> Answer:
        if path == HELPDESK + "/oauth/token":
            return self._token(handler, raw)
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            return Answer(400, {"error": "the body is not JSON"})
        if path.startswith(CRM + "/"):
            if handler.headers.get("X-Api-Key") != CRM_KEY:
                return Answer(401, {"error": "invalid api key"})
            return self._idempotent(handler, "Idempotency-Key", lambda: self._crm(handler.command, path[len(CRM):],
                                                                                   query, body))
        if path.startswith(HELPDESK + "/"):
            if not self._bearer_ok(handler.headers.get("Authorization", "")):
                return Answer(401, {"error": "invalid_token"}, {"WWW-Authenticate": 'Bearer error="invalid_token"'})
            route = path[len(HELPDESK):]
            return self._idempotent(handler, "X-Idempotency-Key",
                                    lambda: self._helpdesk(handler, route, query, body))
        return Answer(404, {"error": "no such endpoint"})

    def _idempotent(self, handler: _Handler, header: str, work) -> Answer:
        key = handler.headers.get(header)
        if handler.command == "GET" or not key:
            return work()
        with self.lock:
            if key in self.idempotent:
                self.replays += 1
                return self.idempotent[key]
            answer = work()
            if answer.status < 500:
                self.idempotent[key] = answer
            return answer

    # -- the CRM -------------------------------------------------------------------------------------
    def _crm(self, method: str, route: str, query: dict[str, str], body: Any) -> Answer:
        parts = route.strip("/").split("/")
        if method == "GET" and route == "/contacts":
            return self._contacts_page(query)
        if method == "GET" and route == "/deals":
            return self._deals_page(query)
        if method == "POST" and route == "/contacts":
            return self._save_contact(None, body)
        if len(parts) == 2 and parts[0] == "contacts" and method in ("PUT", "DELETE"):
            if not parts[1].isdigit():
                return Answer(404, {"error": "no such contact"})
            if method == "PUT":
                return self._save_contact(int(parts[1]), body)
            with self.lock:
                gone = self.contacts.pop(int(parts[1]), None)
            return Answer(204) if gone else Answer(404, {"error": "no such contact"})
        return Answer(405, {"error": "method not allowed"})

    def _contacts_page(self, query: dict[str, str]) -> Answer:
        page, size = int(query.get("page", 1)), min(int(query.get("per_page", 20)), 50)
        with self.lock:
            rows = sorted(self.contacts.values(), key=lambda c: (_parse_time(c["updated_at"]), c["id"]))
        if "updated_since" in query:
            since = _parse_time(query["updated_since"])
            rows = [c for c in rows if _parse_time(c["updated_at"]) >= since]
        return Answer(200, {"data": {"items": rows[(page - 1) * size:page * size], "page": page}})

    def _deals_page(self, query: dict[str, str]) -> Answer:
        offset, limit = int(query.get("offset", 0)), int(query.get("limit", 10))
        with self.lock:
            rows = [self.deals[i] for i in sorted(self.deals)]
        return Answer(200, {"data": {"items": rows[offset:offset + limit], "total": len(rows)}})

    def _save_contact(self, cid: int | None, body: Any) -> Answer:
        contact = body if isinstance(body, dict) else {}
        if not str(contact.get("name") or "").strip():
            return Answer(422, {"error": "name is required"})
        if "@" not in str(contact.get("email") or ""):
            return Answer(422, {"error": f"invalid email: {contact.get('email')!r}"})
        with self.lock:
            cid = cid if cid is not None else max(self.contacts, default=0) + 1
            created = cid not in self.contacts
            self.contacts[cid] = {**contact, "id": cid, "updated_at": self.tick()}
            return Answer(201 if created else 200, {"data": self.contacts[cid]})

    # -- the helpdesk --------------------------------------------------------------------------------
    def _token(self, handler: _Handler, raw: bytes) -> Answer:
        self.token_requests += 1
        form = {k: v[-1] for k, v in parse_qs(raw.decode()).items()}
        expected = "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        if form.get("grant_type") != "client_credentials" or handler.headers.get("Authorization") != expected:
            return Answer(401, {"error": "invalid_client"})
        token = register_secret("tok-" + secrets.token_hex(16), "api token")
        with self.lock:
            self.tokens[token] = time.monotonic() + self.token_lifetime_s
        return Answer(200, {"access_token": token, "token_type": "bearer", "expires_in": self.token_lifetime_s})

    def _bearer_ok(self, header: str) -> bool:
        token = header.removeprefix("Bearer ")
        with self.lock:
            return self.tokens.get(token, 0) > time.monotonic()

    def _helpdesk(self, handler: _Handler, route: str, query: dict[str, str], body: Any) -> Answer:
        method = handler.command
        if method == "GET" and route == "/v1/tickets":
            return self._tickets_page(handler, query)
        if method == "GET" and route == "/v1/agents":
            return self._agents_page(query)
        if method == "POST" and route == "/v1/tickets":
            problem = _ticket_problem(body)
            return Answer(422, {"error": problem}) if problem else Answer(200, self._upsert_tickets([body])[0])
        if method == "POST" and route == "/v1/tickets/bulk":
            items = body.get("tickets") if isinstance(body, dict) else None
            if not isinstance(items, list):
                return Answer(400, {"error": "expected {'tickets': [...]}"})
            errors = [{"index": i, "error": p} for i, p in enumerate(map(_ticket_problem, items)) if p]
            if errors:  # all or nothing
                return Answer(422, {"errors": errors})
            return Answer(200, {"upserted": len(self._upsert_tickets(items))})
        return Answer(405, {"error": "method not allowed"})

    def _tickets_page(self, handler: _Handler, query: dict[str, str]) -> Answer:
        limit, after = int(query.get("limit", 10)), int(query.get("after_id", 0))
        with self.lock:
            rows = [self.tickets[i] for i in sorted(self.tickets) if i > after]
        if "modified_after" in query:
            since = _parse_time(query["modified_after"])
            rows = [t for t in rows if _parse_time(t["modified_at"]) >= since]
        page, headers = rows[:limit], {}
        if len(rows) > limit:
            following = {**query, "after_id": str(page[-1]["id"]), "limit": str(limit)}
            url = f'http://{handler.headers["Host"]}{HELPDESK}/v1/tickets?{urlencode(following)}'
            headers["Link"] = f'<{url}>; rel="next"'
        return Answer(200, page, headers)

    def _agents_page(self, query: dict[str, str]) -> Answer:
        limit = int(query.get("limit", 3))
        with self.lock:
            if "cursor" in query and query["cursor"] not in self.page_tokens:
                return Answer(400, {"error": "unknown or expired cursor"})
            start = self.page_tokens.get(query.get("cursor", ""), 0)
            following = None
            if start + limit < len(self.agents):
                following = "pg-" + secrets.token_hex(6)
                self.page_tokens[following] = start + limit
        return Answer(200, {"agents": self.agents[start:start + limit], "meta": {"next_cursor": following}})

    def _upsert_tickets(self, items: list[dict]) -> list[dict]:
        with self.lock:
            saved = []
            for item in items:
                self.tickets[int(item["id"])] = {**item, "id": int(item["id"]), "modified_at": self.tick()}
                saved.append(self.tickets[int(item["id"])])
            return saved


def _ticket_problem(ticket: Any) -> str | None:
    if not isinstance(ticket, dict) or not isinstance(ticket.get("id"), int):
        return "id must be a number"
    if not str(ticket.get("subject") or "").strip():
        return "subject is required"
    if ticket.get("status") not in ("open", "pending", "closed"):
        return f"unknown status {ticket.get('status')!r}"
    return None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go in two writes; do not wait 40 ms between them
    server: ThreadingHTTPServer

    def _serve(self) -> None:
        self.server.api.serve(self)  # type: ignore[attr-defined]

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

    def answer(self, answer: Answer) -> None:
        """Send a JSON answer (no body for 204)."""
        payload = b"" if answer.status == 204 else json.dumps(answer.body).encode()
        self.send_response(answer.status)
        for name, value in answer.headers.items():
            self.send_header(name, value)
        if payload:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        try:
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up waiting (a timeout test)

    def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
        pass
