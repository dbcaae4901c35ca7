"""``GET /metrics``: the hub's figures for Prometheus to scrape (:mod:`officehub.services.metrics`).

Access: with ``serve.metrics_token`` set, the scraper sends it as ``Authorization: Bearer <token>``
(Prometheus' ``authorization`` setting); without it the endpoint is open to whoever reaches the
server's address, as an exporter's is. The figures are counts, durations and names (pipelines,
agreements, sites, field paths), never a value; every process reads them from the hub store, so
any worker of a server gives the same answer.
"""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST

from officehub.canonical_model.errors import FatalError
from officehub.serve.deps import HubDep
from officehub.serve.state import Hub
from officehub.services import metrics

router = APIRouter(include_in_schema=False)


@router.get("/metrics")
def scrape(request: Request, hub: HubDep) -> Response:
    """The hub's metrics in Prometheus' text format (401 without the configured token)."""
    refusal = _refusal(hub, request.headers.get("authorization"))
    if refusal is not None:
        return refusal
    return Response(metrics.exposition(hub.project, hub.store), media_type=CONTENT_TYPE_LATEST)


def _refusal(hub: Hub, authorization: str | None) -> Response | None:
    """None when the request may read the metrics, else the response that refuses it."""
    reference = hub.project.config.serve.metrics_token
    if reference is None:
        return None
    try:  # read at each scrape, so a rotated token takes effect without a restart
        expected = reference.resolve(hub.project.base_dir).get_secret_value()
    except FatalError as exc:
        return PlainTextResponse(f"metrics token unavailable: {exc.describe()}\n", status_code=503)
    scheme, _, given = (authorization or "").partition(" ")
    if scheme.lower() == "bearer" and expected and hmac.compare_digest(given.strip().encode(), expected.encode()):
        return None
    return PlainTextResponse("metrics need 'Authorization: Bearer <serve.metrics_token>'\n", status_code=401,
                             headers={"WWW-Authenticate": 'Bearer realm="officehub metrics"'})
