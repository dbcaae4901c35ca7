"""The hub's metrics for runs with no server to scrape them: a node-exporter textfile or a Pushgateway push.

``officehub metrics --textfile/--push`` does it on demand; with ``hub.metrics`` configured, every pipeline
run does it when it ends (:func:`after_run`, which the engine calls through the entry-point group
``officehub.run_observers``). The figures are the whole hub store's, so a push from any worker replaces
the last one: pushes are grouped by job and hub, not by process.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from officehub.canonical_model.errors import FatalError, OfficehubError, RetriableError
from officehub.config import Project
from officehub.config.metrics_settings import MetricsSettings
from officehub.connectors.urls import display_url
from officehub.store.hub import HubStore

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry

log = logging.getLogger(__name__)


def text(project: Project, store: HubStore) -> bytes:
    """The metrics in Prometheus' text format."""
    hub_registry = _registry(project, store)
    from prometheus_client import generate_latest

    return generate_latest(hub_registry)


def write_textfile(project: Project, store: HubStore, path: Path) -> Path:
    """Write the metrics to ``path`` (relative to the project folder) atomically; returns the full path.

    The file is written beside its place under another name and renamed over it, so node-exporter
    never reads half a file.
    """
    hub_registry = _registry(project, store)
    from prometheus_client import write_to_textfile

    target = path if path.is_absolute() else project.base_dir / path
    try:
        write_to_textfile(str(target), hub_registry)
    except OSError as exc:
        raise FatalError(f"cannot write the metrics textfile {target}: {exc.strerror}") from None
    return target


def push(project: Project, store: HubStore, url: str, job: str, *, token: str | None = None,
         timeout_s: float = 10) -> None:
    """Replace what the Pushgateway at ``url`` holds for ``job`` and this hub with the hub's figures now."""
    hub_registry = _registry(project, store)
    from prometheus_client import push_to_gateway

    try:
        push_to_gateway(url, job=job, registry=hub_registry, grouping_key={"hub": project.name},
                        timeout=timeout_s, handler=_bearer_handler(token))
    except OSError as exc:  # refused, unreachable, timed out, or an HTTP error status (urllib's errors are OSErrors)
        # The address without user, password or query: a proxy's credential could ride there.
        raise RetriableError(f"cannot push metrics to the Pushgateway {display_url(url)}: "
                             f"{getattr(exc, 'reason', None) or type(exc).__name__}") from None


def _registry(project: Project, store: HubStore) -> CollectorRegistry:
    try:
        from officehub.services.metrics import registry
    except ImportError:
        raise FatalError("metrics need the Prometheus client: pip install 'officehub[metrics]'") from None
    return registry(project, store)


def _bearer_handler(token: str | None) -> Any:
    from prometheus_client.exposition import default_handler

    def handler(url: str, method: str, timeout: float | None, headers: list[tuple[str, str]],
                data: bytes) -> Any:
        sent = [*headers, ("Authorization", f"Bearer {token}")] if token else headers
        return default_handler(url, method, timeout, sent, data)
    return handler


def export(project: Project, store: HubStore, settings: MetricsSettings) -> None:
    """Write and/or push the metrics as ``settings`` say."""
    if settings.textfile is not None:
        write_textfile(project, store, settings.textfile)
    if settings.pushgateway is not None:
        token = settings.pushgateway_token.resolve(project.base_dir).get_secret_value() \
            if settings.pushgateway_token else None
        push(project, store, settings.pushgateway, settings.job, token=token, timeout_s=settings.timeout_s)


def after_run(project: Project, store: HubStore, result: object) -> None:
    """The run observer: export the metrics when ``hub.metrics`` is configured. A failure is logged, never
    raised: the run is over and on record, and its outcome must not depend on the monitoring."""
    settings = project.config.hub.metrics
    if settings is None:
        return
    try:
        export(project, store, settings)
    except OfficehubError as exc:
        log.warning("metrics not exported after pipeline %s: %s", getattr(result, "pipeline", "?"), exc.describe())
