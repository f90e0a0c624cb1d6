"""``scripts/start-with-telemetry.sh``: sets the OpenTelemetry variables and hands over to start.sh.

start.sh is stopped at its first check by an invalid ``TARGET_ENV``, so nothing is started.
"""

import os
import socket
import subprocess

from product_classifier.paths import REPOSITORY_ROOT

SCRIPT = REPOSITORY_ROOT / "scripts" / "start-with-telemetry.sh"


def run(endpoint: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SKIP_SYNC": "1", "TARGET_ENV": "not-an-environment"}
    env.pop("OTEL_SERVICE_NAME", None)
    env["OTEL_EXPORTER_OTLP_ENDPOINT"] = endpoint
    return subprocess.run(
        [str(SCRIPT)],
        cwd=REPOSITORY_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_warns_when_no_collector_answers_then_runs_start_sh():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # Nobody listens on the port any more.
    completed = run(f"http://127.0.0.1:{port}")
    assert f"spans to http://127.0.0.1:{port}/v1/traces" in completed.stdout
    assert "no OpenTelemetry collector answers" in completed.stderr
    # start.sh ran and refused the invalid setting.
    assert completed.returncode != 0
    assert "TARGET_ENV" in completed.stdout + completed.stderr


def test_defaults_and_no_warning_when_a_collector_listens():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        completed = run(f"http://127.0.0.1:{port}/")
    assert "no OpenTelemetry collector answers" not in completed.stderr
    assert "service product-categorisation-api" in completed.stdout
    assert f"spans to http://127.0.0.1:{port}/v1/traces" in completed.stdout
