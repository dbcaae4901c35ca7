"""Bundles: sealed for one peer, signed, and refused when anything about them is off."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pyarrow as pa
import pytest

from officehub.canonical_model.errors import FatalError
from officehub.sites.acks import add_to_ranges, contiguous_through, in_ranges
from officehub.sites.bundle import BundleRejected, Route, encode_batch, open_bundle, read_header, seal
from officehub.sites.connector import ENVELOPE_BYTES, split_to_fit
from officehub.sites.keys import init_site, load_identity
from officehub.sites.settings import SitePaths

SECRET_NAME = "Hanna-Sensitive-Surname"


def _site(root: Path, name: str):
    paths = SitePaths(root / name)
    init_site(paths, name, f"{name} passphrase!".encode())
    return load_identity(paths, f"{name} passphrase!".encode())


@pytest.fixture(scope="module")
def sites(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("sites")
    return {name: _site(root, name) for name in ("kyiv", "lviv", "odesa")}


BATCH = pa.RecordBatch.from_pylist([{"canonical_id": f"id{i}", "name__last": SECRET_NAME, "n": i} for i in range(50)])
ROUTE = Route(seq=7, prev=5, stream="customer", batch="000000000001-000000000050", part=0)


def _sealed(sites) -> bytes:
    return seal(sites["kyiv"], sites["lviv"].card, ROUTE, encode_batch(BATCH), BATCH.num_rows)


def test_a_bundle_opens_for_its_recipient_and_its_header_says_nothing_sensitive(sites):
    data = _sealed(sites)
    opened = open_bundle(data, sites["lviv"], sites["kyiv"].card, [])
    assert opened.batch.equals(BATCH)
    header = read_header(data)
    assert (header.sender, header.recipient, header.seq, header.prev, header.records) == ("kyiv", "lviv", 7, 5, 50)
    assert SECRET_NAME.encode() not in data, "record values travel only encrypted (and compressed)"
    assert SECRET_NAME not in json.dumps(header.model_dump())


def test_every_single_flipped_bit_is_caught(sites):
    data = _sealed(sites)
    step = max(1, len(data) // 300)  # a bit in ~300 places spread over header, ciphertext and signature
    for offset in range(0, len(data), step):
        damaged = bytearray(data)
        damaged[offset] ^= 1 << (offset % 8)
        with pytest.raises(BundleRejected):
            open_bundle(bytes(damaged), sites["lviv"], sites["kyiv"].card, [])


def test_truncated_or_padded_bundles_are_refused(sites):
    data = _sealed(sites)
    for bad in (data[:-1], data[:20], data + b"\0", b"", b"OHSB"):
        with pytest.raises(BundleRejected):
            open_bundle(bad, sites["lviv"], sites["kyiv"].card, [])


def test_another_sender_or_another_recipient_is_refused(sites):
    data = _sealed(sites)
    with pytest.raises(BundleRejected, match="unknown key"):
        open_bundle(data, sites["lviv"], sites["odesa"].card, [])
    with pytest.raises(BundleRejected, match="revoked key"):
        open_bundle(data, sites["lviv"], sites["odesa"].card, [sites["kyiv"].card.signing_fingerprint])
    with pytest.raises(BundleRejected, match="not on this link"):
        open_bundle(data, sites["odesa"], sites["kyiv"].card, [])


def test_keys_are_encrypted_at_rest_and_a_wrong_passphrase_is_a_one_line_error(tmp_path: Path):
    paths = SitePaths(tmp_path / "site")
    init_site(paths, "kyiv", b"correct horse battery")
    for pem in ("signing.pem", "encryption.pem"):
        text = (paths.identity / pem).read_text()
        assert "ENCRYPTED PRIVATE KEY" in text
        assert (paths.identity / pem).stat().st_mode & 0o077 == 0
    with pytest.raises(FatalError, match="wrong site passphrase") as caught:
        load_identity(paths, b"wrong horse battery")
    assert "horse" not in str(caught.value)
    with pytest.raises(FatalError, match="already holds"):
        init_site(paths, "kyiv", b"correct horse battery")


def test_a_big_batch_becomes_several_bundles_under_the_size_limit():
    rows = pa.RecordBatch.from_pylist([{"id": i, "text": os.urandom(100).hex()} for i in range(20_000)])
    limit = 256 * 1024
    parts = split_to_fit(rows, limit, "test")
    assert len(parts) > 1 and all(len(payload) + ENVELOPE_BYTES <= limit for payload, _ in parts)
    assert sum(n for _, n in parts) == rows.num_rows
    with pytest.raises(FatalError, match="one record is larger"):
        split_to_fit(rows.slice(0, 1), ENVELOPE_BYTES + 10, "test")


def test_acknowledged_sequence_numbers_are_kept_as_ranges():
    ranges: list[list[int]] = []
    for seq in (1, 2, 5, 3, 7, 6):
        ranges = add_to_ranges(ranges, seq)
    assert ranges == [[1, 3], [5, 7]]
    assert contiguous_through(ranges) == 3 and in_ranges(ranges, 6) and not in_ranges(ranges, 4)
    assert contiguous_through(add_to_ranges(ranges, 4)) == 7


def test_a_bundle_with_fields_this_hubs_model_lacks_waits_with_their_names() -> None:
    from officehub.sites.connector import _complete

    batch = pa.RecordBatch.from_pydict({"canonical_id": ["c1"], "name__last": ["Koval"], "name__suffix": ["Ivanivna"],
                                        "tax_code": ["3046214001"]})
    with pytest.raises(FatalError) as refused:
        _complete(batch, "customer", "kyiv", "kyiv-000000000007.ohb")
    message = refused.value.describe()
    assert "customer field(s) this hub's model does not have: name.suffix, tax_code" in message
    assert "kyiv-000000000007.ohb" in message and "Ivanivna" not in message
    # Fields the sender's policy withheld arrive as empty columns, as before.
    completed = _complete(batch.drop_columns(["name__suffix", "tax_code"]), "customer", "kyiv", "b")
    assert completed.column("birth_date").null_count == 1
