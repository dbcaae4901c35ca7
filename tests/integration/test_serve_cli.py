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


def _pg_project(project: Path, url: str) -> Path:
    config = project / "officehub.yaml"
    config.write_text(config.read_text().replace("sqlite:///.officehub/hub.db", url))
    return project


def test_several_workers_each_take_a_share_of_the_connections(project: Path, postgres_url: str) -> None:
    """32 keep-alive connections opened at once to a server of two workers, once both serve: each worker
    holds a share of them (a pool of connections does not end up on one process of the two)."""
    import http.client
    import os
    import signal
    import subprocess
    import sys
    import time
    from concurrent.futures import ThreadPoolExecutor

    from tests.integration.sshd import free_port

    folder, port = _pg_project(project, postgres_url), free_port()
    log = folder / "serve.log"
    with log.open("w") as handle:
        server = subprocess.Popen([sys.executable, "-m", "officehub", "-p", str(folder), "serve", "--workers", "2",
                                   "--port", str(port)], stdout=handle, stderr=subprocess.STDOUT,
                                  start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while log.read_text().count("Application startup complete.") < 2:  # both workers serve
            assert server.poll() is None, log.read_text()[-2000:]
            assert time.monotonic() < deadline, "the workers did not start within 60 s"
            time.sleep(0.2)
        # All at once, as a load balancer's pool or a driver opens them: a burst waiting to be accepted.
        connections = [http.client.HTTPConnection("127.0.0.1", port, timeout=10) for _ in range(32)]
        with ThreadPoolExecutor(32) as pool:
            list(pool.map(lambda c: c.connect(), connections))
        for c in connections:
            c.request("GET", "/api/v1/health")
            assert c.getresponse().read() and True
        listed = subprocess.run(["ss", "-tnpH", "state", "established", f"( sport = :{port} )"],
                                capture_output=True, text=True, check=True).stdout
        per_worker: dict[str, int] = {}
        for line in listed.splitlines():
            for pid in line.split("pid=")[1:]:
                per_worker[pid.split(",")[0]] = per_worker.get(pid.split(",")[0], 0) + 1
        for c in connections:
            c.close()
        assert len(per_worker) == 2 and min(per_worker.values()) >= 6, per_worker
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)

