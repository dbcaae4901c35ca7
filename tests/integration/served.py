"""``officehub serve`` run for real on loopback, and a person's console session against it.

The server is the command itself in a subprocess (``python -m officehub serve``), so the
tests exercise the same process, configuration loading and uvicorn set-up that users run.
"""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
import yaml

from officehub.config import load_project
from officehub.engine import open_store
from officehub.services import accounts, api_tokens
from officehub.store import audit
from tests.leak_scan import note_output, register_secret

#: A password good enough for the services' rule, used for every test account.
PASSWORD = register_secret("correct-horse-battery-staple", "password")
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Served:
    """A running server: its address, process and log."""

    url: str
    process: subprocess.Popen
    log: Path

    def stop(self) -> str:
        """Stop the server; returns everything it logged."""
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        logged = self.log.read_text(errors="replace")
        note_output("officehub serve", logged)
        return logged

    def api(self, token: str | None = None) -> httpx.Client:
        """An HTTP client for the hub API, with ``token`` as its bearer token."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)


def serve(folder: Path, *extra: str, env: dict[str, str] | None = None) -> Served:
    """Start ``officehub serve`` on a free loopback port for the project in ``folder``; waits until it answers."""
    import os

    port = free_port()
    log = folder / f"serve-{port}.log"
    handle = log.open("w")
    process = subprocess.Popen([sys.executable, "-m", "officehub", "-p", str(folder), "serve", "--port", str(port),
                                *extra], stdout=handle, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})})
    served = Served(f"http://127.0.0.1:{port}", process, log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"officehub serve exited with {process.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(f"{served.url}/api/v1/health", timeout=2).status_code == 200:
                return served
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    served.stop()
    raise AssertionError(f"officehub serve did not answer within 60 s:\n{log.read_text()}")


def in_hub(folder: Path, query: Callable[[sa.Connection], Any]) -> Any:
    """``query(conn)`` on the hub store of the project in ``folder``."""
    store = open_store(load_project(folder))
    try:
        with store.begin() as conn:
            return query(conn)
    finally:
        store.close()


def audit_entries(folder: Path, action: str) -> list[dict[str, Any]]:
    """The newest 1,000 audit entries of ``action``, newest first."""
    return list(in_hub(folder, lambda conn: audit.entries(conn, action, 1000)))


def allow_many_sign_ins(folder: Path) -> None:
    """Lift the per-address sign-in limit: every test signs in from 127.0.0.1 (the limit has tests of its own)."""
    path = folder / "officehub.yaml"
    config = yaml.safe_load(path.read_text())
    config.setdefault("serve", {})["login_attempts_per_minute"] = 10_000
    path.write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True))


def add_users(folder: Path, users: dict[str, list[str]]) -> None:
    """Console accounts (login → roles), each with :data:`PASSWORD` and no password change pending."""
    project = load_project(folder)
    store = open_store(project)
    try:
        for login, roles in users.items():
            accounts.add(store, "user:test-setup", login, roles, password=PASSWORD)
    finally:
        store.close()


def issue_token(folder: Path, client: str, scopes: list[str]) -> str:
    """An API token for ``client`` with ``scopes``."""
    project = load_project(folder)
    store = open_store(project)
    try:
        return register_secret(api_tokens.issue(store, "user:test-setup", client, "tests", scopes)[1], "api token")
    finally:
        store.close()


def signed_in(served: Served, login: str, password: str = PASSWORD) -> Console:
    """A console session of ``login``, signed in (and sent to the overview)."""
    console = Console(served)
    response = console.login(login, password)
    assert response.status_code == 303 and response.headers["location"] == "/", response.text
    return console


class Console:
    """One person's browser session with the console: cookies, CSRF tokens and form posts."""

    def __init__(self, served: Served) -> None:
        self.http = httpx.Client(base_url=served.url, follow_redirects=False, timeout=60)

    def csrf(self, path: str = "/login") -> str:
        """The CSRF token of the session, as the page at ``path`` embeds it in its forms."""
        page = self.http.get(path)
        found = _CSRF.search(page.text)
        assert found, f"no CSRF token on {path} ({page.status_code})"
        return found.group(1)

    def login(self, login: str, password: str = PASSWORD) -> httpx.Response:
        """Post the sign-in form."""
        return self.http.post("/login", data={"csrf_token": self.csrf("/login"), "login": login,
                                              "password": password, "next": "/"})

    def post(self, path: str, data: dict[str, str] | None = None, *, token_from: str = "/account/password",
             csrf: str | None = None) -> httpx.Response:
        """Post a console form with the session's CSRF token (or the one given)."""
        token = csrf if csrf is not None else self.csrf(token_from)
        return self.http.post(path, data={"csrf_token": token, **(data or {})})

    def get(self, path: str) -> httpx.Response:
        """Fetch a console page."""
        return self.http.get(path)
