"""The outbox of one link: bundles for a peer, numbered and kept until the peer acknowledges them.

Sequence numbers are allocated under an exclusive lock (several publish pipelines and the
exchange may run at once) and persisted atomically after the bundle files are on disk, so a
crash never leaves a hole in the sequence: at worst a bundle file past ``next_seq`` that the
next write overwrites and that the exchange never sends.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from officehub.sites.acks import Ack, contiguous_through, in_ranges
from officehub.sites.bundle import Route, file_name, seal
from officehub.sites.files import locked, read_json, write_atomic, write_json
from officehub.sites.keys import SiteCard, SiteIdentity
from officehub.sites.settings import SitePaths

STATE = "link.json"


def _fresh() -> dict[str, Any]:
    return {"next_seq": 1, "stream_last": {}, "last_batch": {}, "acked_through": 0, "rejected": {},
            "resent": {}, "last_error": None, "last_exchange_at": None}


@dataclass(frozen=True)
class Waiting:
    """A bundle in the outbox that the peer has not acknowledged yet."""

    seq: int
    path: Path

    @property
    def size(self) -> int:
        """Bytes on disk."""
        return self.path.stat().st_size

    @property
    def age_s(self) -> float:
        """Seconds since it was written."""
        return max(0.0, time.time() - self.path.stat().st_mtime)


class Outbox:
    """The bundles for one peer and the state of the link towards it."""

    def __init__(self, paths: SitePaths, me: str, peer: str) -> None:
        self.me, self.peer = me, peer
        self.folder = paths.outbox(peer)

    def state(self) -> dict[str, Any]:
        """The link's persisted state."""
        return {**_fresh(), **(read_json(self.folder / STATE) or {})}

    def _save(self, state: dict[str, Any]) -> None:
        write_json(self.folder / STATE, state)

    def add(self, me: SiteIdentity, peer: SiteCard, stream: str, batch_id: str,
            parts: list[tuple[bytes, int]]) -> list[int]:
        """Seal and queue the parts of one publish batch; a batch already queued is not queued again."""
        with locked(self.folder):
            state = self.state()
            last = state["last_batch"].get(stream)
            if last and last["batch"] == batch_id:
                return last["seqs"]  # the publish is re-sending after a crash: already queued
            seqs = []
            for part, (payload, records) in enumerate(parts):
                seq, prev = state["next_seq"], state["stream_last"].get(stream, 0)
                route = Route(seq=seq, prev=prev, stream=stream, batch=batch_id, part=part)
                write_atomic(self.folder / file_name(me.name, seq), seal(me, peer, route, payload, records))
                state["next_seq"], state["stream_last"][stream] = seq + 1, seq
                seqs.append(seq)
            state["last_batch"][stream] = {"batch": batch_id, "seqs": seqs}
            self._save(state)
            return seqs

    def waiting(self) -> list[Waiting]:
        """Bundles not acknowledged yet, in sequence order (only numbers already allocated)."""
        limit = self.state()["next_seq"]
        found = []
        for path in self.folder.glob(f"{self.me}-*.ohb"):
            seq = int(path.stem.rsplit("-", 1)[1])
            if seq < limit:
                found.append(Waiting(seq, path))
        return sorted(found, key=lambda w: w.seq)

    def apply_ack(self, ack: Ack) -> int:
        """Drop acknowledged bundles and note rejections; returns how many were dropped."""
        with locked(self.folder):
            state = self.state()
            dropped = 0
            for item in self.waiting():
                if in_ranges(ack.imported, item.seq):
                    item.path.unlink(missing_ok=True)
                    dropped += 1
            state["acked_through"] = max(state["acked_through"], contiguous_through(ack.imported))
            state["rejected"] = {seq: r.model_dump() for seq, r in ack.rejected.items()}
            self._save(state)
            return dropped

    def note(self, **changes: Any) -> None:
        """Record exchange outcomes (last error, resends, time) in the link state."""
        with locked(self.folder):
            self._save({**self.state(), **changes})
