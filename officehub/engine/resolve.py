"""Identity resolution for records new to the hub: link, review or create.

Runs only for vendor ids the xref does not know yet. Candidates are the golden
records sharing a match key or block with the record (one indexed look-up per
batch), plus records created earlier in the same batch, so two new copies of one
person arriving together are linked too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from officehub.engine.golden_writer import GoldenWriter
from officehub.identity import Candidate
from officehub.store import golden, matches, xref
from officehub.store.ids import new_canonical_ids


@dataclass
class Resolution:
    """Where each new vendor id goes."""

    links: list[tuple[str, str, str, float | None]] = field(default_factory=list)  # vid, cid, how, score
    #: Canonical ids created in this batch that one source row alone supplies (no survivorship needed).
    fresh: set[str] = field(default_factory=set)
    reviews: list[dict[str, Any]] = field(default_factory=list)
    matched: int = 0

    @property
    def ids(self) -> dict[str, str]:
        """Vendor id → canonical id."""
        return {vid: cid for vid, cid, _, _ in self.links}


def resolve(conn: sa.Connection, writer: GoldenWriter, system: str, new_ids: Sequence[str],
            incoming: Mapping[str, dict[str, Any]], planned: Mapping[str, str] | None = None) -> Resolution:
    """Decide a canonical id for each vendor id new to the hub.

    ``planned`` may hold the canonical ids the vendor ids get if they are new records,
    made ahead of time (``ids.new_canonical_ids``).
    """
    entity = writer.entity
    out = Resolution()
    matcher = writer.matcher

    if planned is None:
        planned = dict(zip(new_ids, new_canonical_ids(len(new_ids))))

    if matcher is None:
        out.links = [(vid, planned[vid], "new", None) for vid in new_ids]
        out.fresh = {cid for _, cid, _, _ in out.links}
        return out
    keys = {vid: matcher.index_keys(incoming[vid]) for vid in new_ids}
    stored = matches.candidates(conn, entity, (pair for pairs in keys.values() for pair in pairs))
    candidate_ids = sorted({cid for cids in stored.values() for cid in cids})
    rows = {cid: row for cid, row in golden.fetch(conn, entity, "canonical_id", candidate_ids).items()
            if row["status"] == "active"}
    systems: dict[str, set[str]] = {}
    for link in xref.of_records(conn, list(rows)):
        if link["erased_at"] is None:
            systems.setdefault(link["canonical_id"], set()).add(link["system"])
    known = {cid: Candidate(cid, row, frozenset(systems.get(cid, ()))) for cid, row in rows.items()}
    # Records created earlier in this batch, by key: the batch's own candidates.
    in_batch: dict[tuple[str, str], set[str]] = {}
    batch_values: dict[str, dict[str, Any]] = {}
    for vid in new_ids:
        found = {cid for pair in keys[vid] for cid in stored.get(pair, ()) if cid in known}
        local = {cid for pair in keys[vid] for cid in in_batch.get(pair, ())}
        candidates = [known[cid] for cid in sorted(found)]
        candidates += [Candidate(cid, batch_values[cid], frozenset({system})) for cid in sorted(local)]
        decision = matcher.decide(incoming[vid], system, candidates)
        if decision.outcome == "link" and decision.canonical_id is not None:
            cid = decision.canonical_id
            out.links.append((vid, cid, "match", round(decision.score, 3)))
            out.fresh.discard(cid)  # now supplied by two sources: survivorship decides
            out.matched += 1
            continue
        cid = planned[vid]
        out.links.append((vid, cid, "new", None))
        out.fresh.add(cid)
        batch_values[cid] = incoming[vid]
        for pair in keys[vid]:
            in_batch.setdefault(pair, set()).add(cid)
        if decision.outcome == "review" and decision.canonical_id is not None:
            out.reviews.append({"canonical_id": cid, "candidate_id": decision.canonical_id,
                                "score": round(decision.score, 3), "evidence": decision.evidence})
    return out
