"""OpenTelemetry tracing: one trace per request, child spans for the costly steps.

Tracing is off unless :func:`enable_tracing` is called (``setup_telemetry`` does it when
``OTEL_EXPORTER_OTLP_ENDPOINT`` is set). While it is off, nothing is instrumented and
:func:`start_span` returns a shared do-nothing context manager: a prediction pays a few function
calls and tests (about a microsecond), no span object is created and nothing is exported.

The spans of the prediction flow (names in :class:`SpanName`, attributes in :class:`Attr`):

- ``image.decode``: one per uploaded image (size in bytes, width, height);
- ``model.inference``: the model call (model name, version and alias, batch size, returned
  categories);
- ``db.write``: storing the predictions (database system, table, rows).

The request's own span (made by the FastAPI instrumentation) also gets the model and category
attributes, so that traces can be searched by model version or category.
"""

import functools
import os
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, ParamSpec, Protocol, TypeVar

from fastapi import FastAPI
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Span, Tracer
from opentelemetry.util.types import AttributeValue
from sqlalchemy.orm import Session

from product_classifier.serving.contract import Prediction

if TYPE_CHECKING:  # the SDK is imported only when tracing is turned on
    from opentelemetry.sdk.trace import TracerProvider

P = ParamSpec("P")
R = TypeVar("R")

TRACER_NAME: Final = "app"
EXCLUDED_URLS: Final = "/metrics,/api/v1/health/.*"
"""Requests not traced (scrapes and probes): comma-separated regular expressions."""
ROUTE_ATTRIBUTE: Final = "http.route"
_CONVERTOR: Final = re.compile(r"\{(\w+):\w+\}")


class SpanName:
    """Names of the spans the API makes itself."""

    IMAGE_DECODE: Final = "image.decode"
    MODEL_INFERENCE: Final = "model.inference"
    DB_WRITE: Final = "db.write"


class Attr:
    """Span attribute keys."""

    MODEL_NAME: Final = "model.name"
    MODEL_VERSION: Final = "model.version"
    MODEL_ALIAS: Final = "model.alias"
    BATCH_SIZE: Final = "prediction.batch_size"
    CATEGORY: Final = "prediction.category"
    """Most probable category returned (requests of one product)."""
    CATEGORIES: Final = "prediction.categories"
    """Most probable category of each product, in order."""
    IMAGE_SIZE_BYTES: Final = "image.size_bytes"
    IMAGE_WIDTH: Final = "image.width"
    IMAGE_HEIGHT: Final = "image.height"
    DB_SYSTEM: Final = "db.system"
    DB_OPERATION: Final = "db.operation"
    DB_TABLE: Final = "db.sql.table"
    DB_ROWS: Final = "db.rows"


@dataclass
class _TracingState:
    tracer: Tracer | None = None
    provider: "TracerProvider | None" = None


_state = _TracingState()
_DISABLED: Final[AbstractContextManager[None]] = nullcontext()


def tracing_enabled() -> bool:
    """Whether spans are recorded in this process."""
    return _state.tracer is not None


def tracer_provider() -> "TracerProvider | None":
    """The provider spans go to, or ``None`` while tracing is off."""
    return _state.provider


def start_span(
    name: str, attributes: Mapping[str, AttributeValue] | None = None
) -> AbstractContextManager[Span | None]:
    """Start a child span of the current one; a no-op (yielding ``None``) while tracing is off.

    Compute costly attributes only when the yielded span is not ``None``.
    """
    tracer = _state.tracer
    if tracer is None:
        return _DISABLED
    return tracer.start_as_current_span(name, attributes=attributes)


def current_trace_context() -> otel_context.Context:
    """The current OpenTelemetry context (the active span), to continue it elsewhere."""
    return otel_context.get_current()


@contextmanager
def in_trace_context(context: otel_context.Context) -> Iterator[None]:
    """Make ``context`` current in this block: the spans started in it are its children.

    For work done on behalf of a request outside its own task (a batch of gathered requests
    served in a worker thread); OpenTelemetry's ``context.attach`` / ``context.detach``.
    """
    token = otel_context.attach(context)
    try:
        yield
    finally:
        otel_context.detach(token)


def traced(
    name: str, result_attributes: Callable[[Any], Mapping[str, AttributeValue]] | None = None
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorate a function so that each call runs in a span named ``name``.

    Args:
        name: The span name.
        result_attributes: Attributes to set from the function's result (called only when the
            span records).
    """

    def decorate(function: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(function)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            if _state.tracer is None:
                return function(*args, **kwargs)
            with start_span(name) as span:
                result = function(*args, **kwargs)
                if span is not None and result_attributes is not None:
                    span.set_attributes(result_attributes(result))
                return result

        return wrapper

    return decorate


def prediction_attributes(
    name: str, version: str, alias: str, categories: Sequence[int]
) -> dict[str, AttributeValue]:
    """Model and result attributes of a prediction call (``categories``: top one per product)."""
    attributes: dict[str, AttributeValue] = {
        Attr.MODEL_NAME: name,
        Attr.MODEL_VERSION: version,
        Attr.MODEL_ALIAS: alias,
        Attr.BATCH_SIZE: len(categories),
        Attr.CATEGORIES: list(categories),
    }
    if len(categories) == 1:
        attributes[Attr.CATEGORY] = categories[0]
    return attributes


def _ignore_outputs(_outputs: Sequence[Prediction]) -> None:
    return None


@contextmanager
def inference_span(
    name: str, version: str, alias: str, batch_size: int
) -> Iterator[Callable[[Sequence[Prediction]], None]]:
    """A ``model.inference`` span; yields a function recording the model's outputs.

    The model and category attributes are set on the inference span and on the span that was
    current when it started (the request's, in a route handler).
    """
    if _state.tracer is None:
        yield _ignore_outputs
        return
    request_span = trace.get_current_span()
    attributes: dict[str, AttributeValue] = {
        Attr.MODEL_NAME: name,
        Attr.MODEL_VERSION: version,
        Attr.MODEL_ALIAS: alias,
        Attr.BATCH_SIZE: batch_size,
    }
    with start_span(SpanName.MODEL_INFERENCE, attributes) as span:

        def record(outputs: Sequence[Prediction]) -> None:
            categories = [int(output[0]["category_id"]) for output in outputs if output]
            result = prediction_attributes(name, version, alias, categories)
            if span is not None:
                span.set_attributes(result)
            if request_span.is_recording():
                request_span.set_attributes(result)

        yield record


class _ImageLike(Protocol):
    size_bytes: int
    width: int
    height: int


def image_attributes(image: _ImageLike) -> dict[str, AttributeValue]:
    """Span attributes of a decoded image: size in bytes, width and height in pixels."""
    return {
        Attr.IMAGE_SIZE_BYTES: image.size_bytes,
        Attr.IMAGE_WIDTH: image.width,
        Attr.IMAGE_HEIGHT: image.height,
    }


def db_write_span(session: Session, table: str, rows: int) -> AbstractContextManager[Span | None]:
    """A ``db.write`` span around inserting (flushing) ``rows`` rows in ``table``."""
    if _state.tracer is None:
        return _DISABLED
    bind = session.get_bind()
    return start_span(
        SpanName.DB_WRITE,
        {
            Attr.DB_SYSTEM: bind.dialect.name,
            Attr.DB_OPERATION: "INSERT",
            Attr.DB_TABLE: table,
            Attr.DB_ROWS: rows,
        },
    )


def otlp_tracer_provider(
    endpoint: str, service_name: str, extra_resource: Mapping[str, str] | None = None
) -> "TracerProvider":
    """A tracer provider exporting spans in batches to an OTLP/HTTP collector.

    Args:
        endpoint: The collector's base URL (``OTEL_EXPORTER_OTLP_ENDPOINT``, e.g.
            ``http://localhost:4318``); spans go to ``{endpoint}/v1/traces`` unless
            ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` names another URL.
        service_name: ``service.name`` of the resource (``OTEL_SERVICE_NAME``).
        extra_resource: Other resource attributes.
    """
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import (  # noqa: PLC0415
        OTLPSpanExporter,
    )
    from opentelemetry.sdk.resources import Resource  # noqa: PLC0415
    from opentelemetry.sdk.trace import TracerProvider  # noqa: PLC0415
    from opentelemetry.sdk.trace.export import BatchSpanProcessor  # noqa: PLC0415

    traces_endpoint = os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or (
        endpoint.rstrip("/") + "/v1/traces"
    )
    resource = Resource.create({"service.name": service_name, **(extra_resource or {})})
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=traces_endpoint)))
    return provider


def enable_tracing(app: FastAPI, provider: "TracerProvider", *, set_global: bool = False) -> None:
    """Trace every request of ``app`` and the spans of the prediction flow with ``provider``.

    Call it before the application serves its first request.

    Args:
        app: The application to instrument.
        provider: Where spans go (an OTLP exporter, or an in-memory one in tests).
        set_global: Also make ``provider`` OpenTelemetry's global provider (once per process),
            for libraries that trace with the global one.
    """
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor  # noqa: PLC0415

    FastAPIInstrumentor.instrument_app(
        app,
        tracer_provider=provider,
        excluded_urls=EXCLUDED_URLS,
        exclude_spans=["receive", "send"],
        server_request_hook=name_by_route_template,
    )
    _state.provider = provider
    _state.tracer = provider.get_tracer(TRACER_NAME)
    if set_global:
        trace.set_tracer_provider(provider)


def name_by_route_template(span: Span, scope: Mapping[str, Any]) -> None:
    """Drop Starlette's path convertors from a request span's name and ``http.route``.

    The instrumentation names a span after the matched route's path, convertors included
    (``GET /api/v1/users/{user_id:int}``); traces, like the metrics, show the template
    ``GET /api/v1/users/{user_id}``. ``scope`` is unused (the hook's signature).
    """
    del scope
    if not span.is_recording():
        return
    name = getattr(span, "name", "")
    plain = _CONVERTOR.sub(r"{\1}", name)
    if plain != name:
        span.update_name(plain)
    attributes = getattr(span, "attributes", None) or {}
    route = attributes.get(ROUTE_ATTRIBUTE)
    if isinstance(route, str):
        span.set_attribute(ROUTE_ATTRIBUTE, _CONVERTOR.sub(r"{\1}", route))


def disable_tracing(app: FastAPI | None = None) -> None:
    """Stop recording the prediction flow's spans (and un-instrument ``app`` if given)."""
    if app is not None:
        from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor  # noqa: PLC0415

        FastAPIInstrumentor.uninstrument_app(app)
    _state.tracer = None
    _state.provider = None
