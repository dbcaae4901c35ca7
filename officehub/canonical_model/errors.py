"""The error vocabulary every layer shares, typed by what the caller does next.

It lives at the bottom of the import graph so that connectors, policies and the
hub raise the same three kinds. Messages name the system, stream and record
position, and never carry a record's values or a secret.
"""

from __future__ import annotations

from typing import NamedTuple


class OfficehubError(Exception):
    """Base of every error officehub raises on purpose."""

    exit_code = 1

    def __init__(self, message: str, *, system: str | None = None, stream: str | None = None,
                 position: str | None = None) -> None:
        self.message = message
        self.system = system
        self.stream = stream
        self.position = position
        super().__init__(self.describe())

    def describe(self) -> str:
        """One line: where it happened, then what."""
        where = " ".join(
            part for part in (
                f"system '{self.system}'" if self.system else "",
                f"stream '{self.stream}'" if self.stream else "",
                self.position or "",
            ) if part
        )
        return f"{where}: {self.message}" if where else self.message


class RetriableError(OfficehubError):
    """A transient failure (network, lock, timeout): the same call may succeed later."""

    exit_code = 75  # EX_TEMPFAIL


class FatalError(OfficehubError):
    """Retrying will not help (configuration, authentication, an expired agreement)."""

    exit_code = 2


class NotFound(FatalError):
    """The thing asked for (a record, an entry, a user) does not exist: the caller named the wrong one."""


class RecordError(OfficehubError):
    """One record is bad: it goes to quarantine and the run goes on."""


class FieldFlag(NamedTuple):
    """One value of one record that did not convert: the record is kept without it (``on_error: flag``).

    ``raw`` is the vendor's text; it is kept only in the hub store's own ``field_flag`` table.
    """

    vendor_id: str
    field: str
    reason: str
    raw: str | None
