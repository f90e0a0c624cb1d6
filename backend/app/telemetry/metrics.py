"""Prometheus metrics of the API, exposed at ``GET /metrics`` in the Prometheus text format.

In-process metrics (this module):

- ``http_requests_total{method, route, status}`` and
  ``http_request_duration_seconds{method, route, status}`` (histogram), per route *template*
  (``/api/v1/users/{user_id}``, not the raw path);
- ``predictions_total{model_name, model_version, category}``: products predicted, by most
  probable category returned;
- ``model_load_duration_seconds{model_name, model_version}``: how long loading the served
  version took;
- ``model_served{model_name, model_version, model_alias}``: model servers serving the version (1),
  0 for versions served earlier by this process;
- ``shadow_predictions_total{model_name, model_version, outcome}``: products the challenger
  predicted in the shadow (``stored``) or failed to (``failed``);
  ``shadow_requests_dropped_total``: requests not shadowed because the queue was full;
  ``shadow_prediction_duration_seconds`` (histogram): the challenger's model call;
- ``micro_batch_rows``, ``micro_batch_requests`` and ``micro_batch_wait_seconds``
  (histograms): products per gathered model call, requests served together in one batch, and
  how long each request waited for its batch (:mod:`app.api.request_batching`).

From the database at scrape time (:class:`FeedbackCollector`): ``model_feedback_total``,
``model_live_accuracy`` and ``model_live_weighted_f1`` per model version.

Several worker processes (``uvicorn --workers N``): each process counts its own requests. With
``PROMETHEUS_MULTIPROC_DIR`` set (an empty, writable folder, set in the environment before the
API starts) prometheus-client's multiprocess mode sums the counters and histograms of every
worker; without it a scrape only sees the worker that answered it. The database figures are
the same whichever worker answers. Multiprocess mode has no process/GC metrics.
"""

import atexit
import inspect
import os
import time
from collections.abc import Iterable, Iterator, Sequence
from typing import Final

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.routing import Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.config import get_settings
from app.schemas.feedback import FeedbackStats

# The settings first: PROMETHEUS_MULTIPROC_DIR is written to as soon as a metric below is
# created, and a missing folder must be one error line, not a traceback at import.
get_settings()
MULTIPROCESS_DIR: Final = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
"""Folder of prometheus-client's multiprocess mode (read once, as prometheus-client does)."""

UNMATCHED_ROUTE: Final = "<unmatched>"
KNOWN_METHODS: Final = frozenset(
    {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT"}
)
LATENCY_BUCKETS: Final = (
    0.005,
    0.01,
    0.025,
    0.05,
    0.075,
    0.1,
    0.25,
    0.5,
    0.75,
    1.0,
    2.5,
    5.0,
    10.0,
)

REQUESTS: Final = Counter(
    "http_requests",
    "HTTP requests answered, by route template and status.",
    ["method", "route", "status"],
)
REQUEST_DURATION: Final = Histogram(
    "http_request_duration_seconds",
    "Time to answer an HTTP request, by route template and status.",
    ["method", "route", "status"],
    buckets=LATENCY_BUCKETS,
)
PREDICTIONS: Final = Counter(
    "predictions",
    "Products predicted, by model version and most probable category returned.",
    ["model_name", "model_version", "category"],
)
MODEL_LOAD_DURATION: Final = Gauge(
    "model_load_duration_seconds",
    "Time taken to load a served model version (download, deserialise, warm up).",
    ["model_name", "model_version"],
    multiprocess_mode="livemostrecent",
)
MODEL_SERVED: Final = Gauge(
    "model_served",
    "Model servers of this process serving the version: 1 while served, 0 once replaced.",
    ["model_name", "model_version", "model_alias"],
    multiprocess_mode="livemax",
)

SHADOW_PREDICTIONS: Final = Counter(
    "shadow_predictions",
    "Products the challenger predicted in the shadow (stored) or failed to (failed).",
    ["model_name", "model_version", "outcome"],
)
SHADOW_DROPPED: Final = Counter(
    "shadow_requests_dropped",
    "Requests not shadowed by the challenger because its queue was full.",
)
SHADOW_DURATION: Final = Histogram(
    "shadow_prediction_duration_seconds",
    "Time of the challenger's model call for one request (off the response path).",
    ["model_name", "model_version"],
    buckets=LATENCY_BUCKETS,
)
MICRO_BATCH_ROWS: Final = Histogram(
    "micro_batch_rows",
    "Products per gathered model call (micro-batching).",
    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256),
)
MICRO_BATCH_REQUESTS: Final = Histogram(
    "micro_batch_requests",
    "Requests served together in one batch (micro-batching).",
    buckets=(1, 2, 4, 8, 16, 32, 64),
)
MICRO_BATCH_WAIT: Final = Histogram(
    "micro_batch_wait_seconds",
    "Time a request waited for its batch to start (micro-batching).",
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0),
)

if MULTIPROCESS_DIR:
    # Live gauges of a worker that exits must not count any more.
    atexit.register(multiprocess.mark_process_dead, os.getpid())


def record_predictions(model_name: str, model_version: str, categories: Iterable[int]) -> None:
    """Count predicted products by their most probable category."""
    for category in categories:
        PREDICTIONS.labels(model_name, model_version, str(category)).inc()


def record_shadow(
    model_name: str, model_version: str, products: int, *, seconds: float | None
) -> None:
    """Count ``products`` shadow predictions: stored (with the call's ``seconds``) or failed."""
    outcome = "failed" if seconds is None else "stored"
    SHADOW_PREDICTIONS.labels(model_name, model_version, outcome).inc(products)
    if seconds is not None:
        SHADOW_DURATION.labels(model_name, model_version).observe(seconds)


def record_shadow_dropped() -> None:
    """Count one request the challenger's full queue could not take."""
    SHADOW_DROPPED.inc()


def record_micro_batch(waits: Iterable[float]) -> None:
    """Record one batch of gathered requests: each request's wait (seconds), and their count."""
    count = 0
    for wait in waits:
        MICRO_BATCH_WAIT.observe(wait)
        count += 1
    MICRO_BATCH_REQUESTS.observe(count)


def record_micro_batch_rows(rows: int) -> None:
    """Record the products of one gathered model call."""
    MICRO_BATCH_ROWS.observe(rows)


def record_model_load(
    model_name: str,
    model_version: str,
    alias: str,
    seconds: float,
    replaced: tuple[str, str, str] | None = None,
) -> None:
    """Record that a model server of this process now serves ``model_version``.

    ``model_served`` counts the model servers of the process serving each version: 1 for the
    version an API process serves, 0 once it has been replaced.

    Args:
        model_name: Registered model name.
        model_version: Version now served.
        alias: Alias it was loaded through.
        seconds: Load time.
        replaced: ``(name, version, alias)`` of the version the same model server served before.
    """
    MODEL_LOAD_DURATION.labels(model_name, model_version).set(seconds)
    labels = (model_name, model_version, alias)
    if replaced == labels:
        return
    if replaced is not None:
        MODEL_SERVED.labels(*replaced).dec()
    MODEL_SERVED.labels(*labels).inc()


def route_template(scope: Scope) -> str:
    """The template of the route that answered (``/api/v1/users/{user_id}``), bounded in number.

    A mounted application (the web page at ``/``) is reported as ``{mount}/{path}``; a request
    no route matched as ``<unmatched>``.
    """
    # FastAPI >= 0.16x keeps included routers whole: the matched route's own path lacks the
    # include prefix, and the full template is on the route context it records in the scope.
    fastapi_scope = scope.get("fastapi")
    if isinstance(fastapi_scope, dict):
        template = getattr(fastapi_scope.get("effective_route_context"), "path_format", None)
        if template:
            return str(template)
    route = scope.get("route")
    if route is None:
        return _starlette_route_template(scope)
    path = str(getattr(route, "path_format", None) or getattr(route, "path", "") or "")
    if isinstance(route, Mount):
        return f"{path.removesuffix('/{path}')}/{{path}}"
    return path or UNMATCHED_ROUTE


def _starlette_route_template(scope: Scope) -> str:
    """Template of a plain Starlette route (``/docs``) or mount, known by its endpoint only."""
    endpoint = scope.get("endpoint")
    if endpoint is None:
        return UNMATCHED_ROUTE
    if inspect.isfunction(endpoint) or inspect.ismethod(endpoint):
        for candidate in getattr(scope.get("app"), "routes", ()):
            if getattr(candidate, "endpoint", None) is endpoint:
                return str(getattr(candidate, "path", UNMATCHED_ROUTE))
        return UNMATCHED_ROUTE
    # A mounted application: Starlette records it as the endpoint, and the mount's root path.
    mount = str(scope.get("root_path", "")).removeprefix(str(scope.get("app_root_path", "")))
    return f"{mount}/{{path}}"


class RequestMetricsMiddleware:
    """ASGI middleware counting and timing every HTTP request by route template and status."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on, then count it with the status it was answered with."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # an exception before the response started becomes a 500

        async def send_and_watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_and_watch)
        finally:
            method = scope["method"] if scope["method"] in KNOWN_METHODS else "OTHER"
            labels = (method, route_template(scope), str(status))
            REQUESTS.labels(*labels).inc()
            REQUEST_DURATION.labels(*labels).observe(time.perf_counter() - started)


class FeedbackCollector(Collector):
    """Feedback count and live quality per model version, from stored feedback (at scrape)."""

    def __init__(self, stats: Sequence[FeedbackStats]) -> None:
        self.stats = stats

    def collect(self) -> Iterator[Metric]:
        """Yield the feedback metric families."""
        count = CounterMetricFamily(
            "model_feedback",
            "Feedback received (seller's final category), per model version.",
            labels=["model_version"],
        )
        accuracy = GaugeMetricFamily(
            "model_live_accuracy",
            "Share of feedback where the predicted category was the seller's, per model version.",
            labels=["model_version"],
        )
        f1 = GaugeMetricFamily(
            "model_live_weighted_f1",
            "Weighted F1 score of the predictions that got a feedback, per model version.",
            labels=["model_version"],
        )
        for row in self.stats:
            count.add_metric([row.model_version], row.count)
            accuracy.add_metric([row.model_version], row.accuracy)
            f1.add_metric([row.model_version], row.weighted_f1)
        yield count
        yield accuracy
        yield f1


def render_metrics(*extra: Collector) -> tuple[bytes, str]:
    """Render every metric (all workers' in multiprocess mode) and ``extra`` collectors.

    Returns:
        The body in the Prometheus text format and its content type.
    """
    if MULTIPROCESS_DIR:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        body = generate_latest(registry)
    else:
        body = generate_latest(REGISTRY)
    for collector in extra:
        body += generate_latest(collector)
    return body, CONTENT_TYPE_LATEST
