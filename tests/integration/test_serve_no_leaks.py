"""No medical, criminal or legal value on any console page nobody revealed: every page a role reaches, crawled.

On the synced sentinel estate (every special-category value carries a sentinel), a person of each
role signs in and follows every link of the console from the overview, as far as the links go
(paged lists included). No page may contain a sentinel; nor may the server's log. Then a
compliance officer reveals a quarantined record with a reason: that page may show the values,
and the audit entry it writes must hold none of them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urljoin, urlparse

import pytest

from officehub.config import load_project
from officehub.engine import open_store
from officehub.store import audit
from officehub.store import bookkeeping as bk
from tests.helpers import sync_all
from tests.integration import sentinel_estate
from tests.integration.sentinel_estate import SENTINELS
from tests.integration.served import Console, Served, add_users, allow_many_sign_ins, serve

pytestmark = pytest.mark.slow

ROLES = ("viewer", "operator", "steward", "compliance", "admin")
#: Links a crawl must not follow: signing out would end the crawl's own session.
_SKIP = re.compile(r"^/(logout|static/)")
_HREF = re.compile(r'href="([^"#]+)"')
MAX_PAGES = 400


@pytest.fixture(scope="module")
def estate(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = sentinel_estate.build(tmp_path_factory.mktemp("leaks") / "estate")
    allow_many_sign_ins(folder)
    sync_all(folder)
    add_users(folder, {role: [role] for role in ROLES})
    return folder


@pytest.fixture(scope="module")
def served(estate: Path) -> Iterator[Served]:
    server = serve(estate)
    yield server
    log = server.stop()
    assert not [s for s in SENTINELS if s in log], "a sentinel reached the server's log"


def crawl(console: Console, base: str) -> dict[str, str]:
    """Every console page reachable by GET links from the overview: path → body."""
    seen: dict[str, str] = {}
    waiting = ["/"]
    while waiting and len(seen) < MAX_PAGES:
        path = waiting.pop()
        if path in seen:
            continue
        response = console.get(path)
        seen[path] = response.text
        assert response.status_code < 500, f"{path}: {response.status_code}"
        for href in _HREF.findall(response.text):
            target = urlparse(urljoin(base + path, href.replace("&amp;", "&")))
            if target.netloc != urlparse(base).netloc or _SKIP.match(target.path):
                continue
            local = target.path + (f"?{target.query}" if target.query else "")
            if local not in seen:
                waiting.append(local)
    return seen


@pytest.mark.parametrize("role", ROLES)
def test_no_page_any_role_reaches_shows_a_special_category_value(served: Served, role: str) -> None:
    console = Console(served)
    assert console.login(role).status_code == 303
    pages = crawl(console, served.url)
    assert len(pages) > 3, sorted(pages)
    leaks = {path: [s for s in SENTINELS if s in body] for path, body in pages.items()}
    assert not {p: s for p, s in leaks.items() if s}, "sentinels on pages nobody revealed"


def test_a_reveal_shows_the_values_but_its_audit_entry_holds_none(served: Served, estate: Path) -> None:
    store = open_store(load_project(estate))
    try:
        with store.begin() as conn:
            entries = bk.list_quarantine(conn, None, "open", 100)
            special = next(q["id"] for q in entries
                           if any(s in str(bk.get_quarantined(conn, q["id"])["raw"]) for s in SENTINELS))
    finally:
        store.close()
    officer = Console(served)
    assert officer.login("compliance").status_code == 303
    shown = officer.post(f"/quarantine/{special}/reveal", {"reason": "leak scan ticket LS-2026-7"},
                         token_from=f"/quarantine/{special}")
    assert shown.status_code == 200 and any(s in shown.text for s in SENTINELS)
    store = open_store(load_project(estate))
    try:
        with store.begin() as conn:
            trail = audit.entries(conn, None, 1000)
    finally:
        store.close()
    assert trail[0]["action"] == "quarantine.reveal" and trail[0]["actor"] == "console:compliance"
    assert not [s for s in SENTINELS if s in str(trail)]
