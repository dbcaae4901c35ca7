"""The state of every link of this site, in both directions, from its files alone (no network)."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field

from officehub.sites import acks
from officehub.sites.inbox import pending_gaps
from officehub.sites.outbox import Outbox
from officehub.sites.settings import SitePaths


@dataclass
class LinkStatus:
    """One peer: what we sent and what it acknowledged, what it sent us and what waits."""

    peer: str
    last_sent: int
    last_acked: int
    bundles_waiting: int
    bytes_waiting: int
    lag_s: float
    last_exchange_age_s: float | None
    last_error: str | None
    received_through: int
    inbox_waiting: int
    quarantined_bundles: int
    gaps: dict[str, dict] = field(default_factory=dict)

    def as_dict(self) -> dict:
        """Plain values for JSON."""
        return asdict(self)


def link_status(paths: SitePaths, me: str, peer: str) -> LinkStatus:
    """The status of the link with ``peer``."""
    outbox = Outbox(paths, me, peer)
    state, waiting = outbox.state(), outbox.waiting()
    now = time.time()
    gaps = {stream: {"after": g["after"], "waiting": g.get("waiting", []), "for_s": round(now - g["since"], 1)}
            for stream, g in pending_gaps(paths, peer).items()}
    quarantine = paths.quarantine(peer)
    return LinkStatus(
        peer=peer, last_sent=state["next_seq"] - 1, last_acked=state["acked_through"],
        bundles_waiting=len(waiting), bytes_waiting=sum(w.size for w in waiting),
        lag_s=round(max((w.age_s for w in waiting), default=0.0), 1),
        last_exchange_age_s=round(now - state["last_exchange_at"], 1) if state["last_exchange_at"] else None,
        last_error=state["last_error"],
        received_through=acks.contiguous_through(acks.current(paths, me, peer).imported),
        inbox_waiting=len([p for p in paths.inbox(peer).glob("*.ohb") if not p.name.startswith(".")]),
        quarantined_bundles=sum(1 for p in quarantine.glob("*.ohb.*") if p.suffix != ".reason"),
        gaps=gaps,
    )
