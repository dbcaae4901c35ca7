"""The peers this site trusts: their public cards, and the keys revoked for each.

A bundle or acknowledgement is accepted only when signed by the peer's current key;
a revoked key is remembered so that its bundles are named as such when rejected.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from officehub.canonical_model.errors import FatalError
from officehub.sites.files import read_json, write_json
from officehub.sites.keys import SiteCard
from officehub.sites.settings import SitePaths


class Peer(BaseModel):
    """A registered peer site: its current card (None once revoked) and its revoked key fingerprints."""

    model_config = ConfigDict(extra="forbid")

    site: str
    card: SiteCard | None
    added_at: str
    revoked: list[str] = []

    @property
    def active(self) -> bool:
        """Whether the peer has a key we accept."""
        return self.card is not None


def _path(paths: SitePaths, name: str) -> Path:
    return paths.peers / f"{name}.json"


def read_card(path: Path) -> SiteCard:
    """A site card from a file a peer sent; FatalError naming the file if unreadable."""
    try:
        return SiteCard.model_validate(read_json(path))
    except (OSError, ValueError) as exc:
        raise FatalError(f"{path} is not a site card ({type(exc).__name__})") from None


def add_peer(paths: SitePaths, card: SiteCard, *, replace: bool = False) -> Peer:
    """Register ``card``; with ``replace`` a re-keyed peer's old keys are revoked."""
    existing = get_peer(paths, card.site, required=False)
    revoked = list(existing.revoked) if existing else []
    if existing and existing.card and existing.card != card:
        if not replace:
            raise FatalError(f"peer site '{card.site}' is already registered with other keys "
                             f"({existing.card.fingerprint}); give --replace to re-key it")
        revoked.append(existing.card.signing_fingerprint)
    if card.signing_fingerprint in revoked:
        raise FatalError(f"peer site '{card.site}': this key was revoked; ask the peer for new keys")
    peer = Peer(site=card.site, card=card, added_at=datetime.now(UTC).isoformat(timespec="seconds"),
                revoked=revoked)
    write_json(_path(paths, card.site), peer.model_dump())
    paths.inbox(card.site).mkdir(parents=True, exist_ok=True)
    paths.ack_file(card.site).parent.mkdir(parents=True, exist_ok=True)
    return peer


def revoke_peer(paths: SitePaths, name: str) -> Peer:
    """Stop trusting the peer's current key: its bundles are rejected until new keys are added."""
    peer = get_peer(paths, name)
    if peer.card is not None:
        peer = peer.model_copy(update={"card": None, "revoked": [*peer.revoked, peer.card.signing_fingerprint]})
        write_json(_path(paths, name), peer.model_dump())
    return peer


def get_peer(paths: SitePaths, name: str, *, required: bool = True) -> Peer | None:
    """The registered peer ``name``; FatalError (or None) if it is not registered."""
    data = read_json(_path(paths, name))
    if data is None:
        if required:
            raise FatalError(f"site '{name}' is not a registered peer (officehub site add CARD)")
        return None
    return Peer.model_validate(data)


def list_peers(paths: SitePaths) -> list[Peer]:
    """Every registered peer, by name."""
    return [Peer.model_validate(read_json(p)) for p in sorted(paths.peers.glob("*.json"))]


def trusted_card(paths: SitePaths, name: str) -> SiteCard:
    """The peer's current card; FatalError if unknown or revoked."""
    peer = get_peer(paths, name)
    if peer.card is None:
        raise FatalError(f"the keys of peer site '{name}' are revoked; add its new card first")
    return peer.card
