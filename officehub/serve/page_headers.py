"""What every response of the console carries: the session cookie a request (re)made, and the page security headers.

A plain ASGI middleware rather than ``@app.middleware("http")``: that one runs each request
through an extra task and a response stream, which cost the hub API a fifth of its
throughput while doing nothing for it. Here an API response passes with one check of its
path; a console response gets its headers as its start message goes out.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from officehub.serve.sessions import COOKIE, Session, Sessions

#: Sent with every console page: scripts, styles and forms of this server only, never inside a frame.
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                               "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


class PageHeaders:
    """Adds :data:`PAGE_HEADERS` to console responses, and the cookie of a session a request left to send
    (``request.state.send_session``, set by the console's dependencies) to any response."""

    def __init__(self, app: ASGIApp, sessions: Sessions) -> None:
        self.app, self.sessions = app, sessions

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        page = not scope["path"].startswith("/api/")

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                session = scope.get("state", {}).get("send_session")
                if session is not None:
                    headers.append("set-cookie", self._cookie(session, secure=scope.get("scheme") == "https"))
                if page:
                    for name, value in PAGE_HEADERS.items():
                        headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, sending)

    def _cookie(self, session: Session, *, secure: bool) -> str:
        """The Set-Cookie value for ``session``, built the way Starlette's responses build it."""
        carrier = Response()
        carrier.set_cookie(COOKIE, self.sessions.sign(session), max_age=self.sessions.max_age,
                           httponly=True, samesite="lax", secure=secure, path="/")
        return carrier.headers["set-cookie"]
