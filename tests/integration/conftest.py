"""Fixtures the integration tests share: a real OpenSSH sshd on loopback, and fresh folders on it."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.sshd import SshServer, running_sshd


@pytest.fixture(scope="module")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SshServer]:
    """One sshd per test module (starting one takes a moment; tests use their own folders)."""
    with running_sshd(tmp_path_factory.mktemp("sshd")) as server:
        yield server


@pytest.fixture
def folder(sshd: SshServer) -> Path:
    """A fresh remote folder for one test (the server serves the local disk)."""
    return Path(tempfile.mkdtemp(dir=sshd.files))
