"""The web console on the demo estate, served for real on loopback: signing in, roles, CSRF, audited actions.

One synced copy of the demo estate and one server serve the module; each test signs in
as the person it needs. Accounts and their roles are made with the services, as
``officehub user add`` makes them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from officehub.config import load_project
from officehub.engine import open_store
from officehub.services import accounts
from officehub.services.session import acting
from officehub.store import bookkeeping as bk
from officehub.store import matches
from tests.conftest import copy_demo_config
from tests.helpers import sync_all
from tests.integration.served import (
    PASSWORD,
    Console,
    Served,
    add_users,
    allow_many_sign_ins,
    audit_entries,
    serve,
    signed_in,
)

pytestmark = pytest.mark.slow

ROLES = {"viewer": ["viewer"], "operator": ["operator"], "steward": ["steward"], "officer": ["compliance"],
         "second-officer": ["compliance"], "admin": ["admin"]}
REASON = "complaint CMP-2026-118 about a rejected row"


@pytest.fixture(scope="module")
def estate(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from officehub.demo.seed import seed_estate

    folder = copy_demo_config(tmp_path_factory.mktemp("console") / "demo")
    allow_many_sign_ins(folder)
    seed_estate(folder / "data")
    results = sync_all(folder)
    assert {r.status for r in results.values()} == {"succeeded"}, {n: r.error for n, r in results.items()}
    add_users(folder, ROLES)
    return folder


@pytest.fixture(scope="module")
def served(estate: Path) -> Iterator[Served]:
    server = serve(estate)
    yield server
    server.stop()






# -- signing in -----------------------------------------------------------------------------------------


def test_a_page_sends_a_visitor_to_the_sign_in_form_and_back(served: Served) -> None:
    console = Console(served)
    first = console.get("/quarantine")
    assert first.status_code == 303 and first.headers["location"] == "/login?next=/quarantine"
    response = console.http.post("/login", data={"csrf_token": console.csrf("/login?next=/quarantine"),
                                                 "login": "viewer", "password": PASSWORD, "next": "/quarantine"})
    assert response.status_code == 303 and response.headers["location"] == "/quarantine"
    assert console.get("/quarantine").status_code == 200


def test_a_wrong_password_is_refused_with_one_message_for_every_cause(served: Served) -> None:
    wrong = Console(served).login("viewer", "not-the-password-at-all")
    unknown = Console(served).login("nobody-of-that-name", "not-the-password-at-all")
    assert wrong.status_code == unknown.status_code == 401
    message = re.search(r'<p class="problem" role="alert">([^<]+)', wrong.text).group(1)
    assert message == re.search(r'<p class="problem" role="alert">([^<]+)', unknown.text).group(1)
    assert "wrong login or password" in message


def test_an_account_locks_after_five_failures_and_the_right_password_then_fails_too(estate: Path,
                                                                                      served: Served) -> None:
    add_users(estate, {"fumbler": ["viewer"]})
    for _ in range(accounts.LOCK_AFTER):
        assert Console(served).login("fumbler", "wrong-password-again").status_code == 401
    assert Console(served).login("fumbler").status_code == 401
    failed = [e for e in audit_entries(estate, "user.login.failed") if e["detail"]["locked"]]
    assert failed and all("wrong-password" not in str(e) for e in failed)


def test_too_many_attempts_from_one_address_are_refused_for_a_minute(estate: Path, tmp_path: Path) -> None:
    import shutil

    folder = tmp_path / "limited"
    shutil.copytree(estate, folder, ignore=shutil.ignore_patterns("serve-*.log"))
    config = yaml.safe_load((folder / "officehub.yaml").read_text())
    config["serve"]["login_attempts_per_minute"] = 3
    (folder / "officehub.yaml").write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True))
    limited = serve(folder)
    try:
        codes = [Console(limited).login("viewer", "wrong-password-again").status_code for _ in range(3)]
        assert codes == [401, 401, 401]
        blocked = Console(limited).login("viewer")  # the right password, but over the limit
        assert blocked.status_code == 429 and "too many sign-in attempts" in blocked.text
    finally:
        limited.stop()


def test_a_one_time_password_must_be_replaced_before_anything_else(estate: Path, served: Served) -> None:
    store = open_store(load_project(estate))
    try:
        _, made = accounts.add(store, "user:test-setup", "newcomer", ["viewer"])
    finally:
        store.close()
    console = Console(served)
    assert console.login("newcomer", str(made)).headers["location"] == "/account/password"
    assert console.get("/").headers["location"] == "/account/password"
    changed = console.post("/account/password", {"current": str(made), "new": "a-password-of-my-own"})
    assert changed.status_code == 303 and changed.headers["location"].startswith("/?notice=")
    assert console.get("/").status_code == 200
    assert Console(served).login("newcomer", "a-password-of-my-own").status_code == 303


def test_signing_out_ends_the_session(served: Served) -> None:
    console = signed_in(served, "viewer")
    assert console.post("/logout", token_from="/").headers["location"] == "/login"
    assert console.get("/").status_code == 303


def test_a_disabled_users_session_ends_at_their_next_request(served: Served, estate: Path) -> None:
    add_users(estate, {"leaver": ["viewer"]})
    leaver = signed_in(served, "leaver")
    admin = signed_in(served, "admin")
    assert admin.post("/users/leaver/disable", token_from="/users").status_code == 303
    assert leaver.get("/").status_code == 303
    assert Console(served).login("leaver").status_code == 401


def test_a_forged_or_garbled_session_cookie_counts_as_no_session(served: Served) -> None:
    console = signed_in(served, "admin")
    cookie = console.http.cookies.get("officehub_session")
    console.http.cookies.set("officehub_session", cookie[:-4] + ("AAAA" if not cookie.endswith("AAAA") else "BBBB"))
    assert console.get("/users").status_code == 303


def test_after_signing_in_the_console_goes_only_to_its_own_pages(served: Served) -> None:
    for target in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
        console = Console(served)
        response = console.http.post("/login", data={"csrf_token": console.csrf(), "login": "viewer",
                                                     "password": PASSWORD, "next": target})
        assert response.headers["location"] == "/", target


def test_pages_carry_a_content_security_policy_and_refuse_framing(served: Served) -> None:
    page = signed_in(served, "viewer").get("/")
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    cookie = page.request.headers["cookie"]
    assert "officehub_session=" in cookie


# -- CSRF -----------------------------------------------------------------------------------------------


def test_a_form_post_without_the_sessions_csrf_token_changes_nothing(served: Served, estate: Path) -> None:
    steward = signed_in(served, "steward")
    store = open_store(load_project(estate))
    try:
        with store.begin() as conn:
            pending = matches.reviews(conn, "pending")[0]["id"]
        for token in ("", "forged-token-value"):
            refused = steward.post(f"/reviews/{pending}/reject", csrf=token)
            assert refused.status_code == 403 and "expired" in refused.text
        other = signed_in(served, "viewer")  # another session's token is no good either
        assert steward.post(f"/reviews/{pending}/reject", csrf=other.csrf("/")).status_code == 403
        with store.begin() as conn:
            assert matches.review(conn, pending)["status"] == "pending"
    finally:
        store.close()


# -- who may do what ------------------------------------------------------------------------------------

#: Every page (GET) and the right it needs.
PAGES = {"/": "view", "/quarantine": "view", "/quarantine/1": "view", "/runs/1": "view",
         "/pipelines/crm_customers_in": "view", "/reviews": "steward", "/audit": "comply", "/users": "administer"}
#: Every action (POST) and the right it needs; each is posted without its fields, so an allowed one
#: fails on what is missing (400) instead of doing anything.
ACTIONS = {"/quarantine/1/reveal": "reveal", "/quarantine/replay": "run", "/pipelines/no-such-pipeline/run": "run",
           "/reviews/999999/accept": "steward", "/reviews/999999/reject": "steward", "/reviews/reveal": "steward",
           "/links/999999/undo": "steward", "/audit/verify": "comply", "/users": "administer",
           "/users/nobody/disable": "administer", "/tokens": "administer", "/tokens/999999/revoke": "administer"}
RIGHTS = {"viewer": {"view"}, "operator": {"view", "run"}, "steward": {"view", "steward"},
          "officer": {"view", "reveal", "comply"}, "admin": {"view", "administer"}}


@pytest.mark.parametrize("login", sorted(RIGHTS))
def test_every_role_reaches_exactly_the_pages_and_actions_its_rights_allow(served: Served, login: str) -> None:
    console = signed_in(served, login)
    token = console.csrf("/")
    wrong = []
    for path, right in PAGES.items():
        status = console.get(path).status_code
        if (status == 403) == (right in RIGHTS[login]) or status >= 500:
            wrong.append(f"GET {path}: {status}")
    for path, right in ACTIONS.items():
        status = console.post(path, csrf=token).status_code
        if (status == 403) == (right in RIGHTS[login]) or status >= 500:
            wrong.append(f"POST {path}: {status}")
    assert not wrong, f"{login}: {wrong}"


def test_without_a_session_every_page_and_action_asks_to_sign_in(served: Served) -> None:
    anonymous = Console(served)
    token = anonymous.csrf("/login")
    for path in PAGES:
        response = anonymous.get(path)
        assert response.status_code == 303 and response.headers["location"].startswith("/login"), path
    for path in ACTIONS:
        assert anonymous.post(path, csrf=token).status_code == 401, path


# -- audited actions name the signed-in person ----------------------------------------------------------


def test_a_compliance_officer_reveals_a_quarantined_record_with_a_reason_and_is_named_in_the_audit(
        served: Served, estate: Path) -> None:
    store = open_store(load_project(estate))
    try:
        with acting(store, "user:test") as ctx:
            item = bk.list_quarantine(ctx.conn, None, "open", 1)[0]["id"]
            found = bk.get_quarantined(ctx.conn, item)
    finally:
        store.close()
    # The vendor id is shown as the entry's key (an id, like the audit's); every other value is withheld.
    values = [str(v) for v in found["raw"].values() if v not in (None, "", found["vendor_id"])]
    officer = signed_in(served, "officer")
    plain = officer.get(f"/quarantine/{item}")
    assert plain.status_code == 200 and "&lt;hidden&gt;" in plain.text
    assert not [v for v in values if len(v) > 3 and v in plain.text]
    no_reason = officer.post(f"/quarantine/{item}/reveal", {"reason": "because"}, token_from=f"/quarantine/{item}")
    assert no_reason.status_code == 400 and "reason" in no_reason.text
    shown = officer.post(f"/quarantine/{item}/reveal", {"reason": REASON}, token_from=f"/quarantine/{item}")
    assert shown.status_code == 200 and shown.headers["cache-control"] == "no-store"
    assert all(httpx_escape(v) in shown.text for v in values)
    entry = audit_entries(estate, "quarantine.reveal")[0]
    assert entry["actor"] == "console:officer" and entry["subject"] == f"quarantine {item}"
    assert entry["detail"]["reason"] == REASON
    assert not [v for v in values if len(v) > 3 and v in str(entry)]


def httpx_escape(value: str) -> str:
    """``value`` as Jinja2 writes it into a page."""
    import html

    return html.escape(value, quote=True).replace("&#x27;", "&#39;")


def test_a_steward_accepts_a_review_pair_and_undoes_it_each_audited_under_their_name(served: Served,
                                                                                      estate: Path) -> None:
    store = open_store(load_project(estate))
    try:
        with store.begin() as conn:
            pair = matches.reviews(conn, "pending")[-1]
    finally:
        store.close()
    steward = signed_in(served, "steward")
    queue = steward.get("/reviews")
    assert f'id="review-{pair["id"]}"' in queue.text
    accepted = steward.post(f"/reviews/{pair['id']}/accept", token_from="/reviews")
    assert accepted.status_code == 303 and "undo=" in accepted.headers["location"]
    merge = audit_entries(estate, "record.merge")[0]
    assert merge["actor"] == "console:steward"
    log_id = int(re.search(r"undo=(\d+)", accepted.headers["location"]).group(1))
    undone = steward.post(f"/links/{log_id}/undo", token_from="/reviews")
    assert undone.status_code == 303
    assert audit_entries(estate, "record.unmerge")[0]["actor"] == "console:steward"


def test_an_operator_runs_a_pipeline_now_and_the_run_is_on_record(served: Served, estate: Path) -> None:
    operator = signed_in(served, "operator")
    before = _runs(estate, "crm_customers_in")
    started = operator.post("/pipelines/crm_customers_in/run", token_from="/")
    assert started.status_code == 303
    import time

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and _runs(estate, "crm_customers_in") == before:
        time.sleep(0.3)
    runs = _runs(estate, "crm_customers_in")
    assert runs > before
    assert audit_entries(estate, "pipeline.start")[0]["actor"] == "console:operator"


def _runs(folder: Path, pipeline: str) -> int:
    store = open_store(load_project(folder))
    try:
        with store.begin() as conn:
            return len(bk.list_runs(conn, pipeline, 1000))
    finally:
        store.close()


def test_an_admin_adds_a_user_whose_one_time_password_is_shown_once(served: Served, estate: Path) -> None:
    admin = signed_in(served, "admin")
    page = admin.post("/users", {"login": "clerk", "roles": "viewer", "display_name": "A Clerk"}, token_from="/users")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    made = re.search(r'<code id="secret">([^<]+)</code>', page.text).group(1)
    assert made not in admin.get("/users").text
    assert Console(served).login("clerk", made).headers["location"] == "/account/password"
    assert audit_entries(estate, "user.add")[0]["actor"] == "console:admin"
    assert made not in str(audit_entries(estate, "user.add"))


# -- bad input ------------------------------------------------------------------------------------------


def test_bad_input_gets_the_right_status_and_one_line_without_a_traceback(served: Served) -> None:
    officer = signed_in(served, "officer")
    cases = {"/quarantine/99999999": 404, "/runs/99999999": 404, "/runs/not-a-number": 422,
             "/pipelines/no-such-pipeline": 404, "/no-such-page": 404}
    for path, status in cases.items():
        response = officer.get(path)
        assert response.status_code == status, path
        assert "Traceback" not in response.text and 'File "' not in response.text
    huge = officer.http.post("/audit/verify", content=b"x" * 2_000_000,
                             headers={"content-type": "application/x-www-form-urlencoded"})
    assert huge.status_code == 413


def test_the_vendored_assets_are_served_as_their_readme_lists_them(served: Served) -> None:
    import hashlib

    from officehub.serve.state import STATIC

    readme = (STATIC / "vendor" / "README.md").read_text()
    for digest, name in re.findall(r"([0-9a-f]{64})  (\S+)", readme):
        body = httpx.get(f"{served.url}/static/vendor/{name}").content
        assert hashlib.sha256(body).hexdigest() == digest, name


def test_with_htmx_a_decision_replaces_only_its_pair_and_a_refusal_is_a_fragment_too(served: Served,
                                                                                     estate: Path) -> None:
    store = open_store(load_project(estate))
    try:
        with store.begin() as conn:
            pending = matches.reviews(conn, "pending")[0]["id"]
    finally:
        store.close()
    steward = signed_in(served, "steward")
    token = steward.csrf("/reviews")
    swapped = steward.http.post(f"/reviews/{pending}/reject", headers={"HX-Request": "true", "X-CSRF-Token": token})
    assert swapped.status_code == 200
    assert swapped.text.lstrip().startswith(f'<article id="review-{pending}"') and "kept apart" in swapped.text
    again = steward.http.post(f"/reviews/{pending}/reject", headers={"HX-Request": "true", "X-CSRF-Token": token})
    assert again.status_code == 400 and again.text.startswith('<p class="problem"') and "already" in again.text
