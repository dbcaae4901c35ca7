"""Acknowledgements: the receiver's signed statement of which bundles it imported and which it rejected.

The receiver keeps one ack file per sender in its exchange folder; the sender fetches it over
SFTP, verifies the receiver's signature (a forged ack could make it delete unsent bundles) and
drops acknowledged bundles from its outbox. Sequence numbers are kept as ranges, so the file
stays small however long the link lives.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from cryptography.exceptions import InvalidSignature
from pydantic import BaseModel, ConfigDict, ValidationError

from officehub.canonical_model.errors import FatalError
from officehub.sites.files import canonical_json, locked, read_json, write_atomic
from officehub.sites.keys import SiteCard, SiteIdentity, b64, unb64
from officehub.sites.settings import SitePaths

Ranges = list[list[int]]


def add_to_ranges(ranges: Ranges, seq: int) -> Ranges:
    """``ranges`` (sorted, disjoint ``[first, last]`` pairs) with ``seq`` added."""
    merged: Ranges = []
    for first, last in sorted([*ranges, [seq, seq]]):
        if merged and first <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], last)
        else:
            merged.append([first, last])
    return merged


def in_ranges(ranges: Ranges, seq: int) -> bool:
    """Whether ``seq`` lies in one of ``ranges``."""
    return any(first <= seq <= last for first, last in ranges)


def contiguous_through(ranges: Ranges) -> int:
    """The highest sequence number up to which every bundle is covered (0 if 1 is not)."""
    return ranges[0][1] if ranges and ranges[0][0] == 1 else 0


class Rejection(BaseModel):
    """Why a bundle was rejected, and how many times."""

    reason: str
    count: int = 1


class Ack(BaseModel):
    """What ``site`` imported from and rejected of ``peer``'s bundles."""

    model_config = ConfigDict(extra="forbid")

    site: str
    peer: str
    imported: Ranges = []
    rejected: dict[str, Rejection] = {}
    updated_at: str = ""


def _sign(me: SiteIdentity, ack: Ack) -> bytes:
    body = ack.model_dump()
    return json.dumps({"ack": body, "signature": b64(me.signing.sign(canonical_json(body)))}, indent=1).encode()


def parse_signed(data: bytes, signer: SiteCard, me: str) -> Ack:
    """An ack fetched from ``signer``, about bundles from ``me``; FatalError unless its signature verifies."""
    try:
        doc = json.loads(data)
        signer.verifier().verify(unb64(doc["signature"]), canonical_json(doc["ack"]))
        ack = Ack.model_validate(doc["ack"])
    except (ValueError, KeyError, TypeError, InvalidSignature, ValidationError):
        raise FatalError(f"the acknowledgement from site '{signer.site}' does not verify; "
                         "nothing is dropped from the outbox") from None
    if ack.site != signer.site or ack.peer != me:
        raise FatalError(f"the acknowledgement from site '{signer.site}' is about another link")
    return ack


def current(paths: SitePaths, me: str, peer: str) -> Ack:
    """What we have acknowledged to ``peer`` so far (our own copy, not re-verified)."""
    data = read_json(paths.ack_file(peer))
    return Ack.model_validate(data["ack"]) if data else Ack(site=me, peer=peer)


def record(paths: SitePaths, me: SiteIdentity, peer: str, *, imported: list[int] = (),
           rejected: dict[int, str] | None = None) -> None:
    """Add imported and rejected bundles to the signed ack for ``peer`` (several pipelines may do so at once)."""
    if not imported and not rejected:
        return
    with locked(paths.receiving(peer)):
        ack = current(paths, me.name, peer)
        for seq in imported:
            ack.imported = add_to_ranges(ack.imported, seq)
            ack.rejected.pop(str(seq), None)
        for seq, reason in (rejected or {}).items():
            if in_ranges(ack.imported, seq):
                continue  # a forged or damaged copy of a bundle we already have: nothing to ask for
            before = ack.rejected.get(str(seq))
            ack.rejected[str(seq)] = Rejection(reason=reason, count=(before.count + 1) if before else 1)
        ack.updated_at = datetime.now(UTC).isoformat(timespec="seconds")
        write_atomic(paths.ack_file(peer), _sign(me, ack))
