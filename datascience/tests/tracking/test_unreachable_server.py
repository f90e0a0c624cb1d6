"""A tracking server that does not answer is said in one line, at once, by every command.

MLflow itself retries a refused connection for minutes before failing with a traceback; the
commands check the server once (``GET /health``) before their first MLflow call.
"""

import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from product_classifier.tracking.setup import (
    TrackingServerUnreachableError,
    check_tracking_server,
)

DATASCIENCE = Path(__file__).resolve().parents[2]


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])  # closed again when the block ends


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A socket that accepts connections and never answers (a hung server)."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        yield f"http://127.0.0.1:{server.getsockname()[1]}"


class _NotFound(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_error(404)

    def log_message(self, *args: object) -> None:
        pass


def test_a_refused_connection_is_an_error_at_once() -> None:
    started = time.monotonic()
    with pytest.raises(TrackingServerUnreachableError, match="does not answer"):
        check_tracking_server(f"http://127.0.0.1:{_closed_port()}")
    assert time.monotonic() - started < 5


def test_a_silent_server_is_an_error_after_the_timeout(silent_server) -> None:
    with pytest.raises(TrackingServerUnreachableError, match=r"ReadTimeout within 0\.5 s"):
        check_tracking_server(silent_server, timeout=0.5)


def test_any_http_answer_counts_as_reachable() -> None:
    server = HTTPServer(("127.0.0.1", 0), _NotFound)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        check_tracking_server(f"http://127.0.0.1:{server.server_port}")
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("uri", ["sqlite:///mlflow.db", "postgresql://nobody@127.0.0.1:9/x"])
def test_database_stores_are_not_probed(uri) -> None:
    check_tracking_server(uri)


TRACKING_COMMANDS = [
    ["scripts.promote_model", "--name", "text", "--version", "1", "--alias", "staging"],
    [
        "scripts.score_catalogue",
        "--model-uri",
        "models:/text/1",
        "--input",
        "x.csv",
        "--output",
        "out",
    ],
    ["scripts.evaluate_challenger", "--challenger", "models:/text/2", "--dataset", "."],
    ["scripts.train_text_model", "--input-dir", ".", "--output-dir", "out"],
    ["scripts.bootstrap_demo"],
]
"""Every command that checks the tracking store before any work (test_tracking_database too)."""


@pytest.mark.parametrize("command", [["scripts.promote_model", "--list"], *TRACKING_COMMANDS])
def test_commands_say_it_in_one_line(tmp_path, command) -> None:
    uri = f"http://127.0.0.1:{_closed_port()}"
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", *command],
        cwd=DATASCIENCE,
        env={"MLFLOW_TRACKING_URI": uri, "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert "Traceback" not in result.stderr
    assert lines[-1] == (
        f"error: The MLflow tracking server {uri} does not answer (ConnectionError within "
        "10 s): start it, or point MLFLOW_TRACKING_URI at a running one."
    )
    assert time.monotonic() - started < 60
