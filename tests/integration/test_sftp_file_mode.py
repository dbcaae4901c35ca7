"""Permissions of the files the sftp connector writes, against a real OpenSSH sshd on loopback."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import paramiko
import pyarrow as pa
import pytest
from pydantic import ValidationError

from officehub.canonical_model.errors import FatalError
from officehub.connectors import WriteMode
from officehub.connectors.sftp import SftpConfig, SftpConnector
from tests.integration.sshd import SshServer

pytestmark = pytest.mark.slow

STREAMS = {"out": {"pattern": "OUT_*.csv", "write_name": "OUT_{batch_id}.csv"}}
BATCH = pa.RecordBatch.from_pydict({"id": ["1", "2"], "note": ["a", "b"]})


def _settings(server: SshServer, folder: Path, **overrides) -> dict:
    return {"host": "127.0.0.1", "port": server.port, "username": server.user, "private_key": server.user_key,
            "known_hosts": server.known_hosts(), "folder": str(folder), "connect_timeout_s": 5, "timeout_s": 10,
            "streams": STREAMS, **overrides}


def _write(server: SshServer, folder: Path, tmp_path: Path, **overrides) -> Path:
    config = SftpConfig.model_validate(_settings(server, folder, **overrides))
    with SftpConnector("vendor", config, tmp_path) as connector:
        assert connector.write("out", BATCH, WriteMode.APPEND, key=(), batch_id="000001-000002") == 2
    return folder / "OUT_000001-000002.csv"


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("file_mode", ["0640", "0664", "600"])
def test_written_files_get_exactly_file_mode(sshd: SshServer, folder: Path, tmp_path: Path, file_mode: str):
    # 0664 is wider than the server's umask (022) lets a new file be: only an explicit chmod gives it.
    written = _write(sshd, folder, tmp_path, file_mode=file_mode)
    assert _mode(written) == int(file_mode, 8)
    assert sorted(p.name for p in folder.iterdir()) == [written.name]


def test_a_rewritten_file_gets_file_mode_again(sshd: SshServer, folder: Path, tmp_path: Path):
    written = _write(sshd, folder, tmp_path, file_mode="0600")
    written.chmod(0o644)
    assert _mode(_write(sshd, folder, tmp_path, file_mode="0640")) == 0o640


def test_without_file_mode_the_servers_umask_decides(sshd: SshServer, folder: Path, tmp_path: Path):
    umask = os.umask(0)
    os.umask(umask)  # sshd inherited the test process's umask; its sftp server creates files with it
    assert _mode(_write(sshd, folder, tmp_path)) == 0o666 & ~umask


def test_a_server_that_refuses_the_mode_is_fatal_and_leaves_no_file(
        sshd: SshServer, folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    def refuse(self, path, mode):
        raise OSError("Operation unsupported")  # how paramiko reports SSH_FX_OP_UNSUPPORTED

    monkeypatch.setattr(paramiko.SFTPClient, "chmod", refuse)
    with pytest.raises(FatalError, match="refused to set file_mode 0640") as caught:
        _write(sshd, folder, tmp_path, file_mode="0640")
    assert caught.value.system == "vendor" and caught.value.stream == "out"
    assert list(folder.iterdir()) == []  # neither the final name nor the hidden partial


@pytest.mark.parametrize("file_mode", [0o640, 640, "0999", "rw-r-----", "04755", ""])
def test_a_file_mode_that_is_not_an_octal_string_is_refused(sshd: SshServer, folder: Path, file_mode: object):
    with pytest.raises(ValidationError, match="'file_mode' is an octal permission string"):
        SftpConfig.model_validate(_settings(sshd, folder, file_mode=file_mode))
