"""HTTP outcomes translated into the shared error vocabulary, without URLs' queries or bodies.

Vendor error bodies often quote the values they refused, and query strings may hold
tokens, so messages name only the method, the configured path template and the status.
"""

from __future__ import annotations

from dataclasses import dataclass

import requests

from officehub.canonical_model.errors import FatalError, RetriableError
from officehub.connectors.base import RejectedRecords  # noqa: F401 - re-exported for the REST modules

#: Statuses worth another try later: the vendor is busy or briefly broken.
RETRIABLE_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
#: Statuses that say the credentials or the configuration are wrong, not one record.
_FATAL_FOR_WRITES = frozenset({401, 403, 405, 407, 411, 414, 415})


@dataclass(frozen=True)
class Where:
    """What an error names: the system, the stream and the request (method and path template)."""

    system: str
    stream: str | None
    request: str


def status_error(where: Where, status: int) -> FatalError | RetriableError:
    """The error for a non-2xx answer that is not about one record."""
    what = f"{where.request} answered HTTP {status}"
    if status in RETRIABLE_STATUSES:
        return RetriableError(f"{what} (retries exhausted); try again later",
                              system=where.system, stream=where.stream)
    if status in (401, 403):
        return FatalError(f"{what}: the vendor refused the credentials; check 'auth'",
                          system=where.system, stream=where.stream)
    if 300 <= status < 400:
        # Redirects are not followed: a credential header must never travel to another host.
        return FatalError(f"{what} (a redirect); set base_url to the final address",
                          system=where.system, stream=where.stream)
    return FatalError(what, system=where.system, stream=where.stream)


def raise_for_status(where: Where, response: requests.Response) -> None:
    """Raise the fitting error unless the answer is a success."""
    if not 200 <= response.status_code < 300:
        raise status_error(where, response.status_code)


def rejects_record(status: int, path_names_record: bool) -> bool:
    """Whether a write's 4xx is about that one record (quarantine it) rather than the set-up.

    A 404 on a path that names the record means "no such record"; on a collection path it
    means the path is wrong.
    """
    if not 400 <= status < 500 or status in RETRIABLE_STATUSES or status in _FATAL_FOR_WRITES:
        return False
    return status != 404 or path_names_record


def connection_error(where: Where, exc: Exception, origin: str) -> RetriableError:
    """A network failure after the retries, named by class only (requests' text holds the full URL)."""
    # requests wraps the last failure (e.g. ReadTimeoutError) in a MaxRetryError in a ConnectionError.
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return RetriableError(f"{where.request}: no usable answer from {origin} ({type(reason or exc).__name__})",
                          system=where.system, stream=where.stream)
