"""Moving bundles to a peer over SFTP: upload under a temporary name, resume a cut upload, fetch the ack.

The sender does all the connecting: it uploads each unacknowledged bundle of its outbox to
``inbox/<me>/`` in the peer's exchange folder (as ``.NAME.part``, renamed once complete) and
reads the peer's signed acknowledgement ``acks/<me>.json`` to drop what was imported. A
dropped connection is retried with backoff; an upload cut half-way resumes from the remote
size when the partial file's head and tail match the local bundle, else starts over.
"""

from __future__ import annotations

import logging
import posixpath
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import paramiko

from officehub.canonical_model.errors import FatalError, OfficehubError, RetriableError
from officehub.connectors.sftp.session import CONNECTION_ERRORS, connect, translated
from officehub.sites import acks
from officehub.sites.outbox import Outbox, Waiting
from officehub.sites.peers import trusted_card
from officehub.sites.settings import SitePaths

log = logging.getLogger(__name__)

CHUNK = 256 * 1024
#: Bytes compared at each end of a partial upload before resuming it.
PROBE = 64 * 1024
#: A bundle the peer rejected this many times is not sent again until a person looks.
MAX_RESENDS = 3


@dataclass
class ExchangeResult:
    """What one exchange with a peer did."""

    peer: str
    uploaded: int = 0
    resumed: int = 0
    bytes_sent: int = 0
    #: Bytes of partial uploads the peer already held and verified, not sent again.
    bytes_resumed: int = 0
    acknowledged: int = 0
    waiting: int = 0
    reconnects: int = 0
    seconds: float = 0.0
    error: str | None = None

    def as_dict(self) -> dict:
        """Plain values for JSON and XCom."""
        return asdict(self)


def exchange(paths: SitePaths, me: str, peer: str, config, base_dir: Path) -> ExchangeResult:
    """Send the outbox to ``peer`` and apply its acknowledgement, reconnecting when the link drops."""
    if config.sftp is None:
        raise FatalError("no 'sftp:' settings: this hub cannot reach the site", system=peer)
    outbox, card = Outbox(paths, me, peer), trusted_card(paths, peer)
    result, started, attempt = ExchangeResult(peer), time.monotonic(), 0
    while True:
        try:
            with translated(peer):
                session = connect(config.sftp, base_dir, peer)
                try:
                    _run(session.sftp, config.sftp.folder, outbox, card, me, result)
                finally:
                    session.close()
            break
        except RetriableError as exc:
            attempt += 1
            outbox.note(last_error=exc.describe(), last_error_at=time.time())
            if attempt > config.retries:
                raise RetriableError(f"exchange gave up after {attempt} attempt(s): {exc.message}",
                                     system=peer) from None
            result.reconnects += 1
            delay = min(60.0, config.retry_backoff_s * 2 ** (attempt - 1))
            log.info("site %s: link dropped (%s); reconnecting in %.1f s", peer, exc.message, delay)
            time.sleep(delay)
        except OfficehubError as exc:
            outbox.note(last_error=exc.describe(), last_error_at=time.time())
            raise
    result.waiting, result.seconds = len(outbox.waiting()), time.monotonic() - started
    outbox.note(last_error=result.error, last_error_at=time.time() if result.error else None,
                last_exchange_at=time.time())
    return result


def _run(sftp: paramiko.SFTPClient, folder: str, outbox: Outbox, card, me: str,
         result: ExchangeResult) -> None:
    """One connected pass: acknowledgement first (so imported bundles are not sent again), then uploads."""
    fetched = _read_remote(sftp, posixpath.join(folder, "acks", f"{me}.json"))
    if fetched is not None:
        result.acknowledged += outbox.apply_ack(acks.parse_signed(fetched, card, me))
    inbox = posixpath.join(folder, "inbox", me)
    _ensure_folder(sftp, inbox)
    rejected = outbox.state()["rejected"]
    for item in outbox.waiting():
        refused = rejected.get(str(item.seq))
        if refused and refused["count"] >= MAX_RESENDS:
            result.error = (f"bundle {item.path.name} was rejected {refused['count']} times by "
                            f"'{card.site}' ({refused['reason']}); not sent again")
            continue
        _upload(sftp, item, inbox, result)


def _read_remote(sftp: paramiko.SFTPClient, path: str) -> bytes | None:
    try:
        with sftp.open(path, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def _ensure_folder(sftp: paramiko.SFTPClient, path: str) -> None:
    try:
        sftp.stat(path)
    except FileNotFoundError:
        sftp.mkdir(path)


def _size(sftp: paramiko.SFTPClient, path: str) -> int | None:
    try:
        return int(sftp.stat(path).st_size or 0)
    except FileNotFoundError:
        return None


def _upload(sftp: paramiko.SFTPClient, item: Waiting, inbox: str, result: ExchangeResult) -> None:
    """Upload one bundle unless the peer already has it whole; resume a partial upload that verifies."""
    size = item.size
    final, partial = posixpath.join(inbox, item.path.name), posixpath.join(inbox, f".{item.path.name}.part")
    if _size(sftp, final) == size:
        return  # uploaded before, not imported yet
    offset = _resumable(sftp, partial, item.path, size)
    with sftp.open(partial, "r+b" if offset else "wb") as out, item.path.open("rb") as src:
        out.set_pipelined(True)  # many writes in flight: the WAN's latency is paid once, not per chunk
        out.seek(offset)
        src.seek(offset)
        while chunk := src.read(CHUNK):
            out.write(chunk)
            result.bytes_sent += len(chunk)
    if _size(sftp, partial) != size:
        raise RetriableError(f"upload of {item.path.name} ended at the wrong size; it is sent again")
    sftp.posix_rename(partial, final)
    result.uploaded += 1
    result.resumed += bool(offset)
    result.bytes_resumed += offset


def _resumable(sftp: paramiko.SFTPClient, partial: str, local: Path, size: int) -> int:
    """Where to resume a partial upload: its size if its head and tail match the local file, else 0."""
    remote = _size(sftp, partial)
    if not remote or remote >= size:
        return 0
    with sftp.open(partial, "rb") as handle, local.open("rb") as mine:
        for start in {0, max(0, remote - PROBE)}:
            length = min(PROBE, remote - start)
            handle.seek(start)
            mine.seek(start)
            if handle.read(length) != mine.read(length):
                return 0
    return remote


__all__ = ["CONNECTION_ERRORS", "MAX_RESENDS", "ExchangeResult", "exchange"]
