"""The server's access log without query strings: they may hold what a person or an application searched for
(an e-mail, a phone number, a name) or a one-time sign-in code, none of which may reach a log."""

from __future__ import annotations

import logging


class QueryHidden(logging.Filter):
    """Writes each request's path to uvicorn's access log with its query replaced by ``?…``."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        # uvicorn's access record: (client address, method, path with query, HTTP version, status)
        if isinstance(args, tuple) and len(args) > 2 and "?" in str(args[2]):
            record.args = (*args[:2], str(args[2]).split("?", 1)[0] + "?…", *args[3:])
        return True


def hide_queries(logger_name: str = "uvicorn.access") -> None:
    """Install :class:`QueryHidden` on the access logger (once)."""
    logger = logging.getLogger(logger_name)
    if not any(isinstance(found, QueryHidden) for found in logger.filters):
        logger.addFilter(QueryHidden())
