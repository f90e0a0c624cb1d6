"""Tracing off by default (no-op spans, no instrumentation); OTLP export when configured.

The export is checked against a real HTTP receiver on loopback, decoding what it received.
"""

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import ClassVar

import pytest
from fastapi.testclient import TestClient
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from app.main import create_app
from app.telemetry import tracing
from app.telemetry.tracing import disable_tracing, otlp_tracer_provider, start_span
from tests.conftest import make_settings


def test_without_tracing_spans_are_no_ops():
    assert not tracing.tracing_enabled()
    with start_span("anything") as span:
        assert span is None
    with tracing.inference_span("m", "1", "a", 1) as record:
        record([[{"category_id": 10, "probabilities": 100.0}]])


def test_no_endpoint_means_no_instrumentation(app_settings):
    app = create_app(app_settings)
    assert not app_settings.OTEL_EXPORTER_OTLP_ENDPOINT
    assert not getattr(app, "_is_instrumented_by_opentelemetry", False)
    assert not tracing.tracing_enabled()


class _Receiver(BaseHTTPRequestHandler):
    bodies: ClassVar[list[tuple[str, bytes]]] = []

    def do_POST(self):
        length = int(self.headers["Content-Length"])
        type(self).bodies.append((self.path, self.rfile.read(length)))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver() -> Iterator[str]:
    _Receiver.bodies = []
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _exported_spans() -> list[tuple[str, str]]:
    """(service.name, span name) of everything the receiver got on /v1/traces."""
    names = []
    for path, body in _Receiver.bodies:
        assert path == "/v1/traces"
        request = ExportTraceServiceRequest.FromString(body)
        for resource_spans in request.resource_spans:
            attributes = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    names.append((attributes["service.name"], span.name))
    return names


def test_otlp_exporter_sends_spans_over_http(receiver):
    provider = otlp_tracer_provider(receiver, "exporter-test")
    with provider.get_tracer("test").start_as_current_span("hello"):
        pass
    assert provider.force_flush(10_000)
    provider.shutdown()
    assert _exported_spans() == [("exporter-test", "hello")]


def test_endpoint_setting_turns_tracing_on(receiver, database_url):
    settings = make_settings(
        database_url,
        MODEL_NAME="nothing-registered",
        OTEL_EXPORTER_OTLP_ENDPOINT=receiver,
        OTEL_SERVICE_NAME="api-under-test",
    )
    app = create_app(settings)
    provider = tracing.tracer_provider()
    try:
        assert provider is not None
        with TestClient(app) as client:
            assert client.get("/api/v1/").status_code == 200
        assert provider.force_flush(10_000)
    finally:
        disable_tracing(app)
        if provider is not None:
            provider.shutdown()
    assert ("api-under-test", "GET /api/v1/") in _exported_spans()
