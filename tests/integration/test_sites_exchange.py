"""Two sites exchange bundles over a real OpenSSH sshd; the faults of a WAN link are forced one by one.

kyiv (SQLite hub store) ingests customers from a CSV drop folder and publishes them to the peer
site lviv (PostgreSQL hub store), whose country (PL) makes kyiv's policy drop the customer notes
before anything leaves. lviv's exchange folder is served by the test's sshd. Every test asserts
on lviv's hub store: nothing lost, nothing applied twice, nothing unverified applied.
"""

from __future__ import annotations

import textwrap
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import sqlalchemy as sa
import yaml

from officehub import orchestrate
from officehub.config import load_project
from officehub.config.site_settings import SiteSettings
from officehub.sites import service
from officehub.sites.bundle import Route, encode_batch, file_name, seal
from officehub.sites.keys import init_site, load_identity, public_card
from officehub.sites.peers import add_peer, revoke_peer
from officehub.sites.settings import site_paths
from tests.helpers import hub_links, sync_all
from tests.integration.sshd import SshServer
from tests.integration.tcp_proxy import CuttingProxy

pytestmark = pytest.mark.slow

PASSPHRASES = {"kyiv": "kyiv passphrase for tests", "lviv": "lviv passphrase for tests"}
POLICY = """
name: lviv-sharing
agreements:
  - id: lviv-regional-2026
    destination: lviv
    purpose: regional customer service
    legal_basis: "GDPR Art. 6(1)(b); intra-group agreement IGA-2026-02"
    valid_from: 2020-01-01
    valid_until: 2099-12-31
rules:
  - id: notes-stay-in-ukraine
    description: Free-text notes do not leave for sites in Poland
    select: {field: customer.notes}
    action: drop
    when: {jurisdictions: [PL]}
"""


def _write(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False) if not isinstance(data, str) else data, encoding="utf-8")


@dataclass
class SitePair:
    """The two projects, the sshd serving lviv, and ways to read what each hub holds."""

    kyiv: Path
    lviv: Path
    lviv_store: str
    sshd: SshServer

    def sftp(self, port: int | None = None) -> dict[str, Any]:
        """kyiv's settings for reaching lviv's exchange folder (through ``port``, e.g. a proxy)."""
        return {"host": "127.0.0.1", "port": port or self.sshd.port, "username": self.sshd.user,
                "private_key": str(self.sshd.user_key), "host_key_fingerprint": self.sshd.host_fingerprint,
                "folder": str(self.lviv / "site" / "exchange"), "connect_timeout_s": 5, "timeout_s": 10}

    def set_link(self, **settings: Any) -> None:
        """Change kyiv's settings for the system 'lviv'."""
        path = self.kyiv / "systems.yaml"
        data = yaml.safe_load(path.read_text())
        data["systems"]["lviv"].update(settings)
        _write(path, data)

    def set_publish_batch(self, size: int) -> None:
        """Records per publish batch (so per bundle) at kyiv."""
        path = self.kyiv / "officehub.yaml"
        data = yaml.safe_load(path.read_text())
        data["hub"]["batch_size"] = size
        _write(path, data)

    def set_lviv_link(self, **settings: Any) -> None:
        """Change lviv's settings for the system 'kyiv'."""
        path = self.lviv / "officehub.yaml"
        data = yaml.safe_load(path.read_text())
        data["systems"]["kyiv"].update(settings)
        _write(path, data)

    def customers_csv(self, ids: range, tag: str = "") -> None:
        """Drop a CSV of customers ``ids`` into kyiv's CRM export folder."""
        lines = ["id;first;last;born;country;notes"]
        lines += [f"{i};Olena{tag};Koval{i};1980-01-{1 + i % 28:02d};UA;note {i}{tag}" for i in ids]
        (self.kyiv / "crm" / f"customers_{ids.start:06d}{tag.strip() or ''}.csv").write_text("\n".join(lines) + "\n")

    def sync_kyiv(self) -> dict:
        """kyiv: ingest the CRM, publish to lviv's outbox."""
        results = sync_all(self.kyiv)
        assert all(r.status == "succeeded" for r in results.values()), {n: r.error for n, r in results.items()}
        return results

    def sync_lviv(self):
        """lviv: import bundles from kyiv; the run result."""
        return sync_all(self.lviv)["kyiv_customers_in"]

    def exchange(self):
        """kyiv → lviv over SFTP."""
        return service.exchange_with(load_project(self.kyiv), "lviv")

    def lviv_customers(self) -> dict[str, tuple]:
        """lviv's golden customers by customer number: (first name, last name, birth date, notes, version)."""
        engine = sa.create_engine(self.lviv_store)
        try:
            with engine.connect() as conn:
                rows = conn.execute(sa.text("SELECT customer_number, name__first, name__last, birth_date, notes, version "
                                            "FROM customer")).all()
                xrefs = sum(1 for system, *_ in hub_links(conn) if system == "kyiv")
        finally:
            engine.dispose()
        assert xrefs == len(rows), "one cross-reference per imported record"
        return {r[0]: (r[1], r[2], str(r[3]), r[4], r[5]) for r in rows}

    def lviv_quarantine(self) -> list[dict]:
        """lviv's open quarantine entries."""
        engine = sa.create_engine(self.lviv_store)
        try:
            with engine.connect() as conn:
                return [dict(r._mapping) for r in conn.execute(sa.text(
                    "SELECT position, reason, raw FROM quarantine WHERE status = 'open' ORDER BY id"))]
        finally:
            engine.dispose()

    def inbox(self) -> Path:
        """lviv's inbox for kyiv's bundles."""
        return self.lviv / "site" / "exchange" / "inbox" / "kyiv"

    def outbox(self) -> Path:
        """kyiv's outbox for lviv."""
        return self.kyiv / "site" / "outbox" / "lviv"


def expected(ids: range, tag: str = "", version: int = 1) -> dict[str, tuple]:
    """What lviv must hold for customers ``ids``: notes withheld by kyiv's policy."""
    return {str(i): (f"Olena{tag}", f"Koval{i}", f"1980-01-{1 + i % 28:02d}", None, version) for i in ids}


def make_pair(root: Path, lviv_store: str, sshd: SshServer, monkeypatch, **link: Any) -> SitePair:
    """Create both projects, their site identities, and register each with the other."""
    kyiv, lviv = root / "kyiv", root / "lviv"
    for name in PASSPHRASES:
        monkeypatch.setenv(f"{name.upper()}_SITE_PASSPHRASE", PASSPHRASES[name])
    _write(kyiv / "officehub.yaml", {
        "hub": {"name": "kyiv", "store": "sqlite:///.officehub/hub.db", "batch_size": 100},
        "sites": {"name": "kyiv", "folder": "site", "passphrase": {"env": "KYIV_SITE_PASSPHRASE"}},
        "include": ["systems.yaml"], "policies": ["policies/*.yaml"],
        "mappings": {
            "crm_customers": {"system": "crm", "stream": "customers", "target": "customer", "key": "id",
                              "fields": {"customer_number": "id", "name.first": "first", "name.last": "last",
                                         "birth_date": {"from": "born", "transforms": [{"date": "%Y-%m-%d"}]},
                                         "address.country": "country", "notes": "notes"}},
            "lviv_customers": {"system": "lviv", "stream": "customer", "target": "customer",
                               "key": "canonical_id", "fields": "all"}},
        "pipelines": {"crm_customers_in": {"kind": "ingest", "mapping": "crm_customers"},
                      "lviv_customers_out": {"kind": "publish", "mapping": "lviv_customers",
                                             "purpose": "regional customer service"}},
    })
    (kyiv / "crm").mkdir(parents=True)
    _write(kyiv / "policies" / "lviv.yaml", textwrap.dedent(POLICY))
    _write(lviv / "officehub.yaml", {
        "hub": {"name": "lviv", "store": lviv_store},
        "sites": {"name": "lviv", "folder": "site", "passphrase": {"env": "LVIV_SITE_PASSPHRASE"}},
        "systems": {"kyiv": {"type": "site", "country": "UA", "gap_timeout_s": 3600}},
        "mappings": {"kyiv_customers": {"system": "kyiv", "stream": "customer", "target": "customer",
                                        "key": "canonical_id", "fields": "all"}},
        "pipelines": {"kyiv_customers_in": {"kind": "ingest", "mapping": "kyiv_customers"}},
    })
    pair = SitePair(kyiv, lviv, lviv_store, sshd)
    _write(kyiv / "systems.yaml", {"systems": {
        "crm": {"type": "files", "path": "crm", "streams": {"customers": {"pattern": "customers_*.csv",
                                                                         "delimiter": ";"}}},
        "lviv": {"type": "site", "country": "PL", "sftp": pair.sftp(), "retry_backoff_s": 0.05, **link}}})
    cards = {name: init_site(site_paths(load_project(folder).config.sites, folder), name,
                             PASSPHRASES[name].encode())
             for name, folder in (("kyiv", kyiv), ("lviv", lviv))}
    add_peer(site_paths(load_project(kyiv).config.sites, kyiv), cards["lviv"])
    add_peer(site_paths(load_project(lviv).config.sites, lviv), cards["kyiv"])
    return pair


def identity_of(folder: Path, name: str):
    """A site's unlocked identity (to forge or re-seal bundles in tests)."""
    return load_identity(site_paths(load_project(folder).config.sites, folder), PASSPHRASES[name].encode())



@pytest.fixture
def pair(tmp_path: Path, postgres_url: str, sshd: SshServer, monkeypatch: pytest.MonkeyPatch) -> SitePair:
    return make_pair(tmp_path, postgres_url, sshd, monkeypatch)


def test_customers_reach_the_peer_site_policed_and_the_outbox_empties_on_acknowledgement(pair: SitePair):
    pair.customers_csv(range(1, 251))
    pair.sync_kyiv()
    assert len(list(pair.outbox().glob("*.ohb"))) == 3  # batch_size 100: three bundles
    sent = pair.exchange()
    assert (sent.uploaded, sent.acknowledged) == (3, 0)
    result = pair.sync_lviv()
    assert result.status == "succeeded", result.error
    assert pair.lviv_customers() == expected(range(1, 251))  # notes withheld for a site in PL
    assert pair.lviv_quarantine() == []
    acked = orchestrate.exchange(pair.kyiv, "lviv")  # as the Airflow task runs it
    assert (acked["uploaded"], acked["acknowledged"], acked["waiting"]) == (0, 3, 0)
    assert list(pair.outbox().glob("*.ohb")) == []


def _bundles(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*.ohb") if not p.name.startswith("."))


def test_an_upload_cut_mid_bundle_resumes_and_the_peer_gets_every_record_once(pair: SitePair):
    pair.set_publish_batch(10_000)
    pair.customers_csv(range(1, 30_001))
    pair.sync_kyiv()
    sizes = [p.stat().st_size for p in _bundles(pair.outbox())]
    # The SSH handshake and login take a few KiB; the cut lands half-way through the second bundle.
    budget = 16_384 + sizes[0] + sizes[1] // 2
    with CuttingProxy(pair.sshd.port, budget) as proxy:
        pair.set_link(sftp=pair.sftp(proxy.port))
        sent = pair.exchange()
        recovered = time.monotonic() - proxy.cut_at[0]
    assert (sent.reconnects, sent.resumed, sent.uploaded) == (1, 1, len(sizes))
    # Resumed from what the peer held of the cut bundle (bytes_sent also counts pipelined
    # writes still in socket buffers when the link dropped, so it is not the measure).
    assert 0 < sent.bytes_resumed < sizes[1], "the cut bundle was resumed, not sent again whole"
    assert pair.sync_lviv().status == "succeeded"
    assert pair.lviv_customers() == expected(range(1, 30_001))
    print(f"\nsite link: {len(sizes)} bundles, {sum(sizes) / 2**20:.2f} MiB, cut after {budget} B; "
          f"recovered and finished {recovered:.2f} s after the cut")


def test_the_sshd_restarted_between_bundles_is_reconnected_to(pair: SitePair, monkeypatch: pytest.MonkeyPatch):
    from officehub.sites import transport

    pair.customers_csv(range(1, 301))
    pair.sync_kyiv()
    real_upload, calls = transport._upload, []

    def upload_then_restart(*args, **kwargs):
        real_upload(*args, **kwargs)
        calls.append(1)
        if len(calls) == 1:
            pair.sshd.restart()  # the server goes down and comes back between two bundles

    monkeypatch.setattr(transport, "_upload", upload_then_restart)
    sent = pair.exchange()
    assert sent.reconnects == 1 and sent.uploaded == 3
    assert pair.sync_lviv().status == "succeeded"
    assert pair.lviv_customers() == expected(range(1, 301))


@pytest.mark.parametrize("where", ["header", "ciphertext", "signature"])
def test_a_bundle_with_one_flipped_bit_is_quarantined_and_its_good_copy_applied(pair: SitePair, where: str):
    pair.customers_csv(range(1, 301))
    pair.sync_kyiv()
    pair.exchange()
    second = _bundles(pair.inbox())[1]
    data = bytearray(second.read_bytes())
    offset = {"header": 60, "ciphertext": len(data) // 2, "signature": len(data) - 10}[where]
    data[offset] ^= 0x10
    second.write_bytes(bytes(data))
    run = pair.sync_lviv()
    assert run.status == "succeeded", run.error
    assert pair.lviv_customers() == expected(range(1, 101)), "bundle 1 applied; 2 refused; 3 waits for 2"
    (entry,) = pair.lviv_quarantine()
    assert entry["position"] == second.name and entry["reason"].startswith("bundle rejected: ")
    assert not any(k in str(entry["raw"]) for k in ("Olena", "Koval", "1980")), "no record value in quarantine"
    pair.exchange()  # the sender still has bundle 2 and sends it again
    assert pair.sync_lviv().status == "succeeded"
    assert pair.lviv_customers() == expected(range(1, 301))


def test_a_replayed_bundle_is_acknowledged_and_never_applied_twice(pair: SitePair):
    pair.customers_csv(range(1, 201))
    pair.sync_kyiv()
    pair.exchange()
    copies = {p.name: p.read_bytes() for p in _bundles(pair.inbox())}
    assert pair.sync_lviv().status == "succeeded"
    before = pair.lviv_customers()
    for name, data in copies.items():  # an attacker, or a confused sender, delivers them again
        (pair.inbox() / name).write_bytes(data)
    run = pair.sync_lviv()
    assert (run.status, run.metrics.records_read) == ("succeeded", 0)
    assert pair.lviv_customers() == before == expected(range(1, 201))
    assert _bundles(pair.inbox()) == [] and pair.lviv_quarantine() == []


def test_bundles_delivered_out_of_order_are_applied_in_order_after_waiting(pair: SitePair):
    pair.customers_csv(range(1, 101))
    pair.sync_kyiv()
    pair.customers_csv(range(1, 101), tag="2")  # the same customers, renamed: a second bundle updates them
    pair.sync_kyiv()
    pair.exchange()
    first, second = _bundles(pair.inbox())
    held = first.read_bytes()
    first.unlink()  # bundle 2 arrives first
    assert pair.sync_lviv().status == "succeeded"
    assert pair.lviv_customers() == {}, "nothing applied past the gap"
    pair.set_lviv_link(gap_timeout_s=0)
    waited = pair.sync_lviv()
    assert waited.status == "failed" and "missing" in waited.error and "kyiv" in waited.error
    first.write_bytes(held)
    assert pair.sync_lviv().status == "succeeded"
    assert pair.lviv_customers() == expected(range(1, 101), tag="2", version=2)


def test_a_bundle_signed_by_an_unknown_or_revoked_key_is_never_applied(pair: SitePair, tmp_path: Path):
    impostor_paths = site_paths(SiteSettings(folder=tmp_path / "impostor"), tmp_path)
    init_site(impostor_paths, "kyiv", b"impostor passphrase")  # claims to be kyiv, with its own keys
    impostor = load_identity(impostor_paths, b"impostor passphrase")
    lviv_card = public_card(site_paths(load_project(pair.lviv).config.sites, pair.lviv))
    fake = pa.RecordBatch.from_pylist([{"canonical_id": "x", "customer_number": "666", "name__last": "Forged"}])
    forged = seal(impostor, lviv_card, Route(seq=1, prev=0, stream="customer", batch="x", part=0),
                  encode_batch(fake), 1)
    pair.inbox().mkdir(parents=True, exist_ok=True)
    (pair.inbox() / file_name("kyiv", 1)).write_bytes(forged)
    assert pair.sync_lviv().status == "succeeded"
    assert pair.lviv_customers() == {}
    assert [e["reason"] for e in pair.lviv_quarantine()] == ["bundle rejected: signed by an unknown key"]

    pair.customers_csv(range(1, 101))
    pair.sync_kyiv()
    pair.exchange()  # the real bundle 1 takes the place the forged one left
    assert pair.sync_lviv().status == "succeeded"
    assert pair.lviv_customers() == expected(range(1, 101))

    revoke_peer(site_paths(load_project(pair.lviv).config.sites, pair.lviv), "kyiv")
    pair.customers_csv(range(101, 201))
    pair.sync_kyiv()
    pair.exchange()
    assert pair.sync_lviv().status == "succeeded"
    assert pair.lviv_customers() == expected(range(1, 101)), "nothing from a revoked key"
    assert pair.lviv_quarantine()[-1]["reason"] == "bundle rejected: signed by a revoked key"
