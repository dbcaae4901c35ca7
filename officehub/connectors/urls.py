"""Credentials never ride in a URL: spotting every form of them, and showing a URL without them.

A URL travels further than a setting: drivers quote parts of it back in their errors, tools
log it, proxies keep it. So a password, token or key is refused in any part of a URL (the
user name, an encoded ``user%3Apassword``, a query option, a connection string inside a
query value) and must be given by reference; and wherever a URL is shown, only its scheme,
host, port and database appear.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import parse_qsl, urlsplit

import sqlalchemy as sa
from sqlalchemy.exc import ArgumentError

#: Option names that hold a secret: password, passwd, pwd, pass, sslpassword, secret, token, api keys…
_SECRET_NAME = re.compile(r"pass|pwd|secret|token|credential|api_?key|access_?key|private_?key|signature|^sig$")
#: Names that match the pattern above but point at where a secret is kept (libpq's .pgpass file).
_REFERENCE_NAMES = frozenset({"passfile"})
#: ``NAME=`` inside a value: a whole connection string passed as one option (ODBC's ``PWD=…``).
_INLINE_ASSIGNMENT = re.compile(r"([A-Za-z_][A-Za-z0-9_.-]*)\s*=")

BY_REFERENCE = "give it by reference ({env: NAME}, {file: PATH} or {airflow: CONN_ID}) instead"


def is_secret_name(name: str) -> bool:
    """Whether an option, parameter or header name says it carries a secret."""
    key = name.strip().lower().replace("-", "_")
    return key not in _REFERENCE_NAMES and _SECRET_NAME.search(key) is not None


def secret_options(pairs: Iterable[tuple[str, str | tuple[str, ...]]]) -> list[str]:
    """Names of query options that carry a secret, by name or inside their value."""
    found = []
    for name, value in pairs:
        values = value if isinstance(value, tuple) else (value,)
        inline = [m for v in values for m in _INLINE_ASSIGNMENT.findall(v) if is_secret_name(m)]
        if is_secret_name(name) or inline:
            found.append(name)
    return sorted(set(found))


def database_url_problem(url: str) -> str | None:
    """Why ``url`` is not a database URL we accept (unparseable, or carries a credential); None if fine.

    The reason names the offending part, never its value.
    """
    try:
        parsed = sa.make_url(url)
    except (ArgumentError, ValueError):
        return "not a database URL (expected e.g. postgresql+psycopg://user@host/db)"
    if parsed.password is not None:
        return f"the URL contains a password; {BY_REFERENCE}"
    if parsed.username is not None and ":" in parsed.username:
        # make_url decodes user%3Apassword into a user name holding the password.
        return f"the URL's user name holds a password (an encoded ':'); {BY_REFERENCE}"
    options = secret_options(parsed.query.items())
    if options:
        return f"the URL's query option(s) {', '.join(options)} carry a credential; {BY_REFERENCE}"
    return None


def http_url_problem(url: str) -> str | None:
    """Why an http(s) URL or path carries a credential (user, password or secret option); None if not."""
    parts = urlsplit(url)
    if parts.username is not None or parts.password is not None:
        return "must not carry a user or password; configure 'auth' by reference"
    options = secret_options(parse_qsl(parts.query, keep_blank_values=True))
    if options:
        return f"its query option(s) {', '.join(options)} carry a credential; configure 'auth' by reference"
    return None


def http_address(url: str | None, what: str) -> str | None:
    """``url`` if it is an http(s) address carrying no credential; ValueError naming ``what`` otherwise
    (for the validators of addresses officehub sends to: a URL with a password ends up in logs)."""
    if url is None:
        return None
    if not re.match(r"^https?://[^\s/]+", url):
        raise ValueError(f"{what} is an http:// or https:// address")
    if http_url_problem(url):
        raise ValueError(f"{what} is an http:// or https:// address without a user or password (or a secret "
                         "option) in it; give a credential by reference")
    return url


def display_url(url: str | sa.URL) -> str:
    """``url`` as it may be shown: scheme, host, port and database only (no user, password or query)."""
    try:
        parsed = url if isinstance(url, sa.URL) else sa.make_url(url)
    except (ArgumentError, ValueError):
        return "(unparseable URL)"
    host = parsed.host or ""
    if ":" in host:  # an IPv6 address keeps its brackets
        host = f"[{host}]"
    port = f":{parsed.port}" if parsed.port is not None else ""
    return f"{parsed.drivername}://{host}{port}/{parsed.database or ''}"


def redact(text: str, url: str | sa.URL | None) -> str:
    """``text`` (a driver's message) with the user name, password and query values of ``url`` blanked.

    Drivers quote them back ('role "…" does not exist', 'invalid sslmode value: "…"').
    """
    if url is None:
        return text
    try:
        parsed = url if isinstance(url, sa.URL) else sa.make_url(url)
    except (ArgumentError, ValueError):
        return text
    values = [parsed.username, parsed.password]
    for value in parsed.query.values():
        values += list(value) if isinstance(value, tuple) else [value]
    # Longest first, so a value that contains another is blanked whole; only whole words, so a
    # short option value ("2") does not blank digits of a port number.
    for secret in sorted({v for v in values if v}, key=len, reverse=True):
        text = re.sub(rf"(?<![A-Za-z0-9]){re.escape(secret)}(?![A-Za-z0-9])", "…", text)
    return text
