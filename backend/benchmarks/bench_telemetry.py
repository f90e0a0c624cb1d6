"""Cost of the API's telemetry per request, in microseconds: tracing off (default) and on.

Measured in-process, without network or model, so that the figures stay readable on a busy
machine (``bench_api`` gives the end-to-end view):

- a minimal FastAPI application answering ``GET /items/{item_id}`` through ASGI: bare, with the
  request-metrics middleware (always on), and with the OpenTelemetry instrumentation too (what
  ``OTEL_EXPORTER_OTLP_ENDPOINT`` turns on; spans go to a batch processor whose exporter drops
  them, so the cost is the SDK's, not the collector's);
- the three spans of the prediction flow (``image.decode``, ``model.inference``, ``db.write``)
  with tracing off and on;
- counting one prediction in ``predictions_total``.

Each scenario runs ``--batches`` batches of ``--calls`` calls; the figures are the median and
95th percentile over batches of the mean time per call.

Usage (from backend/)::

    python -m benchmarks.bench_telemetry [--calls 2000] [--batches 15]
"""

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from sqlalchemy import create_engine
from sqlalchemy.orm import Session
from starlette.types import Message
from tqdm import tqdm

from app.telemetry import tracing
from app.telemetry.metrics import RequestMetricsMiddleware, record_predictions
from app.telemetry.tracing import (
    SpanName,
    db_write_span,
    image_attributes,
    inference_span,
    traced,
)
from benchmarks.arguments import positive_int


class DroppingExporter(SpanExporter):
    """Accepts every span and keeps none."""

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        """Drop the spans."""
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        """Nothing to release."""


@dataclass(frozen=True)
class Figure:
    """Time per call of one scenario, in microseconds."""

    label: str
    median_us: float
    p95_us: float


@dataclass(frozen=True)
class _Image:
    size_bytes: int = 1000
    width: int = 64
    height: int = 48


def measure(label: str, call: Callable[[], None], calls: int, batches: int) -> Figure:
    """Time ``batches`` batches of ``calls`` calls (after a warm-up batch)."""
    for _ in range(calls):
        call()
    means = []
    for _ in tqdm(range(batches), desc=label, leave=False):
        started = time.perf_counter()
        for _ in range(calls):
            call()
        means.append((time.perf_counter() - started) / calls * 1e6)
    ordered = sorted(means)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return Figure(label, statistics.median(ordered), p95)


def asgi_caller(app: Any) -> Callable[[], None]:
    """A function sending one ``GET /items/7`` through ``app`` on a private event loop."""
    loop = asyncio.new_event_loop()
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/items/7",
        "raw_path": b"/items/7",
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"127.0.0.1")],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start" and message["status"] != 200:
            raise RuntimeError(f"unexpected status {message['status']}")

    async def once() -> None:
        await app(dict(scope), receive, send)

    def call() -> None:
        loop.run_until_complete(once())

    return call


def minimal_app(*, metrics: bool, provider: TracerProvider | None) -> FastAPI:
    """A one-route application, with the telemetry pieces asked for."""
    app = FastAPI()

    @app.get("/items/{item_id}")
    async def read_item(item_id: int) -> dict[str, int]:
        return {"item_id": item_id}

    if metrics:
        app.add_middleware(RequestMetricsMiddleware)
    if provider is not None:
        tracing.enable_tracing(app, provider)
    return app


def prediction_spans(session: Session) -> Callable[[], None]:
    """The prediction flow's three spans around no-op work."""
    decode: Callable[[], _Image] = traced(SpanName.IMAGE_DECODE, image_attributes)(_Image)
    outputs = [[{"category_id": 10, "probabilities": 90.0}]]

    def call() -> None:
        decode()
        with inference_span("fusion", "3", "production", 1) as record:
            record(outputs)  # type: ignore[arg-type]
        with db_write_span(session, "predictions", 1):
            pass

    return call


def run(calls: int, batches: int) -> list[Figure]:
    """Every scenario, tracing off first, then on."""
    session = Session(create_engine("sqlite://"))
    figures = [
        measure(
            "ASGI request, bare",
            asgi_caller(minimal_app(metrics=False, provider=None)),
            calls,
            batches,
        ),
        measure(
            "ASGI request + metrics",
            asgi_caller(minimal_app(metrics=True, provider=None)),
            calls,
            batches,
        ),
        measure("prediction spans, tracing off", prediction_spans(session), calls, batches),
        measure(
            "count one prediction",
            lambda: record_predictions("fusion", "3", [10]),
            calls,
            batches,
        ),
    ]
    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(DroppingExporter()))
    traced_app = minimal_app(metrics=True, provider=provider)
    try:
        figures.append(
            measure("ASGI request + metrics + tracing", asgi_caller(traced_app), calls, batches)
        )
        figures.append(
            measure("prediction spans, tracing on", prediction_spans(session), calls, batches)
        )
    finally:
        tracing.disable_tracing(traced_app)
        provider.shutdown()
    return figures


def report(figures: list[Figure]) -> None:
    """Print the table and the overheads that matter."""
    print(f"\n{'scenario':<36}{'median us':>11}{'p95 us':>10}")
    for figure in figures:
        print(f"{figure.label:<36}{figure.median_us:>11.1f}{figure.p95_us:>10.1f}")
    by_label = {figure.label: figure.median_us for figure in figures}
    bare = by_label["ASGI request, bare"]
    metrics = by_label["ASGI request + metrics"]
    traced_request = by_label["ASGI request + metrics + tracing"]
    spans_off = by_label["prediction spans, tracing off"]
    spans_on = by_label["prediction spans, tracing on"]
    print()
    print(
        f"Tracing off, per prediction: metrics middleware {metrics - bare:.1f} us + spans "
        f"{spans_off:.1f} us + counter {by_label['count one prediction']:.1f} us."
    )
    print(
        f"Tracing on, per prediction: instrumentation {traced_request - metrics:.1f} us + "
        f"spans {spans_on:.1f} us ({spans_on / max(spans_off, 1e-9):.0f}x the no-op spans)."
    )


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--calls",
        metavar="N",
        type=positive_int,
        default=2000,
        help="calls per batch (default: %(default)s)",
    )
    parser.add_argument(
        "--batches",
        metavar="N",
        type=positive_int,
        default=15,
        help="batches per scenario (default: %(default)s)",
    )
    args = parser.parse_args(argv)
    report(run(args.calls, args.batches))
    return 0


if __name__ == "__main__":
    sys.exit(main())
