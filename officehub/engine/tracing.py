"""OpenTelemetry traces of a run's stages (read, map, validate, store, policy, write), sent over OTLP/HTTP.

One span per run, with one child span per stage per batch: a batch is tens of thousands of rows, so a
run of a million rows makes a few hundred spans, and a slow batch or stage shows where it is. Spans
carry the pipeline, the run id, the batch number and row counts, never a value.

Traces are on only when a collector is configured (``telemetry.endpoint`` in officehub.yaml, or the
standard ``OTEL_EXPORTER_OTLP_ENDPOINT``). Otherwise the OpenTelemetry SDK is not even imported, and each
stage hook costs one context-variable look-up. The current run travels in a context variable, which the
prefetch thread copies (:mod:`officehub.engine.prefetch`), so batches prepared there are traced too.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterator
from contextvars import ContextVar, Token
from dataclasses import dataclass, field
from functools import cache
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

from officehub.config import Project

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.trace import Span

log = logging.getLogger(__name__)

T = TypeVar("T")
ENV_ENDPOINTS = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")
SCOPE = "officehub.engine"


@dataclass
class _Run:
    """The run being traced: its span, and how many batches each stage has seen."""

    provider: TracerProvider
    span: Span
    attributes: dict[str, str | int]
    timeout_s: float
    batches: dict[str, int] = field(default_factory=dict)

    def stage_span(self, name: str, rows: int | None, began: int | None = None) -> Span:
        """A new span of stage ``name`` under the run's span, numbered by the stage's batch count."""
        from opentelemetry import trace

        number = self.batches[name] = self.batches.get(name, 0) + 1
        attributes: dict[str, str | int] = {**self.attributes, "officehub.batch": number}
        if rows is not None:
            attributes["officehub.rows"] = rows
        tracer = self.provider.get_tracer(SCOPE)
        return tracer.start_span(name, context=trace.set_span_in_context(self.span), attributes=attributes,
                                 start_time=began)


_CURRENT: ContextVar[_Run | None] = ContextVar("officehub_trace_run", default=None)


class Stage:
    """One stage of one batch, as a context manager; :meth:`rows_out` adds what came out of it."""

    __slots__ = ("_span",)

    def __init__(self, span: Span | None) -> None:
        self._span = span

    def __enter__(self) -> Stage:
        return self

    def rows_out(self, rows: int) -> None:
        """The rows the stage passed on (or wrote)."""
        if self._span is not None:
            self._span.set_attribute("officehub.rows_out", rows)

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if self._span is None:
            return
        if kind is not None:
            _failed(self._span, kind)
        self._span.end()


_OFF = Stage(None)


def stage(name: str, rows: int | None = None) -> Stage:
    """A span of stage ``name`` for one batch of ``rows`` rows; a shared no-op when no run is traced."""
    run = _CURRENT.get()
    return _OFF if run is None else Stage(run.stage_span(name, rows))


def batches(name: str, items: Iterator[T], rows: Callable[[T], int]) -> Iterator[T]:
    """``items`` with the making of each one traced as stage ``name`` (a reader's batches)."""
    if _CURRENT.get() is None:
        return items
    return _traced_batches(name, items, rows)


def _traced_batches(name: str, items: Iterator[T], rows: Callable[[T], int]) -> Iterator[T]:
    while True:
        began = time.time_ns()  # the span is made once there is a batch: the final, empty call has none
        try:
            item = next(items)
        except StopIteration:
            return
        except BaseException:
            with _started(name, began):  # the read failed: its span ends in error
                raise
        with _started(name, began) as span:
            span.rows_out(rows(item))
        yield item


def _started(name: str, began: int) -> Stage:
    run = _CURRENT.get()
    return _OFF if run is None else Stage(run.stage_span(name, None, began))


def traced_part(owner: Any, part: str, method: str, name: str, rows: Callable[..., int]) -> None:
    """Trace every call of ``owner.<part>.<method>`` as stage ``name`` while a run is traced: a compiled
    step's own part (a mapping's validation), whose module sits below the engine and knows nothing of it."""
    if _CURRENT.get() is not None:
        setattr(owner, part, _TracedPart(getattr(owner, part), method, name, rows))


class _TracedPart:
    """Stands in for a part of a compiled step: its ``method`` traced, everything else handed through."""

    def __init__(self, inner: Any, method: str, name: str, rows: Callable[..., int]) -> None:
        self._inner, self._method, self._name, self._rows = inner, method, name, rows

    def __getattr__(self, attribute: str) -> Any:
        found = getattr(self._inner, attribute)
        if attribute != self._method:
            return found

        def traced(*args: Any, **kwargs: Any) -> Any:
            with stage(self._name, self._rows(*args, **kwargs)):
                return found(*args, **kwargs)

        return traced


def _failed(span: Span, kind: type[BaseException]) -> None:
    from opentelemetry.trace import Status, StatusCode

    # The class only: an exception's text may quote a value.
    span.set_status(Status(StatusCode.ERROR, kind.__name__))
    span.set_attribute("error.type", kind.__name__)


class RunTrace:
    """The trace of one run: started by the runner before anything else, ended with the run's result."""

    def __init__(self, run: _Run | None = None) -> None:
        self._run = run
        self._token: Token[_Run | None] | None = _CURRENT.set(run) if run is not None else None

    def end(self, result: Any) -> None:
        """End the run's span with its outcome and figures, and send what is waiting (bounded by the timeout)."""
        run = self._run
        if run is None:
            return
        metrics = result.metrics
        run.span.set_attributes({"officehub.status": result.status,
                                 "officehub.records_read": metrics.records_read,
                                 "officehub.records_written": metrics.records_written,
                                 "officehub.records_quarantined": metrics.records_quarantined})
        if result.status == "failed":
            from opentelemetry.trace import Status, StatusCode

            run.span.set_status(Status(StatusCode.ERROR, "run failed"))
        run.span.end()
        if self._token is not None:
            _CURRENT.reset(self._token)
            self._token = None
        # A task process may end without running exit handlers: what a run traced leaves with it.
        if not run.provider.force_flush(int(run.timeout_s * 1000)):
            log.warning("traces of pipeline %s run %s not sent within %gs", result.pipeline, result.run_id,
                        run.timeout_s)


def run_started(project: Project, pipeline: str, kind: str, run_id: int) -> RunTrace:
    """Start tracing a run when a collector is configured; otherwise a trace that does nothing."""
    settings = project.config.telemetry
    url = _traces_url(settings.endpoint)
    if url is None:
        return RunTrace()
    try:
        provider = _provider(url, settings.service_name, settings.timeout_s)
    except ImportError:
        log.warning("traces not sent: pip install 'officehub[telemetry]'")
        return RunTrace()
    attributes: dict[str, str | int] = {"officehub.pipeline": pipeline, "officehub.run_id": run_id}
    span = provider.get_tracer(SCOPE).start_span(f"{kind} {pipeline}", attributes={
        **attributes, "officehub.kind": kind})
    return RunTrace(_Run(provider, span, attributes, settings.timeout_s))


@cache
def _provider(url: str, service_name: str, timeout_s: float) -> TracerProvider:
    """The SDK set up once per process and collector: a batching processor and the OTLP/HTTP exporter.

    A provider of its own rather than the global one: a host process (Airflow, the server) may have set
    up tracing for itself, and runs must not change it. The exporter still reads the standard variables
    for what the configuration does not say (OTEL_EXPORTER_OTLP_HEADERS, certificates, compression).
    """
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=url, timeout=timeout_s)))
    return provider


def _traces_url(endpoint: str | None) -> str | None:
    """Where spans go: ``telemetry.endpoint``, else the standard variables; a base address (as
    OTEL_EXPORTER_OTLP_ENDPOINT is) gets the signal's path, /v1/traces. None: no collector configured."""
    if endpoint is None and os.environ.get(ENV_ENDPOINTS[0]):
        return os.environ[ENV_ENDPOINTS[0]]  # the traces endpoint itself, used as given
    base = endpoint or os.environ.get(ENV_ENDPOINTS[1])
    if not base:
        return None
    return base if base.rstrip("/").endswith("/v1/traces") else base.rstrip("/") + "/v1/traces"
