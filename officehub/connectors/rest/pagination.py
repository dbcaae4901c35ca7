"""Paginators: how to ask for the first page, and how an answer names the next one.

A page's position is a small JSON dict (``PageState``) because it goes into the
read cursor: a crashed read resumes at the page after the last stored batch.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests

from officehub.canonical_model.errors import FatalError
from officehub.connectors.rest.config import (
    CursorPagination,
    LinkHeaderPagination,
    NoPagination,
    OffsetPagination,
    PageNumberPagination,
    Pagination,
)
from officehub.connectors.rest.records import dig

#: Where a page is, as the cursor keeps it (JSON-serialisable).
PageState = dict[str, Any]


@dataclass(frozen=True)
class PageRequest:
    """What to send for one page: query parameters, or a whole URL the vendor gave us."""

    params: dict[str, str] = field(default_factory=dict)
    url: str | None = None


class Paginator(ABC):
    """One pagination style; subclass it for a vendor's own scheme."""

    def first(self) -> PageState:
        """The state of the first page."""
        return {}

    @abstractmethod
    def request(self, state: PageState) -> PageRequest:
        """The request for the page at ``state``."""

    @abstractmethod
    def next(self, state: PageState, response: requests.Response, body: Any, records: list) -> PageState | None:
        """The state of the page after this one, or None when this was the last."""


class SinglePage(Paginator):
    """No pagination: one answer holds everything."""

    def request(self, state: PageState) -> PageRequest:
        return PageRequest()

    def next(self, state: PageState, response: requests.Response, body: Any, records: list) -> PageState | None:
        return None


def _size(param: str | None, size: int) -> dict[str, str]:
    return {param: str(size)} if param else {}


def _last(state: PageState, records: list) -> bool:
    # A page shorter than the longest one seen is the last. Comparing with what the vendor
    # actually sent, not with what we asked for, keeps a vendor that caps the page size
    # from ending the read after its first page.
    return not records or len(records) < state.get("full", 0)


class PageNumberPaginator(Paginator):
    """``?page=N``, counting up until an empty or short page."""

    def __init__(self, config: PageNumberPagination) -> None:
        self.config = config

    def first(self) -> PageState:
        return {"page": self.config.first_page}

    def request(self, state: PageState) -> PageRequest:
        c = self.config
        return PageRequest({c.page_param: str(state["page"]), **_size(c.size_param, c.page_size)})

    def next(self, state: PageState, response: requests.Response, body: Any, records: list) -> PageState | None:
        if _last(state, records):
            return None
        return {"page": state["page"] + 1, "full": max(state.get("full", 0), len(records))}


class OffsetPaginator(Paginator):
    """``?offset=N&limit=M``, moving on by the records received until an empty or short page."""

    def __init__(self, config: OffsetPagination) -> None:
        self.config = config

    def first(self) -> PageState:
        return {"offset": 0}

    def request(self, state: PageState) -> PageRequest:
        c = self.config
        return PageRequest({c.offset_param: str(state["offset"]), c.limit_param: str(c.page_size)})

    def next(self, state: PageState, response: requests.Response, body: Any, records: list) -> PageState | None:
        if _last(state, records):
            return None
        return {"offset": state["offset"] + len(records), "full": max(state.get("full", 0), len(records))}


class CursorPaginator(Paginator):
    """An opaque next-page token read from the body and sent back as a parameter."""

    def __init__(self, config: CursorPagination) -> None:
        self.config = config

    def request(self, state: PageState) -> PageRequest:
        c = self.config
        token = {c.token_param: state["token"]} if "token" in state else {}
        return PageRequest({**token, **_size(c.size_param, c.page_size)})

    def next(self, state: PageState, response: requests.Response, body: Any, records: list) -> PageState | None:
        token = dig(body, self.config.token_path, missing=None)
        return {"token": str(token)} if token not in (None, "") else None


class LinkHeaderPaginator(Paginator):
    """The ``Link: <url>; rel="next"`` header, followed only on the configured host."""

    def __init__(self, config: LinkHeaderPagination, base_url: str) -> None:
        self.config = config
        self.origin = _origin(base_url)

    def request(self, state: PageState) -> PageRequest:
        if "url" in state:
            return PageRequest(url=state["url"])
        return PageRequest(_size(self.config.size_param, self.config.page_size))

    def next(self, state: PageState, response: requests.Response, body: Any, records: list) -> PageState | None:
        link = response.links.get("next", {}).get("url")
        if not link:
            return None
        url = urljoin(response.url, link)
        if _origin(url) != self.origin:
            # The request carries credentials; they must not travel to a host we were not given.
            raise FatalError(f"the next-page link points to another host ({_origin(url)}); not followed")
        return {"url": url}


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def build_paginator(config: Pagination, base_url: str) -> Paginator:
    """The paginator for a stream's ``pagination`` setting."""
    if isinstance(config, PageNumberPagination):
        return PageNumberPaginator(config)
    if isinstance(config, OffsetPagination):
        return OffsetPaginator(config)
    if isinstance(config, CursorPagination):
        return CursorPaginator(config)
    if isinstance(config, LinkHeaderPagination):
        return LinkHeaderPaginator(config, base_url)
    assert isinstance(config, NoPagination)
    return SinglePage()
