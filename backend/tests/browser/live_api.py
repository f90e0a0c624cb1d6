"""Run the real API (uvicorn in subprocesses, on free loopback ports) for the browser tests."""

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx

from product_classifier.paths import REPOSITORY_ROOT

BACKEND_DIR = REPOSITORY_ROOT / "backend"
STARTUP_TIMEOUT_SECONDS = 180.0
STOP_TIMEOUT_SECONDS = 15.0


class LiveApiError(RuntimeError):
    """The API did not start, or stopped while starting."""


@dataclass(frozen=True)
class LiveApi:
    """A running API: where to reach it and where its log goes."""

    base_url: str
    log_path: Path

    @property
    def api_url(self) -> str:
        """The versioned API root, e.g. ``http://127.0.0.1:PORT/api/v1``."""
        return f"{self.base_url}/api/v1"

    def log_tail(self, characters: int = 4000) -> str:
        """Return the end of the server log (for failure messages)."""
        return self.log_path.read_text(errors="replace")[-characters:]


@dataclass(frozen=True)
class ServerSpec:
    """How to start one server: its settings, its log file, the route that says it is ready,
    its number of worker processes and uvicorn's log level."""

    environment: Mapping[str, str]
    log_path: Path
    ready_path: str = "/health/ready"
    workers: int = 1
    log_level: str = "warning"


def free_port() -> int:
    """Return a loopback TCP port that nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_until_ready(
    process: subprocess.Popen[bytes], api: LiveApi, ready_path: str, deadline: float
) -> None:
    timeout = deadline - time.monotonic()
    last_error = "no answer yet"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise LiveApiError(
                f"uvicorn exited with code {process.returncode} while starting:\n{api.log_tail()}"
            )
        try:
            response = httpx.get(api.api_url + ready_path, timeout=2.0)
            if response.status_code == httpx.codes.OK:
                return
            last_error = f"{response.status_code} {response.text[:300]}"
        except httpx.TransportError as error:
            last_error = repr(error)
        time.sleep(0.25)
    raise LiveApiError(
        f"The API did not answer {ready_path} within {timeout:.0f} s "
        f"({last_error}):\n{api.log_tail()}"
    )


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=STOP_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _start(spec: ServerSpec, log: IO[bytes]) -> tuple[subprocess.Popen[bytes], LiveApi]:
    port = free_port()
    api = LiveApi(base_url=f"http://127.0.0.1:{port}", log_path=spec.log_path)
    env = {**os.environ, **spec.environment, "BACKEND_PORT": str(port), "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "app.serve", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--workers", str(spec.workers), "--log-level", spec.log_level]
    process = subprocess.Popen(
        command,
        cwd=BACKEND_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    return process, api


@contextmanager
def run_live_apis(
    specs: Mapping[str, ServerSpec], startup_timeout: float = STARTUP_TIMEOUT_SECONDS
) -> Iterator[dict[str, LiveApi]]:
    """Start one ``python -m app.serve`` (uvicorn) per spec, all at once; stop them all afterwards.

    Each server gets our environment plus its spec's; they start in parallel so that their
    start-up times overlap.

    Args:
        specs: The servers to run, by name.
        startup_timeout: Seconds for all of them to answer their ready route.

    Yields:
        The running servers, by name, once each answers its ready route.

    Raises:
        LiveApiError: A server exited or did not answer in time (its log is in the message).
    """
    with ExitStack() as stack:
        started: dict[str, tuple[subprocess.Popen[bytes], LiveApi, str]] = {}
        for name, spec in specs.items():
            spec.log_path.parent.mkdir(parents=True, exist_ok=True)
            log = stack.enter_context(spec.log_path.open("wb"))
            process, api = _start(spec, log)
            stack.callback(_stop, process)
            started[name] = (process, api, spec.ready_path)
        deadline = time.monotonic() + startup_timeout
        for process, api, ready_path in started.values():
            _wait_until_ready(process, api, ready_path, deadline)
        yield {name: api for name, (_, api, _) in started.items()}
