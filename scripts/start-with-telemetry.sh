#!/usr/bin/env bash
# Start the platform exactly like ./scripts/start.sh, with OpenTelemetry tracing on: every
# request of the API becomes a trace (image decoding, model inference and database write as
# child spans) exported over OTLP/HTTP to a collector such as Jaeger or SigNoz.
#
#   OTEL_EXPORTER_OTLP_ENDPOINT  collector base URL; spans go to $OTEL_EXPORTER_OTLP_ENDPOINT/v1/traces
#                                (default http://localhost:4318, the OTLP/HTTP port of Jaeger and SigNoz)
#   OTEL_SERVICE_NAME            service name shown in the collector (default product-categorisation-api)
#
# Example with Jaeger (UI on http://localhost:16686):
#   docker run --rm -d --name jaeger -p 16686:16686 -p 4318:4318 jaegertracing/all-in-one:latest
#   ./scripts/start-with-telemetry.sh
# Every other setting is that of ./scripts/start.sh (see ./scripts/start.sh --help). Prometheus
# metrics are always on, at http://127.0.0.1:$BACKEND_PORT/metrics, with or without this script.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/arguments.sh"
accept_no_arguments "$@"
export OTEL_EXPORTER_OTLP_ENDPOINT="${OTEL_EXPORTER_OTLP_ENDPOINT:-http://localhost:4318}"
export OTEL_SERVICE_NAME="${OTEL_SERVICE_NAME:-product-categorisation-api}"

# Warn (do not fail) when nothing listens at the collector address: spans would be dropped.
authority="${OTEL_EXPORTER_OTLP_ENDPOINT#*://}"
authority="${authority%%/*}"
host="${authority%:*}"
port="${authority##*:}"
if [ "$host" = "$authority" ]; then
    case "$OTEL_EXPORTER_OTLP_ENDPOINT" in
    https://*) port=443 ;;
    *) port=80 ;;
    esac
fi
if ! (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; then
    echo "warning: no OpenTelemetry collector answers at $OTEL_EXPORTER_OTLP_ENDPOINT;" \
        "traces will be dropped until one does (e.g. docker run -p 4318:4318 -p 16686:16686" \
        "jaegertracing/all-in-one)." >&2
fi
echo "Tracing on: service $OTEL_SERVICE_NAME, spans to ${OTEL_EXPORTER_OTLP_ENDPOINT%/}/v1/traces."
exec "$(dirname "${BASH_SOURCE[0]}")/start.sh"
