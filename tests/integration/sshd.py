"""A real OpenSSH sshd for the sftp tests: loopback port, throwaway keys, a private config, no PAM.

It runs as the current user (as root it needs only the privilege-separation
folder OpenSSH expects), serves SFTP with ``internal-sftp`` and logs to a file
in its temporary folder. Without sshd the tests fail in CI and skip elsewhere.
"""

from __future__ import annotations

import getpass
import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest

from tests.leak_scan import register_secret

_SSHD_CANDIDATES = ("sshd", "/usr/sbin/sshd", "/usr/local/sbin/sshd")
_PRIVSEP_DIR = Path("/run/sshd")  # compiled into Debian/Ubuntu OpenSSH; needed when started as root
START_TIMEOUT_S = 10


def _missing(what: str) -> None:
    """Fail in CI (where sshd must be installed); skip with the reason elsewhere."""
    message = f"{what} is not installed (apt-get install openssh-server)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def _binary(*candidates: str) -> str:
    for candidate in candidates:
        found = shutil.which(candidate)
        if found:
            return found
    _missing(candidates[0])
    raise AssertionError("unreachable")


def keygen(path: Path, passphrase: str = "") -> Path:
    """A new ed25519 key pair at ``path`` (and ``path.pub``)."""
    subprocess.run([_binary("ssh-keygen"), "-q", "-t", "ed25519", "-N", passphrase, "-C", "officehub-test",
                    "-f", str(path)], check=True, capture_output=True)
    # A private key shows in output by its base64 lines; each one is a leak.
    for line in path.read_text().splitlines()[1:-1]:
        register_secret(line, "SSH private key")
    return path


def fingerprint(public_key: Path) -> str:
    """``SHA256:...`` as ssh-keygen prints it: an oracle independent of paramiko."""
    out = subprocess.run([_binary("ssh-keygen"), "-l", "-E", "sha256", "-f", str(public_key)],
                         check=True, capture_output=True, text=True).stdout
    return out.split()[1]


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class SshServer:
    """One sshd process on 127.0.0.1 with its own keys, config and log in ``root``."""

    def __init__(self, root: Path, *, password_auth: bool = False) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.user = getpass.getuser()
        self.host_key = keygen(root / "host_ed25519")
        self.user_key = keygen(root / "user_ed25519")
        (root / "authorized_keys").write_text(Path(f"{self.user_key}.pub").read_text())
        self.files = root / "files"
        self.files.mkdir()
        self.config = root / "sshd_config"
        self.config.write_text(self._config(password_auth))
        self.log = root / "sshd.log"
        self.process: subprocess.Popen | None = None

    def _config(self, password_auth: bool) -> str:
        return "\n".join([
            f"ListenAddress 127.0.0.1:{self.port}",
            f"HostKey {self.host_key}",
            f"PidFile {self.root / 'sshd.pid'}",
            f"AuthorizedKeysFile {self.root / 'authorized_keys'}",
            "UsePAM no",
            "StrictModes no",
            "UseDNS no",
            "PubkeyAuthentication yes",
            f"PasswordAuthentication {'yes' if password_auth else 'no'}",
            "PermitRootLogin prohibit-password",
            "Subsystem sftp internal-sftp",
            "LogLevel VERBOSE",
            "",
        ])

    @property
    def host_fingerprint(self) -> str:
        """The server's host key fingerprint, ``SHA256:...``."""
        return fingerprint(Path(f"{self.host_key}.pub"))

    def known_hosts(self, public_key: Path | None = None, *, hashed: bool = False) -> Path:
        """A known_hosts file that lists ``public_key`` (default: the real host key) for this server."""
        key = Path(f"{public_key or self.host_key}.pub").read_text().split()[:2]
        path = self.root / f"known_hosts_{secrets.token_hex(4)}"
        path.write_text(f"[127.0.0.1]:{self.port} {' '.join(key)}\n")
        if hashed:
            subprocess.run([_binary("ssh-keygen"), "-H", "-f", str(path)], check=True, capture_output=True)
            Path(f"{path}.old").unlink()
        return path

    def start(self) -> None:
        """Start sshd and wait until it accepts connections."""
        sshd = _binary(*_SSHD_CANDIDATES)
        if os.geteuid() == 0:
            _PRIVSEP_DIR.mkdir(mode=0o755, exist_ok=True)
        with self.log.open("ab") as log:
            # Its own process group, so stop() takes the per-connection children down too.
            self.process = subprocess.Popen([sshd, "-D", "-e", "-f", str(self.config)], stdin=subprocess.DEVNULL,
                                            stdout=subprocess.DEVNULL, stderr=log, start_new_session=True)
        self._wait_until_listening()

    def _wait_until_listening(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"sshd exited with {self.process.returncode}: {self.log.read_text()[-2000:]}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.02)
        self.stop()
        pytest.fail(f"sshd did not listen within {START_TIMEOUT_S} s: {self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        """Stop sshd and every connection it serves, like a server going down."""
        if self.process is None:
            return
        # Each connection's process calls setsid(), so only a walk down from our sshd finds them all.
        self.signal_all(signal.SIGCONT)
        self.signal_all(signal.SIGTERM)
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None

    def signal_all(self, signum: int) -> None:
        """Send ``signum`` to sshd and every connection it serves (SIGSTOP: a server that hangs)."""
        for pid in [self.process.pid, *_descendants(self.process.pid)]:
            with suppress(ProcessLookupError):
                os.kill(pid, signum)

    def restart(self) -> None:
        """Stop and start again on the same port with the same keys."""
        self.stop()
        self.start()


def _descendants(root: int) -> list[int]:
    """Every process below ``root`` (Linux /proc), children before grandchildren."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with suppress(OSError, ValueError, IndexError):
            # The command name is in parentheses and may hold spaces: the parent pid comes after it.
            parents[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
    found, frontier = [], [root]
    while frontier:
        frontier = [pid for pid, parent in parents.items() if parent in frontier]
        found += frontier
    return found


@contextmanager
def running_sshd(root: Path, *, password_auth: bool = False) -> Iterator[SshServer]:
    """An sshd serving ``root / 'files'`` for the duration of the block."""
    server = SshServer(root, password_auth=password_auth)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def throwaway_user() -> Iterator[tuple[str, str, Path]]:
    """(name, password, home) of a system user that exists only for the block; root only."""
    if os.geteuid() != 0 or not shutil.which("useradd"):
        pytest.skip("password login needs a throwaway system user, which only root (with useradd) can create")
    name, password = f"ohsftp{secrets.token_hex(3)}", register_secret(secrets.token_urlsafe(18), "SSH password")
    home = Path(tempfile.mkdtemp(prefix="officehub-sftp-home-"))
    # nologin: the account can use SFTP (internal-sftp runs inside sshd) but never get a shell.
    subprocess.run(["useradd", "--user-group", "--no-create-home", "--home-dir", str(home),
                    "--shell", "/usr/sbin/nologin", name], check=True, capture_output=True)
    try:
        shutil.chown(home, name, name)
        subprocess.run(["chpasswd"], input=f"{name}:{password}\n", text=True, check=True, capture_output=True)
        yield name, password, home
    finally:
        subprocess.run(["userdel", name], check=False, capture_output=True)
        shutil.rmtree(home, ignore_errors=True)
