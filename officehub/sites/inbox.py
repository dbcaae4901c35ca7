"""The receiving end of a link: which bundles in the inbox to apply, drop, quarantine or wait for.

Each ingest pipeline reads one stream of the link. Bundles of a stream form a chain (each
header names the previous bundle of its stream), so a pipeline applies exactly the bundle
that follows its committed cursor, drops bundles at or below the cursor (duplicates and
replays, acknowledged again), quarantines bundles that fail verification, and waits when
the next bundle of the chain is missing — reporting the gap once it lasts too long.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from officehub.canonical_model.errors import RetriableError
from officehub.sites import acks
from officehub.sites.bundle import BundleRejected, Header, OpenedBundle, open_bundle, read_header, verify
from officehub.sites.files import locked, read_json, write_atomic, write_json
from officehub.sites.keys import SiteIdentity
from officehub.sites.peers import Peer, get_peer
from officehub.sites.settings import SitePaths


@dataclass
class Received:
    """A bundle file in the inbox with its (not yet verified) header, or why it has none."""

    path: Path
    header: Header | None = None
    problem: str | None = None

    @property
    def name(self) -> str:
        """The file name: the bundle's position in quarantine entries and messages."""
        return self.path.name

    @property
    def claimed_seq(self) -> int | None:
        """The sequence number the header (else the file name) claims."""
        if self.header is not None:
            return self.header.seq
        tail = self.path.stem.rsplit("-", 1)[-1]
        return int(tail) if tail.isdigit() else None


@dataclass
class Plan:
    """What one read of a stream does with the inbox."""

    rejects: list[tuple[Received, str]] = field(default_factory=list)
    duplicates: list[Received] = field(default_factory=list)
    chain: list[Received] = field(default_factory=list)
    waiting: list[Received] = field(default_factory=list)


class InboundLink:
    """Bundles from one peer, as one stream's pipeline sees them."""

    def __init__(self, paths: SitePaths, me: SiteIdentity, peer: str) -> None:
        self.paths, self.me, self.peer_name = paths, me, peer
        self.folder = paths.inbox(peer)

    def scan(self) -> list[Received]:
        """Complete bundle files in the inbox (dot-files are uploads in progress)."""
        found = []
        for path in sorted(self.folder.glob("*.ohb")):
            if path.name.startswith("."):
                continue
            item = Received(path)
            try:
                item.header = read_header(path.read_bytes())
            except BundleRejected as exc:
                item.problem = exc.reason
            except FileNotFoundError:
                continue  # another stream's pipeline just took it
            found.append(item)
        return found

    def plan(self, stream: str, after: int) -> Plan:
        """Sort the inbox for ``stream`` whose last applied bundle is ``after``."""
        peer = get_peer(self.paths, self.peer_name, required=False)
        plan, pending = Plan(), {}
        for item in self.scan():
            # Every bundle is verified, whatever stream it claims: a damaged header could claim any,
            # and a bad bundle left in the inbox would stop the sender from sending a good copy.
            problem = item.problem or _verification_problem(item, peer)
            if problem:
                plan.rejects.append((item, problem))
            elif item.header.stream != stream:
                continue  # verified; its own stream's pipeline applies it
            elif item.header.seq <= after:
                plan.duplicates.append(item)
            else:
                pending.setdefault(item.header.prev, item)
        while after in pending:
            item = pending.pop(after)
            plan.chain.append(item)
            after = item.header.seq
        plan.waiting = sorted(pending.values(), key=lambda i: i.header.seq)
        return plan

    def open(self, item: Received) -> OpenedBundle:
        """Decrypt a bundle of the chain; BundleRejected if it cannot be."""
        peer = get_peer(self.paths, self.peer_name)
        return open_bundle(item.path.read_bytes(), self.me, peer.card, peer.revoked)

    def applied(self, item: Received) -> None:
        """The bundle is committed to the hub store: acknowledge it, then drop it from the inbox."""
        acks.record(self.paths, self.me, self.peer_name, imported=[item.header.seq])
        item.path.unlink(missing_ok=True)

    def dropped(self, items: list[Received]) -> None:
        """Duplicates and replays: acknowledged again, never applied again."""
        acks.record(self.paths, self.me, self.peer_name, imported=[i.header.seq for i in items])
        for item in items:
            item.path.unlink(missing_ok=True)

    def quarantined(self, rejects: list[tuple[Received, str]]) -> None:
        """Move rejected bundles out of the inbox (kept for inspection) and tell the sender."""
        target = self.paths.quarantine(self.peer_name)
        target.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        nacks = {}
        for item, reason in rejects:
            try:
                item.path.rename(target / f"{item.name}.{stamp}")
            except FileNotFoundError:
                continue
            write_atomic(target / f"{item.name}.{stamp}.reason", reason.encode() + b"\n")
            if item.claimed_seq is not None:
                nacks[item.claimed_seq] = reason
        acks.record(self.paths, self.me, self.peer_name, rejected=nacks)

    def check_gap(self, stream: str, after: int, waiting: list[Received], timeout_s: float) -> None:
        """Remember when a gap was first seen; RetriableError once it is older than ``timeout_s``."""
        state_path = self.paths.receiving(self.peer_name) / "gaps.json"
        with locked(self.paths.receiving(self.peer_name)):
            gaps = read_json(state_path, {})
            if not waiting:
                gaps.pop(stream, None)
            elif gaps.get(stream, {}).get("after") != after:
                gaps[stream] = {"after": after, "since": time.time(), "waiting": [w.header.seq for w in waiting]}
            else:
                gaps[stream]["waiting"] = [w.header.seq for w in waiting]
            write_json(state_path, gaps)
        gap = gaps.get(stream)
        if gap and time.time() - gap["since"] >= timeout_s:
            raise RetriableError(
                f"site '{self.peer_name}': the bundle after {after} of stream '{stream}' has been missing for "
                f"{time.time() - gap['since']:.0f} s; {len(waiting)} later bundle(s) wait behind it "
                f"(first {waiting[0].name}); check 'officehub site status' at '{self.peer_name}'")


def _verification_problem(item: Received, peer: Peer | None) -> str | None:
    """Why a bundle's signature cannot be trusted, or None when it verifies."""
    if peer is None:
        return "sent by a site that is not a registered peer"
    if peer.card is None:
        return "signed by a revoked key" if item.header.sender_key in peer.revoked else "signed by an unknown key"
    try:
        verify(item.path.read_bytes(), peer.card, peer.revoked)
    except BundleRejected as exc:
        return exc.reason
    return None


def pending_gaps(paths: SitePaths, peer: str) -> dict[str, dict]:
    """Gaps currently waited for on the link from ``peer``, by stream."""
    return read_json(paths.receiving(peer) / "gaps.json", {})


__all__ = ["InboundLink", "Plan", "Received", "pending_gaps"]
