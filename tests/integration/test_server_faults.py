"""Server faults mid-run: each is a retriable failure (exit 75) with a one-line message naming the
system, and a rerun completes with nothing lost or duplicated.

The hub store's PostgreSQL restarted (a private cluster: the shared server stays up), a MariaDB
source connection killed mid-read, and a file destination's disk full (a small tmpfs).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml

from tests.conftest import service_unavailable
from tests.helpers import run_cli
from tests.integration.fault_points import RunProgress, bytes_under, cli, hub_state, output_state
from tests.integration.sshd import free_port

pytestmark = pytest.mark.slow

PG_BIN = Path("/usr/lib/postgresql/15/bin")
SALT = "fault-campaign-sentinel"  # a value that must never appear in an error line


def _assert_retriable(done: subprocess.CompletedProcess, *names: str) -> str:
    """Exit 75, the failing run's error one line naming ``names``, no traceback; the line."""
    assert done.returncode == 75, (done.returncode, done.stdout[-2000:], done.stderr[-2000:])
    out = done.stdout + done.stderr
    assert "Traceback" not in out
    lines = [line for line in out.splitlines() if all(n in line for n in names) and "│" not in line]  # not the table
    assert lines, f"no line names {names}: {out[-2000:]}"
    return sorted(lines, key=lambda line: not line.startswith("error"))[0]


def _runuser(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(["runuser", "-u", "postgres", "--", *args], check=True, capture_output=True, text=True,
                          timeout=60, **kwargs)


@pytest.fixture
def private_postgres() -> Iterator[tuple[str, Path]]:
    """A PostgreSQL 15 cluster of this test's own on a free loopback port: (URL, data folder)."""
    if not (PG_BIN / "initdb").exists():
        service_unavailable("PostgreSQL 15 binaries", FileNotFoundError(str(PG_BIN)))
    root = Path(tempfile.mkdtemp(prefix="officehub-pg-"))
    shutil.chown(root, "postgres")
    data, port = root / "data", free_port()
    try:
        _runuser(str(PG_BIN / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres")
        _runuser(str(PG_BIN / "pg_ctl"), "-D", str(data), "-l", str(root / "log"), "-w", "-o",
                 f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off", "start")
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres", data
    finally:
        subprocess.run(["runuser", "-u", "postgres", "--", str(PG_BIN / "pg_ctl"), "-D", str(data), "-m",
                        "immediate", "stop"], capture_output=True, timeout=60)
        shutil.rmtree(root, ignore_errors=True)


def _wait_for(probe, units: int, proc: subprocess.Popen, timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while probe() < units:
        assert proc.poll() is None, "the run finished before the fault"
        assert time.monotonic() < deadline, "the run never got that far"
        time.sleep(0.005)


def test_the_hub_store_server_restarted_mid_run(private_postgres, demo_project, tmp_path: Path):
    url, data = private_postgres
    pipelines = ("crm_customers_in", "reporting_customers_out")
    reference = demo_project("reference", customers=6_000)
    assert run_cli("-p", str(reference), "sync", *pipelines).returncode == 0
    folder = demo_project("restarted", customers=6_000)
    config = folder / "officehub.yaml"
    config.write_text(config.read_text().replace("sqlite:///.officehub/hub.db", url))

    probe = RunProgress(url)
    proc = subprocess.Popen(cli(folder, "sync", *pipelines), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for(probe, 2_000, proc)
        probe.close()
        _runuser(str(PG_BIN / "pg_ctl"), "-D", str(data), "-l", str(data.parent / "log"), "-m", "fast", "-w",
                 "restart")
        out, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
    line = _assert_retriable(subprocess.CompletedProcess(proc.args, proc.returncode, out, err), "crm_customers_in")
    print(f"\nhub store restarted mid-run: {line.strip()}")

    assert run_cli("-p", str(folder), "sync", *pipelines).returncode == 0
    assert output_state(folder / "out", url) == output_state(reference / "out",
                                                              f"sqlite:///{reference / '.officehub' / 'hub.db'}")


def _mariadb_estate(folder: Path, url: str, rows: int) -> Path:
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("CREATE TABLE staff (id INT PRIMARY KEY, last VARCHAR(40), hired DATE)"))
            conn.execute(sa.text("INSERT INTO staff SELECT seq, CONCAT('Koval', seq), "
                                 "DATE_ADD('2010-01-01', INTERVAL seq % 3000 DAY) FROM seq_1_to_" + str(rows)))
    finally:
        engine.dispose()
    folder.mkdir(parents=True)
    (folder / "officehub.yaml").write_text(yaml.safe_dump({
        "hub": {"store": "sqlite:///.officehub/hub.db", "batch_size": 2_000},
        "systems": {"hr": {"type": "sql", "url": url}},
        "mappings": {"hr_staff": {"system": "hr", "stream": "staff", "target": "employee", "key": "id",
                                  "fields": {"employee_number": "id", "name.last": "last",
                                             "employment.hire_date": "hired"}}},
        "pipelines": {"staff_in": {"kind": "ingest", "mapping": "hr_staff"}},
    }, sort_keys=False))
    return folder


def test_a_mariadb_source_connection_killed_mid_read(mariadb_url: str, tmp_path: Path):
    """The reader's connections are killed again and again while the run reads. A page read on a
    killed connection fails the run as retriable (exit 75, one line naming the pipeline and system);
    a reader that opens a connection per page may instead read on. Either way the rerun ends with
    every row exactly once."""
    rows = 60_000
    folder = _mariadb_estate(tmp_path / "estate", mariadb_url, rows)
    database = mariadb_url.rsplit("/", 1)[1].split("?")[0]
    probe = RunProgress(f"sqlite:///{folder / '.officehub' / 'hub.db'}")
    proc = subprocess.Popen(cli(folder, "sync", "staff_in"), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    admin = sa.create_engine("mysql+pymysql://root@127.0.0.1:3306/test")
    killed = 0
    try:
        _wait_for(probe, 4_000, proc)
        with admin.connect() as conn:
            while proc.poll() is None:
                readers = conn.execute(sa.text("SELECT id FROM information_schema.processlist WHERE db = :db "
                                               "AND id <> CONNECTION_ID()"), {"db": database}).scalars().all()
                for reader in readers:
                    try:
                        conn.execute(sa.text(f"KILL {int(reader)}"))
                        killed += 1
                    except sa.exc.DBAPIError:  # it ended between the listing and the kill
                        pass
                time.sleep(0.01)
        out, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
        admin.dispose()
    assert killed, "no reader connection was ever seen to kill"
    if proc.returncode == 0:
        print(f"\nsource connections killed mid-read ({killed}): the reader read on")
    else:
        line = _assert_retriable(subprocess.CompletedProcess(proc.args, proc.returncode, out, err), "staff_in", "hr")
        print(f"\nsource connections killed mid-read ({killed}): {line.strip()}")

    assert run_cli("-p", str(folder), "sync", "staff_in").returncode == 0
    hub = f"sqlite:///{folder / '.officehub' / 'hub.db'}"
    engine = sa.create_engine(hub)
    try:
        with engine.connect() as conn:
            golden = conn.execute(sa.text("SELECT COUNT(*), COUNT(DISTINCT employee_number) FROM employee")).one()
            links = conn.execute(sa.text("SELECT COUNT(*) FROM xref WHERE system = 'hr'")).scalar_one()
    finally:
        engine.dispose()
    sole = sum(1 for row in hub_state(hub).get("employee", []) if "hr" in row)
    assert tuple(golden) == (rows, rows), "every row once, none twice"
    assert links + sole >= rows


def test_the_peers_sshd_killed_mid_upload(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """kyiv uploads its bundles to lviv over SFTP; lviv's sshd and every connection it serves are
    SIGKILLed half-way through the first bundle and stay down: the exchange reconnects as often as the
    link allows, then fails retriable naming the link. With sshd back, the next exchange and lviv's
    import end with every record exactly once."""
    import signal

    from tests.integration.sshd import running_sshd
    from tests.integration.test_sites_exchange import expected, make_pair

    with running_sshd(tmp_path / "sshd") as sshd:
        pair = make_pair(tmp_path / "pair", f"sqlite:///{tmp_path / 'pair' / 'lviv' / 'hub.db'}", sshd, monkeypatch)
        pair.set_publish_batch(10_000)
        pair.customers_csv(range(1, 30_001))
        pair.sync_kyiv()
        pair.set_link(retries=2, retry_backoff_s=0.2)
        first = min(p.stat().st_size for p in pair.outbox().glob("*.ohb"))
        uploaded = bytes_under(pair.inbox())
        proc = subprocess.Popen(cli(pair.kyiv, "site", "exchange", "lviv"), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        try:
            _wait_for(uploaded, first // 2, proc)
            sshd.signal_all(signal.SIGKILL)
            sshd.process.wait()
            sshd.process = None
            out, err = proc.communicate(timeout=120)
        finally:
            proc.kill()
        line = _assert_retriable(subprocess.CompletedProcess(proc.args, proc.returncode, out, err), "lviv")
        print(f"\npeer's sshd killed mid-upload: {line.strip()}")
        assert "gave up after 3 attempt(s)" in line

        sshd.start()
        sent = pair.exchange()
        assert sent.uploaded >= 1
        assert pair.sync_lviv().status == "succeeded"
        assert pair.lviv_customers() == expected(range(1, 30_001))
        pair.exchange()  # fetches lviv's acknowledgements
        assert not list(pair.outbox().glob("*.ohb")), "every bundle acknowledged and cleared"


@pytest.fixture
def small_disk() -> Iterator[Path]:
    """A 1 MiB tmpfs, unmounted afterwards."""
    mount = Path(tempfile.mkdtemp(prefix="officehub-disk-"))
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        if os.environ.get("CI"):
            pytest.fail(f"mounting a tmpfs failed: {done.stderr.decode().strip()}")
        pytest.skip("mount is not permitted here (a tmpfs stands for the full disk)")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=False)
        mount.rmdir()


def test_a_file_destination_on_a_full_disk(small_disk: Path, demo_project):
    folder = demo_project("full", employees=3_000)
    reference = demo_project("reference", employees=3_000)
    for project in (folder, reference):
        assert run_cli("-p", str(project), "sync", "hr_employees_in").returncode == 0
    destinations = folder / "systems" / "destinations.yaml"
    destinations.write_text(destinations.read_text().replace("path: out/payroll", f"path: {small_disk}"))
    filler = small_disk / "filler"
    filler.write_bytes(b"\0" * (1024 * 1024 - 96 * 1024))  # ~96 KiB left: a few batches fit, not all

    done = run_cli("-p", str(folder), "sync", "payroll_employees_out")
    line = _assert_retriable(done, "payroll_employees_out", "payroll")
    print(f"\ndestination disk full: {line.strip()}")
    written = sorted(p.name for p in small_disk.iterdir() if p.name != "filler")
    assert written, "the disk filled up mid-run, after some files"
    assert all(p.name.startswith("EMPLOYEES_") or p.name.startswith(".") for p in small_disk.iterdir()
               if p.name != "filler")
    filler.unlink()
    assert run_cli("-p", str(folder), "sync", "payroll_employees_out").returncode == 0
    assert run_cli("-p", str(reference), "sync", "payroll_employees_out").returncode == 0
    got = {p.name: p.read_bytes() for p in small_disk.iterdir() if not p.name.startswith(".")}
    want = {p.name: p.read_bytes() for p in (reference / "out" / "payroll").iterdir()}
    assert len(got) == len(want) and sorted(map(len, got.values())) == sorted(map(len, want.values()))


def test_a_connectorx_page_whose_connection_is_killed_is_retriable(mariadb_url: str):
    """The fast reader's own connection killed while a page is read: a retriable driver error, never a
    "statement rejected" (which would stop the pipeline as if its configuration were wrong)."""
    import threading

    from officehub.arrowsql.driver_errors import DriverError
    from officehub.arrowsql.read_connectorx import ConnectorxReader

    engine = sa.create_engine(mariadb_url)
    reader = ConnectorxReader(engine.url.set(drivername="mysql", query={}).render_as_string(hide_password=False),
                              engine.dialect)
    # A page big enough to be still streaming in when its connection is killed.
    page = sa.select(sa.text("seq, CONCAT('Koval', seq) AS last")).select_from(sa.text("seq_1_to_3000000"))

    def kill_the_page() -> None:
        deadline = time.monotonic() + 4
        with engine.connect() as conn:
            while time.monotonic() < deadline:
                ids = conn.execute(sa.text("SELECT id FROM information_schema.processlist "
                                           "WHERE info LIKE '%seq_1_to_3000000%' AND id <> CONNECTION_ID()")
                                   ).scalars().all()
                if ids:
                    time.sleep(0.05)  # rows are on their way
                    conn.execute(sa.text(f"KILL {int(ids[0])}"))
                    return
                time.sleep(0.005)

    killer = threading.Thread(target=kill_the_page)
    killer.start()
    try:
        with reader.pages() as fetch, pytest.raises(DriverError) as raised:
            fetch(page)
    finally:
        killer.join()
        engine.dispose()
    assert raised.value.retriable, raised.value
