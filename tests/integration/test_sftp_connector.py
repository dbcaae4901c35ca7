"""The sftp connector against a real OpenSSH sshd on loopback: formats, cursors, host keys, auth, atomic writes."""

from __future__ import annotations

import logging
import signal
import tempfile
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import paramiko
import pyarrow as pa
import pytest
from pydantic import ValidationError

from officehub.canonical_model.errors import FatalError, RetriableError
from officehub.connectors import ReadOptions, WriteMode
from officehub.connectors.sftp import SftpConfig, SftpConnector
from tests.integration.sshd import SshServer, free_port, keygen, running_sshd, throwaway_user

pytestmark = pytest.mark.slow

LAYOUT = [
    {"name": "SKU", "start": 0, "length": 6},
    {"name": "NAME", "start": 6, "length": 12},
    {"name": "QTY", "start": 18, "length": 5, "align": "right", "type": "int"},
    {"name": "PRICE", "start": 23, "length": 9, "align": "right", "type": "decimal", "format": "0,00"},
]
STREAMS = {
    "people": {"pattern": "people_*.csv", "delimiter": ";", "encoding": "latin-1"},
    "events": {"pattern": "*.jsonl", "format": "jsonl"},
    "items": {"pattern": "ITEMS_*.TXT", "format": "fixed_width", "encoding": "cp1251", "newline": "\r\n",
              "layout": LAYOUT},
    "out": {"pattern": "OUT_*.csv", "write_name": "OUT_{batch_id}.csv"},
}


def _config(server: SshServer, folder: Path, **overrides) -> SftpConfig:
    settings = {"host": "127.0.0.1", "port": server.port, "username": server.user, "private_key": server.user_key,
                "known_hosts": server.known_hosts(), "folder": str(folder), "connect_timeout_s": 5, "timeout_s": 10,
                "streams": STREAMS}
    return SftpConfig.model_validate({**settings, **overrides})


@pytest.fixture
def connector(sshd: SshServer, folder: Path, tmp_path: Path) -> Iterator[SftpConnector]:
    with SftpConnector("vendor", _config(sshd, folder), tmp_path) as opened:
        yield opened


def _fw(sku: str, name: str, qty: str, price: str) -> str:
    return f"{sku:6}{name:12}{qty:>5}{price:>9}"


def _read(connector: SftpConnector, stream: str, cursor: dict | None = None, batch_size: int = 10_000):
    """(rows, positions, rejects, batches) of one read."""
    batches = list(connector.read(stream, cursor, ReadOptions(batch_size=batch_size)))
    rows = [row for b in batches for row in b.batch.to_pylist()]
    return rows, [p for b in batches for p in b.positions], [r for b in batches for r in b.rejects], batches


def test_reads_csv_jsonl_and_fixed_width_in_cp1251_and_latin1(connector: SftpConnector, folder: Path):
    (folder / "people_2.csv").write_bytes("id;name\n2;Åsa Öberg\n".encode("latin-1"))
    (folder / "people_1.csv").write_bytes("id;name\n1;François Müller\n".encode("latin-1"))
    (folder / "e.jsonl").write_bytes('{"id": 1, "who": "Олена", "n": 2.5}\n'.encode())
    lines = [_fw("A1", "Молоко", "12", "39,90"), _fw("A2", "Хліб", "", "7,5")]
    (folder / "ITEMS_1.TXT").write_bytes("".join(line + "\r\n" for line in lines).encode("cp1251"))

    people, positions, _, _ = _read(connector, "people")
    assert people == [{"id": "1", "name": "François Müller"}, {"id": "2", "name": "Åsa Öberg"}]
    assert positions == ["people_1.csv:2", "people_2.csv:2"]
    assert _read(connector, "events")[0] == [{"id": 1, "who": "Олена", "n": 2.5}]
    items, _, _, batches = _read(connector, "items")
    assert items == [{"SKU": "A1", "NAME": "Молоко", "QTY": 12, "PRICE": Decimal("39.90")},
                     {"SKU": "A2", "NAME": "Хліб", "QTY": None, "PRICE": Decimal("7.5")}]
    assert batches[0].batch.schema.field("PRICE").type == pa.decimal128(11, 2)


def test_a_bad_byte_quarantines_just_its_line(connector: SftpConnector, folder: Path):
    lines = [_fw("A1", "Молоко", "1", "1,00").encode("cp1251"), b"A2    \x98" + b" " * 25,
             _fw("A3", "Сир", "3", "3,00").encode("cp1251")]
    (folder / "ITEMS_1.TXT").write_bytes(b"\r\n".join(lines) + b"\r\n")
    rows, _, rejects, _ = _read(connector, "items")
    assert [r["SKU"] for r in rows] == ["A1", "A3"]
    assert [r.position for r in rejects] == ["ITEMS_1.TXT:2"]
    assert rejects[0].reason == "undecodable byte for cp1251 at byte 7"


def test_each_file_is_read_once_and_a_changed_file_again_with_a_warning(connector: SftpConnector, folder: Path,
                                                                         caplog: pytest.LogCaptureFixture):
    path = folder / "people_1.csv"
    path.write_bytes(b"id;name\n1;Olena\n")
    cursor = _read(connector, "people")[3][-1].cursor
    assert set(cursor["done"]["people_1.csv"]) == {"size", "mtime", "sha256"}
    assert _read(connector, "people", cursor)[0] == []
    path.write_bytes(b"id;name\n1;Olena\n2;Petro\n")
    with caplog.at_level(logging.WARNING):
        rows = _read(connector, "people", cursor)[0]
    assert [r["id"] for r in rows] == ["1", "2"]
    assert "file people_1.csv changed after it was read" in caplog.text
    assert "Olena" not in caplog.text and "Petro" not in caplog.text


def test_reading_resumes_mid_file_from_any_batch_cursor(connector: SftpConnector, folder: Path):
    (folder / "e1.jsonl").write_bytes(b"".join(b'{"id": %d}\n' % i for i in range(1, 6)))
    (folder / "e2.jsonl").write_bytes(b"".join(b'{"id": %d}\n' % i for i in range(6, 9)))
    _, _, _, batches = _read(connector, "events", batch_size=2)
    assert batches[0].cursor["current"]["file"] == "e1.jsonl" and batches[0].cursor["current"]["rows"] == 2
    for index, batch in enumerate(batches):
        rest, _, _, _ = _read(connector, "events", batch.cursor, batch_size=2)
        done = [row["id"] for b in batches[:index + 1] for row in b.batch.to_pylist()]
        assert done + [row["id"] for row in rest] == list(range(1, 9)), f"resuming after batch {index}"


def test_an_unknown_host_key_is_refused_and_never_added(sshd: SshServer, folder: Path, tmp_path: Path):
    other = sshd.known_hosts()
    other.write_text(other.read_text().replace(f"[127.0.0.1]:{sshd.port}", "[127.0.0.1]:1"))
    before = other.read_bytes()
    with pytest.raises(FatalError, match="is not in known_hosts") as caught:
        SftpConnector("vendor", _config(sshd, folder, known_hosts=other), tmp_path).check()
    assert sshd.host_fingerprint in str(caught.value)  # so a person can verify it with the administrator
    assert other.read_bytes() == before


def test_a_changed_host_key_is_refused(sshd: SshServer, folder: Path, tmp_path: Path):
    impostor = keygen(tmp_path / "impostor")
    config = _config(sshd, folder, known_hosts=sshd.known_hosts(impostor))
    with pytest.raises(FatalError, match="CHANGED") as caught:
        SftpConnector("vendor", config, tmp_path).check()
    assert sshd.host_fingerprint in str(caught.value)


def test_a_pinned_fingerprint_is_accepted_and_any_other_refused(sshd: SshServer, folder: Path, tmp_path: Path):
    (folder / "e.jsonl").write_bytes(b'{"id": 1}\n')
    pinned = _config(sshd, folder, known_hosts=None, host_key_fingerprint=sshd.host_fingerprint)
    with SftpConnector("vendor", pinned, tmp_path) as connector:
        assert _read(connector, "events")[0] == [{"id": 1}]
    wrong = _config(sshd, folder, known_hosts=None, host_key_fingerprint="SHA256:" + "A" * 43)
    with pytest.raises(FatalError, match="does not match the pinned host_key_fingerprint"):
        SftpConnector("vendor", wrong, tmp_path).check()


def test_key_auth_with_a_passphrase_by_reference(sshd: SshServer, folder: Path, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch):
    locked = keygen(tmp_path / "locked", passphrase="correct horse")
    with (sshd.root / "authorized_keys").open("a") as keys:
        keys.write(Path(f"{locked}.pub").read_text())
    monkeypatch.setenv("SFTP_KEY_PASSPHRASE", "correct horse")
    config = _config(sshd, folder, private_key=locked, passphrase={"env": "SFTP_KEY_PASSPHRASE"})
    SftpConnector("vendor", config, tmp_path).check()
    monkeypatch.setenv("SFTP_KEY_PASSPHRASE", "wrong pony")
    with pytest.raises(FatalError, match="wrong passphrase") as caught:
        SftpConnector("vendor", config, tmp_path).check()
    assert "wrong pony" not in str(caught.value)


def test_a_key_the_server_does_not_know_is_a_fatal_error(sshd: SshServer, folder: Path, tmp_path: Path):
    stranger = keygen(tmp_path / "stranger")
    with pytest.raises(FatalError, match=f"the server refused user '{sshd.user}' with this private key"):
        SftpConnector("vendor", _config(sshd, folder, private_key=stranger), tmp_path).check()


def test_password_auth_with_a_throwaway_system_user(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    with throwaway_user() as (user, password, home), running_sshd(tmp_path / "pw", password_auth=True) as server:
        (home / "e.jsonl").write_bytes(b'{"id": 7}\n')
        monkeypatch.setenv("SFTP_PASSWORD", password)
        config = _config(server, home, username=user, private_key=None, password={"env": "SFTP_PASSWORD"})
        with SftpConnector("vendor", config, tmp_path) as connector:
            assert _read(connector, "events")[0] == [{"id": 7}]
        monkeypatch.setenv("SFTP_PASSWORD", password + "x")
        with pytest.raises(FatalError, match=f"refused user '{user}' with this password") as caught:
            SftpConnector("vendor", config, tmp_path).check()
        assert password not in str(caught.value)


def _cut_after_first_chunk(monkeypatch: pytest.MonkeyPatch, cls: type, method: str) -> None:
    """Make ``cls.method`` drop the connection once it has moved one chunk, like a network cut."""
    original = getattr(cls, method)
    calls = {"n": 0}

    def cut(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            self.sftp.sock.get_transport().close()
        return original(self, *args, **kwargs)

    monkeypatch.setattr(cls, method, cut)


def test_a_cut_upload_leaves_no_partial_file_and_the_retry_writes_one_whole_file(
        connector: SftpConnector, folder: Path, monkeypatch: pytest.MonkeyPatch):
    batch = pa.RecordBatch.from_pydict({"id": [str(i) for i in range(50_000)], "note": ["x" * 20] * 50_000})
    with monkeypatch.context() as cut:
        _cut_after_first_chunk(cut, paramiko.SFTPFile, "write")
        with pytest.raises(RetriableError, match="SFTP connection failed"):
            connector.write("out", batch, WriteMode.APPEND, key=(), batch_id="000001-000002")
    assert not (folder / "OUT_000001-000002.csv").exists()
    for _ in range(2):  # the retry, and a repeat of the same batch after it
        assert connector.write("out", batch, WriteMode.APPEND, key=(), batch_id="000001-000002") == 50_000
    assert sorted(p.name for p in folder.iterdir()) == ["OUT_000001-000002.csv"]
    rows = _read(connector, "out")[0]
    assert [r["id"] for r in rows] == [str(i) for i in range(50_000)]


def test_a_cut_download_leaves_no_temp_file_and_the_next_read_gets_everything(
        connector: SftpConnector, folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    (folder / "e.jsonl").write_bytes(b"".join(b'{"id": %d, "pad": "%s"}\n' % (i, b"x" * 50) for i in range(20_000)))
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(downloads))
    with monkeypatch.context() as cut:
        _cut_after_first_chunk(cut, paramiko.SFTPFile, "_read")
        with pytest.raises(RetriableError):
            _read(connector, "events")
    assert list(downloads.iterdir()) == []
    rows, _, _, batches = _read(connector, "events")
    assert [r["id"] for r in rows] == list(range(20_000))
    assert list(batches[-1].cursor["done"]) == ["e.jsonl"]
    assert list(downloads.iterdir()) == []


def test_a_restarted_server_is_reached_through_a_new_connection(tmp_path: Path):
    with running_sshd(tmp_path / "srv") as server:
        (server.files / "e.jsonl").write_bytes(b'{"id": 1}\n')
        with SftpConnector("vendor", _config(server, server.files), tmp_path) as connector:
            first = _read(connector, "events")
            server.restart()
            (server.files / "f.jsonl").write_bytes(b'{"id": 2}\n')
            assert _read(connector, "events", first[3][-1].cursor)[0] == [{"id": 2}]
        assert server.log.read_text().count("Accepted publickey") == 2


def test_hashed_known_hosts_entries_are_understood(sshd: SshServer, folder: Path, tmp_path: Path):
    hashed = sshd.known_hosts(hashed=True)
    assert f"{sshd.port}" not in hashed.read_text()
    SftpConnector("vendor", _config(sshd, folder, known_hosts=hashed), tmp_path).check()


def test_a_server_that_stops_answering_times_out_as_a_retriable_error(tmp_path: Path):
    with running_sshd(tmp_path / "srv") as server:
        config = _config(server, server.files, connect_timeout_s=0.5, timeout_s=0.5)
        with SftpConnector("vendor", config, tmp_path) as connector:
            connector.check()
            server.signal_all(signal.SIGSTOP)  # the session and the listener hang, the sockets stay open
            # A broken timeout makes this test slow and then fail, rather than hang forever.
            watchdog = threading.Timer(10, server.signal_all, (signal.SIGCONT,))
            watchdog.start()
            started = time.monotonic()
            try:
                with pytest.raises(RetriableError, match="SFTP connection failed"):
                    _read(connector, "events")
            finally:
                watchdog.cancel()
                server.signal_all(signal.SIGCONT)
            assert time.monotonic() - started < 3


def test_an_unreachable_server_is_a_retriable_error(sshd: SshServer, folder: Path, tmp_path: Path):
    config = _config(sshd, folder, port=free_port(), connect_timeout_s=2)
    with pytest.raises(RetriableError) as caught:
        SftpConnector("vendor", config, tmp_path).check()
    assert caught.value.describe().startswith("system 'vendor': SFTP connection failed")


def test_a_missing_remote_folder_is_a_fatal_error(sshd: SshServer, folder: Path, tmp_path: Path):
    with pytest.raises(FatalError, match="remote folder .* does not exist"):
        SftpConnector("vendor", _config(sshd, folder / "nope"), tmp_path).check()


def test_a_write_to_a_missing_remote_folder_is_fatal_and_creates_nothing(sshd: SshServer, folder: Path,
                                                                         tmp_path: Path):
    connector = SftpConnector("vendor", _config(sshd, folder / "nope"), tmp_path)
    batch = pa.RecordBatch.from_pydict({"id": ["1"], "full name": ["x"]})
    with connector, pytest.raises(FatalError, match="remote folder .*nope does not exist"):
        connector.write("people", batch, WriteMode.UPSERT, key=("id",), batch_id="1")
    assert not (folder / "nope").exists()


def test_discover_takes_fields_from_the_layout_or_the_first_line(connector: SftpConnector, folder: Path):
    (folder / "people_1.csv").write_bytes(b"id;full name\n1;x\n")
    streams = {s.name: [(f.name, f.type) for f in s.fields] for s in connector.discover()}
    assert streams["people"] == [("id", "string"), ("full name", "string")]
    assert streams["items"] == [("SKU", "string"), ("NAME", "string"), ("QTY", "int64"),
                                ("PRICE", "decimal128(11, 2)")]
    assert streams["events"] == []


def test_typed_values_round_trip_through_the_server(connector: SftpConnector, folder: Path):
    batch = pa.RecordBatch.from_pydict({"SKU": ["A1"], "NAME": ["Хліб"], "QTY": pa.array([3], pa.int64()),
                                        "PRICE": pa.array([Decimal("7.50")], pa.decimal128(11, 2))})
    connector.write("items", batch, WriteMode.UPSERT, key=("SKU",), batch_id="1")
    written = folder / "items_1.txt"
    assert written.read_bytes() == (_fw("A1", "Хліб", "3", "7,50") + "\r\n").encode("cp1251")
    written.rename(folder / "ITEMS_1.TXT")
    assert _read(connector, "items")[0] == batch.to_pylist()


@pytest.mark.parametrize(("overrides", "message"), [
    ({"password": {"env": "P"}}, "exactly one of 'private_key' or 'password'"),
    ({"private_key": None}, "exactly one of 'private_key' or 'password'"),
    ({"host_key_fingerprint": "SHA256:" + "A" * 43}, "exactly one of 'known_hosts' or 'host_key_fingerprint'"),
    ({"known_hosts": None}, "exactly one of 'known_hosts' or 'host_key_fingerprint'"),
    ({"known_hosts": None, "host_key_fingerprint": "MD5:aa:bb"}, "should match pattern"),
    ({"password": {"env": "P"}, "private_key": None, "passphrase": {"env": "Q"}}, "'passphrase' unlocks"),
    ({"hostname": "x"}, "Extra inputs are not permitted"),
])
def test_config_mistakes_are_explained(overrides: dict, message: str):
    settings = {"host": "h", "username": "u", "private_key": "id", "known_hosts": "kh", "streams": {}}
    with pytest.raises(ValidationError, match=message.replace("(", r"\(")):
        SftpConfig.model_validate({**settings, **overrides})
