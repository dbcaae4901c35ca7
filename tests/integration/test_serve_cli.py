"""``officehub user …`` and ``officehub serve`` on the command line: accounts and tokens, audited, never a secret twice."""

from __future__ import annotations

import getpass
import json
from pathlib import Path

import pytest

from officehub.config import load_project
from officehub.engine import open_store
from officehub.services import accounts, api_tokens
from officehub.store import audit
from tests.conftest import copy_demo_config
from tests.helpers import run_cli
from tests.leak_scan import register_secret

pytestmark = pytest.mark.slow


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return copy_demo_config(tmp_path / "demo")


def cli(project: Path, *args: str) -> dict | list | str:
    done = run_cli("-p", str(project), *args)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout) if "--json" in args else done.stdout


@pytest.mark.shows_secret("one-time password", reason="`user add` prints the new account's one-time password to "
                                                     "the admin who made it, once")
def test_users_are_added_listed_disabled_and_given_new_passwords_each_audited_under_the_os_user(
        project: Path) -> None:
    added = cli(project, "user", "add", "clerk", "-r", "viewer", "-r", "steward", "--name", "A Clerk", "--json")
    made = register_secret(added["one_time_password"], "one-time password")
    assert added["roles"] == ["steward", "viewer"][::-1] and added["must_change_password"] is True
    listed = cli(project, "user", "list", "--json")
    assert [u["login"] for u in listed] == ["clerk"] and made not in json.dumps(listed)
    cli(project, "user", "roles", "clerk", "-r", "operator")
    cli(project, "user", "disable", "clerk")
    again = run_cli("-p", str(project), "user", "add", "clerk", "-r", "viewer")
    assert again.returncode == 2 and "exists already" in again.stderr
    reset = cli(project, "user", "add", "clerk", "-r", "viewer", "--or-reset")
    assert "new one-time password" in reset
    store = open_store(load_project(project))
    try:
        user = accounts.by_login(store, "clerk")
        assert user.roles == ("operator",) and user.status == "disabled" and user.must_change_password
        with store.begin() as conn:
            trail = audit.entries(conn, None, 50)
    finally:
        store.close()
    actions = [e["action"] for e in trail if e["subject"] == f"user {user.id}"]
    assert actions[::-1] == ["user.add", "user.roles", "user.disable", "user.password"]
    assert {e["actor"] for e in trail} == {f"user:{getpass.getuser()}"}
    assert made not in json.dumps(trail, default=str)


@pytest.mark.shows_secret("api token", reason="`user token issue` prints the token once, at issue")
def test_api_tokens_are_shown_once_kept_as_digests_and_revoked(project: Path) -> None:
    issued = cli(project, "user", "token", "issue", "webshop", "--name", "shop-prod", "-s", "read", "-s", "search",
                 "--days", "30", "--json")
    token = register_secret(issued["token"], "api token")
    listed = cli(project, "user", "token", "list", "--json")
    assert listed[0]["prefix"] == token[:12] and token not in json.dumps(listed)
    store = open_store(load_project(project))
    try:
        assert api_tokens.holder(store, token).client == "webshop"
        cli(project, "user", "token", "revoke", str(issued["id"]))
        assert api_tokens.holder(store, token) is None
        with store.begin() as conn:
            assert token not in json.dumps(audit.entries(conn, None, 50), default=str)
    finally:
        store.close()
    unknown = run_cli("-p", str(project), "user", "token", "issue", "nobody", "--name", "x", "-s", "read")
    assert unknown.returncode == 2 and "no API client 'nobody'" in unknown.stderr
    scope = run_cli("-p", str(project), "user", "token", "issue", "webshop", "--name", "x", "-s", "write")
    assert scope.returncode == 2 and "scopes must be" in scope.stderr


def test_serve_refuses_several_workers_on_a_sqlite_hub_store(project: Path) -> None:
    done = run_cli("-p", str(project), "serve", "--workers", "2")
    assert done.returncode == 2 and "PostgreSQL" in done.stderr and "Traceback" not in done.stderr

