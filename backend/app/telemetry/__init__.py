"""Telemetry of the API: OpenTelemetry traces and Prometheus metrics.

:func:`setup_telemetry` is what :func:`app.main.create_app` calls: it always adds the request
metrics middleware; it turns tracing on only when ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set
(otherwise the spans of the prediction flow are no-ops). The ``GET /metrics`` route is wired by
the application factory (:mod:`app.api.metrics`): this package only instruments.
"""

from fastapi import FastAPI

from app.core.config import Settings
from app.telemetry.metrics import RequestMetricsMiddleware
from app.telemetry.tracing import enable_tracing, otlp_tracer_provider


def setup_telemetry(app: FastAPI, settings: Settings) -> None:
    """Count and time every request of ``app``; trace it when an OTLP endpoint is set.

    Call it once per application, after the other middlewares (the metrics middleware then
    sees every answer, 413s of the body limit included).
    """
    app.add_middleware(RequestMetricsMiddleware)
    if settings.OTEL_EXPORTER_OTLP_ENDPOINT:
        provider = otlp_tracer_provider(
            settings.OTEL_EXPORTER_OTLP_ENDPOINT,
            settings.OTEL_SERVICE_NAME,
            {"deployment.environment.name": settings.TARGET_ENV},
        )
        enable_tracing(app, provider, set_global=True)
