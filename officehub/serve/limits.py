"""Limits on what one client may ask: sign-in attempts per address, the size of a request body."""

from __future__ import annotations

import time
from collections import deque

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class AttemptLimiter:
    """At most ``per_minute`` attempts per key (a client address) in any sliding minute.

    Kept in the process's memory: with several server processes each counts its own, so an
    address gets at most ``per_minute`` times the number of processes. The account lockout
    (in the hub store) is what every process shares.
    """

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._seen: dict[str, deque[float]] = {}

    def allow(self, key: str) -> bool:
        """Count one attempt by ``key``; False when it is over the limit (and then it is not counted)."""
        now = time.monotonic()
        seen = self._seen.setdefault(key, deque())
        while seen and now - seen[0] > 60:
            seen.popleft()
        if len(seen) >= self.per_minute:
            return False
        seen.append(now)
        if len(self._seen) > 10_000:  # forget idle addresses, so memory stays bounded
            for stale in [k for k, v in self._seen.items() if not v or now - v[-1] > 60]:
                del self._seen[stale]
        return True


class BodyLimit:
    """ASGI middleware: a request whose body is larger than ``max_bytes`` is refused with 413.

    The declared Content-Length is checked before anything is read; a body sent without
    one (chunked) is counted as it arrives and cut off at the limit.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await _too_large(send, self.max_bytes)
            return
        received = 0
        started = False

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise _TooLarge
            return message

        async def sending(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, sending)
        except _TooLarge:
            if not started:
                await _too_large(send, self.max_bytes)


class _TooLarge(Exception):
    pass


async def _too_large(send: Send, max_bytes: int) -> None:
    body = ('{"error": "the request body is larger than %d bytes"}' % max_bytes).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
