"""Traces: one per request, child spans for image decoding, inference and the database write.

Spans are captured with the SDK's in-memory exporter (the export itself: test_telemetry_export).
"""

import base64
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi.testclient import TestClient
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from app.core.config import Settings
from app.main import create_app
from app.telemetry.tracing import (
    Attr,
    SpanName,
    disable_tracing,
    enable_tracing,
)
from tests.conftest import make_settings
from tests.helpers.images import image_bytes


@contextmanager
def traced_client(settings: Settings) -> Iterator[tuple[TestClient, InMemorySpanExporter]]:
    """An application of ``settings`` whose spans an in-memory exporter keeps."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    app = create_app(settings)
    enable_tracing(app, provider)
    try:
        with TestClient(app) as client:
            yield client, exporter
    finally:
        disable_tracing(app)
        provider.shutdown()


@pytest.fixture(scope="module")
def traced(app_settings, trained_text) -> Iterator[tuple[TestClient, InMemorySpanExporter]]:
    with traced_client(app_settings) as traced_app:
        yield traced_app


@pytest.fixture
def spans(traced: tuple[TestClient, InMemorySpanExporter]) -> InMemorySpanExporter:
    _, exporter = traced
    exporter.clear()
    return exporter


def _server_span(finished: tuple[ReadableSpan, ...], name: str) -> ReadableSpan:
    (span,) = [s for s in finished if s.kind == SpanKind.SERVER and s.name == name]
    return span


def _children(finished: tuple[ReadableSpan, ...], parent: ReadableSpan) -> dict[str, list[Any]]:
    children: dict[str, list[Any]] = {}
    for span in finished:
        if span.parent is not None and span.parent.span_id == parent.context.span_id:
            children.setdefault(span.name, []).append(span)
    return children


def test_prediction_with_image_has_decode_inference_and_write_spans(traced, spans, user):
    client, _ = traced
    jpeg = image_bytes("RGB", (64, 48))
    response = client.post(
        "/api/v1/predict/",
        params={"designation": "Harry Potter à l'école des sorciers", "limit": 3},
        files={"image": ("p.jpg", jpeg, "image/jpeg")},
        headers=user.headers,
    )
    assert response.status_code == 200
    top = response.json()[0]["category_id"]
    version = response.headers["X-Model-Version"]

    finished = spans.get_finished_spans()
    request = _server_span(finished, "POST /api/v1/predict/")
    assert request.parent is None
    assert {span.context.trace_id for span in finished} == {request.context.trace_id}
    children = _children(finished, request)
    assert set(children) == {SpanName.IMAGE_DECODE, SpanName.MODEL_INFERENCE, SpanName.DB_WRITE}

    (decode,) = children[SpanName.IMAGE_DECODE]
    assert decode.attributes[Attr.IMAGE_WIDTH] == 64
    assert decode.attributes[Attr.IMAGE_HEIGHT] == 48
    assert decode.attributes[Attr.IMAGE_SIZE_BYTES] == len(jpeg)

    (inference,) = children[SpanName.MODEL_INFERENCE]
    assert inference.attributes[Attr.MODEL_NAME] == "text"
    assert inference.attributes[Attr.MODEL_VERSION] == version
    assert inference.attributes[Attr.MODEL_ALIAS] == "production"
    assert inference.attributes[Attr.BATCH_SIZE] == 1
    assert inference.attributes[Attr.CATEGORY] == top
    assert tuple(inference.attributes[Attr.CATEGORIES]) == (top,)

    (write,) = children[SpanName.DB_WRITE]
    url = client.app.state.settings.database_url
    assert write.attributes[Attr.DB_SYSTEM] == (
        "sqlite" if url.startswith("sqlite") else "postgresql"
    )
    assert write.attributes[Attr.DB_TABLE] == "predictions"
    assert write.attributes[Attr.DB_ROWS] == 1
    # Steps in order: decode, then the model, then the write.
    assert decode.end_time <= inference.start_time
    assert inference.end_time <= write.start_time

    # The request's span carries the model and the category, to search traces by them.
    request_attributes = dict(request.attributes or {})
    assert request_attributes[Attr.MODEL_VERSION] == version
    assert request_attributes[Attr.CATEGORY] == top
    assert request_attributes["http.route"] == "/api/v1/predict/"


def test_batch_spans_carry_the_batch_size_and_every_category(traced, spans, user):
    client, _ = traced
    picture = base64.b64encode(image_bytes("RGB", (40, 30))).decode()
    products = [
        {"designation": "Figurine Dragon Ball", "product_id": "101"},
        {"designation": "Piscine tubulaire", "image": picture, "product_id": "102"},
    ]
    response = client.post("/api/v1/predict/batch", json=products, headers=user.headers)
    assert response.status_code == 200
    tops = [row["categories"][0]["category_id"] for row in response.json()]

    finished = spans.get_finished_spans()
    request = _server_span(finished, "POST /api/v1/predict/batch")
    children = _children(finished, request)
    assert len(children[SpanName.IMAGE_DECODE]) == 1
    (inference,) = children[SpanName.MODEL_INFERENCE]
    assert inference.attributes[Attr.BATCH_SIZE] == 2
    assert list(inference.attributes[Attr.CATEGORIES]) == tops
    assert Attr.CATEGORY not in inference.attributes
    (write,) = children[SpanName.DB_WRITE]
    assert write.attributes[Attr.DB_ROWS] == 2


def test_rejected_image_span_is_an_error_and_nothing_is_predicted(traced, spans, user):
    client, _ = traced
    response = client.post(
        "/api/v1/predict/",
        params={"designation": "x"},
        files={"image": ("p.jpg", image_bytes("L"), "image/jpeg")},
        headers=user.headers,
    )
    assert response.status_code == 400
    finished = spans.get_finished_spans()
    request = _server_span(finished, "POST /api/v1/predict/")
    children = _children(finished, request)
    assert set(children) == {SpanName.IMAGE_DECODE}
    assert children[SpanName.IMAGE_DECODE][0].status.status_code == StatusCode.ERROR


def test_scrapes_and_probes_are_not_traced(traced, spans):
    client, _ = traced
    assert client.get("/metrics").status_code == 200
    assert client.get("/api/v1/health/live").status_code == 200
    assert spans.get_finished_spans() == ()


@pytest.mark.parametrize(
    ("path", "template"),
    [
        ("/api/v1/users/{user}", "/api/v1/users/{user_id}"),
        ("/api/v1/predictions/{user}", "/api/v1/predictions/{prediction_id}"),
    ],
)
def test_request_spans_are_named_by_the_route_template(traced, spans, user, path, template):
    client, _ = traced
    client.get(path.format(user=user.id), headers=user.headers)
    (request,) = [s for s in spans.get_finished_spans() if s.kind == SpanKind.SERVER]
    # The template as the metrics show it, without Starlette's ":int" convertor.
    assert request.name == f"GET {template}"
    assert dict(request.attributes or {})["http.route"] == template


def test_a_batch_of_requests_keeps_each_request_in_its_own_trace(database_url, trained_text, user):
    """Three requests gathered into one batch: three traces, not one.

    Each request's image is decoded in its own trace; the batch's one model call and one write
    are recorded once, in the trace of the request that opened the batch.
    """
    gathered = 3
    settings = make_settings(
        database_url,
        MODEL_NAME="text",
        MODEL_ALIAS="production",
        MICRO_BATCHING_ENABLED=True,
        MICRO_BATCH_MAX_SIZE=gathered,
        MICRO_BATCH_MAX_WAIT_MS=5000,
    )
    sizes = [(64, 48), (40, 30), (32, 32)]

    def send(client: TestClient, size: tuple[int, int]) -> int:
        response = client.post(
            "/api/v1/predict/",
            params={"designation": f"Lampe de chevet {size[0]}"},
            files={"image": ("p.jpg", image_bytes("RGB", size), "image/jpeg")},
            headers=user.headers,
        )
        status: int = response.status_code
        return status

    with traced_client(settings) as (client, exporter):
        exporter.clear()
        with ThreadPoolExecutor(gathered) as pool:
            statuses = list(pool.map(lambda size: send(client, size), sizes))
        assert statuses == [200] * gathered
        finished = exporter.get_finished_spans()

    requests = [s for s in finished if s.kind == SpanKind.SERVER]
    assert len(requests) == gathered
    assert len({r.context.trace_id for r in requests}) == gathered
    owners = {}
    for request in requests:
        children = _children(finished, request)
        (decode,) = children[SpanName.IMAGE_DECODE]
        decoded = dict(decode.attributes)
        owners[(decoded[Attr.IMAGE_WIDTH], decoded[Attr.IMAGE_HEIGHT])] = request.context.trace_id
        assert {s.context.trace_id for s in children[SpanName.IMAGE_DECODE]} == {
            request.context.trace_id
        }
    assert sorted(owners) == sorted(sizes)
    (inference,) = [s for s in finished if s.name == SpanName.MODEL_INFERENCE]
    (write,) = [s for s in finished if s.name == SpanName.DB_WRITE]
    assert dict(inference.attributes or {})[Attr.BATCH_SIZE] == gathered
    assert dict(write.attributes or {})[Attr.DB_ROWS] == gathered
    # The shared steps belong to one of the requests' traces, under its request span.
    assert inference.parent is not None
    assert write.parent is not None
    first = next(r for r in requests if r.context.span_id == inference.parent.span_id)
    assert write.parent.span_id == first.context.span_id
    assert inference.context.trace_id == write.context.trace_id == first.context.trace_id
