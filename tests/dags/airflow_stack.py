"""A real Airflow deployment for one test: api-server, scheduler, dag-processor, a Celery worker.

Every process is started in its own process group, so stopping it reaches the children it forks
(task runners, Celery pool workers, uvicorn workers) too; every wait is bounded.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

AIRFLOW = str(Path(sys.executable).parent / "airflow")


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(what: str, check, timeout: float, every: float = 0.5):
    """Poll ``check()`` until it returns something truthy; AssertionError naming ``what`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


class Stack:
    """The processes of one deployment, their logs in ``home/stack-logs``."""

    def __init__(self, home: Path, env: dict[str, str]) -> None:
        self.home = home
        self.env = env
        self.logs = home / "stack-logs"
        self.logs.mkdir(exist_ok=True)
        self.procs: dict[str, subprocess.Popen] = {}

    def cli(self, *args: str, timeout: float = 120) -> str:
        """Run one ``airflow`` command to the end; its stdout (AssertionError with the output if it fails)."""
        done = subprocess.run([AIRFLOW, *args], env=self.env, capture_output=True, text=True, timeout=timeout)
        assert done.returncode == 0, f"airflow {' '.join(args)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        return done.stdout

    def start(self, name: str, *args: str) -> None:
        """Start a long-running component in its own process group."""
        with open(self.logs / f"{name}.log", "wb") as log:
            self.procs[name] = subprocess.Popen([AIRFLOW, *args], env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                                stdin=subprocess.DEVNULL, start_new_session=True)

    def check_alive(self) -> None:
        """AssertionError with the log tail of any component that died."""
        for name, proc in self.procs.items():
            if proc.poll() is not None:
                raise AssertionError(f"{name} exited with {proc.returncode}:\n{self.tail(name)}")

    def tail(self, name: str, chars: int = 4000) -> str:
        """The end of a component's log."""
        path = self.logs / f"{name}.log"
        return path.read_text(errors="replace")[-chars:] if path.exists() else ""

    def stop(self, grace: float = 20) -> None:
        """SIGTERM every process group (warm shutdown), SIGKILL what is left after ``grace`` s."""
        for proc in self.procs.values():
            _signal_group(proc, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for proc in self.procs.values():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
        for proc in self.procs.values():
            # Also reaps children that outlived a parent which exited on SIGTERM.
            _signal_group(proc, signal.SIGKILL)
            proc.wait(timeout=10)

    def groups_alive(self) -> list[str]:
        """Components whose process group still has a member."""
        alive = []
        for name, proc in self.procs.items():
            try:
                os.killpg(proc.pid, 0)
                alive.append(name)
            except ProcessLookupError:
                pass
        return alive


def _signal_group(proc: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        pass


class Api:
    """REST API v2 client with a bearer token from the simple auth manager."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.token: str | None = None

    def call(self, method: str, path: str, body: Any = None) -> Any:
        """One request; the decoded JSON answer (urllib's HTTPError on 4xx/5xx)."""
        data = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(self.base + path, data=data, method=method, headers=headers)
        with urllib.request.urlopen(request, timeout=15) as answer:
            payload = answer.read()
        return json.loads(payload) if payload else None

    def healthy(self) -> bool:
        """The API server answers and reports its metadatabase healthy."""
        try:
            return self.call("GET", "/api/v2/monitor/health")["metadatabase"]["status"] == "healthy"
        except (OSError, ValueError, KeyError):
            return False

    def login(self, username: str, password: str) -> None:
        """Get and keep an access token."""
        self.token = self.call("POST", "/auth/token", {"username": username, "password": password})["access_token"]

    def get_or_none(self, path: str) -> Any:
        """GET, or None on 404 (not there yet)."""
        try:
            return self.call("GET", path)
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return None
            raise
