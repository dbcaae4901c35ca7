"""The HTTP client: one requests session with retries, timeouts, credentials and error naming.

Retries are urllib3's ``Retry`` on the session's adapter (the library made for it):
connection errors, 408/425/429/5xx, exponential backoff, ``Retry-After`` in seconds
or as an HTTP date (capped). A 401 renews the credentials once and repeats the request.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode, urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import HTTPError as Urllib3Error
from urllib3.util.retry import Retry

from officehub.canonical_model.errors import OfficehubError
from officehub.connectors.rest.auth import Authenticator, build_authenticator
from officehub.connectors.rest.config import OAuth2ClientCredentials, RestConfig, is_absolute
from officehub.connectors.rest.errors import RETRIABLE_STATUSES, Where, connection_error

_USER_AGENT = "officehub-rest/0.1"


def retry_policy(config: RestConfig) -> Retry:
    """urllib3's retry policy for the vendor's settings."""
    r = config.retries
    return Retry(
        total=r.max_attempts - 1,
        backoff_factor=r.backoff_s,
        backoff_max=r.backoff_max_s,
        retry_after_max=r.retry_after_max_s,
        status_forcelist=RETRIABLE_STATUSES,
        # POST and PATCH are repeated only when every write carries an idempotency key,
        # so a request whose answer was lost cannot create a second record.
        allowed_methods=None if config.idempotency_header else Retry.DEFAULT_ALLOWED_METHODS,
        respect_retry_after_header=True,
        raise_on_status=False,  # hand back the last answer; our errors name it better
        raise_on_redirect=False,
    )


class HttpClient:
    """Requests to one vendor API: retried, timed out, authenticated, errors named."""

    def __init__(self, system: str, config: RestConfig, base_dir: Path,
                 auth: Authenticator | None = None) -> None:
        self.system, self.config = system, config
        self.session = requests.Session()
        self.session.headers.update({"User-Agent": _USER_AGENT, "Accept": "application/json", **config.headers})
        adapter = HTTPAdapter(max_retries=retry_policy(config))
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.auth = auth or build_authenticator(config.auth, base_dir, self._token_url(), self._post_form)

    def url(self, path: str) -> str:
        """An absolute URL for a path relative to ``base_url`` (absolute URLs pass through)."""
        return path if is_absolute(path) else f"{self.config.base_url}/{path.lstrip('/')}"

    def _token_url(self) -> str | None:
        auth = self.config.auth
        return self.url(auth.token_url) if isinstance(auth, OAuth2ClientCredentials) else None

    @property
    def origin(self) -> str:
        """The vendor's scheme, host and port, as error messages show it."""
        parts = urlsplit(self.config.base_url)
        return f"{parts.scheme}://{parts.netloc}"

    def send(self, where: Where, method: str, url: str, *, params: dict[str, str] | None = None,
             body: bytes | None = None, headers: dict[str, str] | None = None) -> requests.Response:
        """Send one request (with its retries); a 401 renews the credentials and tries once more."""
        if body is not None:
            headers = {"Content-Type": "application/json", **(headers or {})}
        response = self._send(where, method, url, params, body, headers, self.auth)
        if response.status_code == 401 and self.auth is not None and self._renewed(where):
            response.close()
            response = self._send(where, method, url, params, body, headers, self.auth)
        return response

    def _renewed(self, where: Where) -> bool:
        try:
            return self.auth.refresh()
        except OfficehubError as exc:
            raise _placed(exc, where) from None

    def _send(self, where: Where, method: str, url: str, params: dict[str, str] | None, body: bytes | None,
              headers: dict[str, str] | None, auth: Authenticator | None) -> requests.Response:
        timeout = (self.config.timeouts.connect_s, self.config.timeouts.read_s)
        try:
            return self.session.request(method, url, params=params, data=body, headers=headers, auth=auth,
                                        timeout=timeout, allow_redirects=False)
        except OfficehubError as exc:  # raised by an authenticator (a missing secret, a refused token)
            raise _placed(exc, where) from None
        except (requests.RequestException, Urllib3Error) as exc:
            # `from None`: the library's message and traceback quote the full URL, query included.
            raise connection_error(where, exc, self.origin) from None

    def _post_form(self, url: str, form: dict[str, str], headers: dict[str, str]) -> requests.Response:
        """POST a form without the API's own credentials (the token request)."""
        where = Where(self.system, None, "POST token_url")
        headers = {"Content-Type": "application/x-www-form-urlencoded", **headers}
        return self._send(where, "POST", url, None, urlencode(form).encode(), headers, None)

    def close(self) -> None:
        """Close the pooled connections."""
        self.session.close()


def _placed(exc: OfficehubError, where: Where) -> OfficehubError:
    """The same error, naming the system and stream if it did not yet."""
    if exc.system is not None:
        return exc
    return type(exc)(exc.message, system=where.system, stream=where.stream, position=exc.position)
