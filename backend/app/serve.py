"""Serve the API with uvicorn, with the request limits the API documents answered in JSON.

``python -m app.serve [--host H] [--port P] [--workers N] [--reload] ...`` (from ``backend/``)
runs ``app.main:app`` as ``uvicorn app.main:app`` would, with these differences:

- the HTTP protocol (:class:`app.http_protocol.ApiHttpToolsProtocol`, uvicorn's httptools
  protocol) takes the request line and headers that the API's own limits allow
  (``designation`` and ``description`` of ``MAX_TEXT_LENGTH`` characters each in the query
  string: :attr:`~app.core.config.Settings.max_request_head_bytes`), where uvicorn's cannot
  parse a URL over 64 KiB, and refuses a longer head;
- what the parser itself refuses (a request head over that size, or a request that is not
  HTTP) is answered in JSON, ``{"detail": ...}``, like every other error of the API, instead
  of uvicorn's plain-text ``Invalid HTTP request received.``;
- workers: ``--workers auto`` and a longer health check (below).
"""

import argparse
import logging
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

import uvicorn

from app.core.config import get_settings

logger = logging.getLogger(__name__)

APP: Final = "app.main:app"
PROTOCOL: Final = "app.http_protocol:ApiHttpToolsProtocol"
"""Import string of the protocol: uvicorn's worker processes import it by name."""


def uvicorn_options() -> dict[str, Any]:
    """The protocol settings every way of serving the API uses."""
    return {"http": PROTOCOL}


WORKER_HEALTHCHECK_SECONDS: Final = 60
"""How long uvicorn's supervisor waits for a worker to answer its health check (uvicorn: 5 s).

The supervisor pings every worker twice a second and kills one that does not answer in time.
A worker can only answer once it has imported the application, and only when its answering
thread gets the interpreter lock: on a loaded 2-core machine, importing the API took 2 to 4 s
and loading a model holds the lock for seconds, so with 5 s workers were killed while starting
or while loading a new version, and started again, over and over."""

AUTO: Final = "auto"
MEMORY_SHARE: Final = 0.5
"""Share of the available memory the automatic worker count may plan for."""
CORES_PER_WORKER: Final = 2
"""Cores the automatic worker count gives each worker. A worker keeps more than one core busy:
its event loop and request threads run Python, while ONNX Runtime, image decoding and the
database driver run outside the interpreter lock. On the 2-core machine (README, "Serving
performance"), a second worker served x0.85 to x1.37 the requests of one, with twice the memory
and a slower start."""


def available_memory_mb() -> float | None:
    """``MemAvailable`` of ``/proc/meminfo`` in MB (``None`` where it cannot be read)."""
    try:
        lines = Path("/proc/meminfo").read_text(encoding="ascii").splitlines()
    except OSError:
        return None
    for line in lines:
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) / 1024
    return None


def automatic_workers(cores: int, memory_mb: float | None, worker_memory_mb: int) -> int:
    """Worker processes for ``cores`` CPUs and ``memory_mb`` of available memory.

    One worker per :data:`CORES_PER_WORKER` cores, but no more than half the available memory
    holds at ``worker_memory_mb`` each; at least one.
    """
    workers = max(1, cores // CORES_PER_WORKER)
    if memory_mb is not None:
        workers = min(workers, int(memory_mb * MEMORY_SHARE // worker_memory_mb))
    return max(1, workers)


def worker_setting(value: str) -> str:
    """Validate a ``--workers`` value (``API_WORKERS``): ``auto`` or a whole number, 1 or more.

    Returns:
        ``auto``, or the number written without sign or leading zeros.

    Raises:
        ValueError: neither; its message says what is expected.
    """
    if value == AUTO:
        return value
    if value.isascii() and value.isdigit() and int(value) >= 1:
        return str(int(value))
    raise ValueError(f"a whole number of worker processes, 1 or more, or {AUTO}")


def _workers_argument(value: str) -> str:
    try:
        return worker_setting(value)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"{value!r}: expected {error}") from None


def check_workers_fit(workers: int, memory_mb: float | None, worker_memory_mb: int) -> None:
    """Refuse more workers than the available memory holds at ``worker_memory_mb`` each.

    Each worker loads the application and a model: 1,000 of them would take the machine's
    memory and let the kernel kill processes at random, the API's and others'.

    Raises:
        ValueError: what fits, for the error line.
    """
    if memory_mb is None or workers * worker_memory_mb <= memory_mb:
        return
    fits = max(1, int(memory_mb // worker_memory_mb))
    raise ValueError(
        f"--workers {workers} (API_WORKERS): at API_WORKER_MEMORY_MB={worker_memory_mb} they "
        f"need {workers * worker_memory_mb:,} MB, more than the {memory_mb:,.0f} MB available: "
        f"give at most {fits}, or {AUTO}"
    )


def worker_count(requested: str | None) -> int | None:
    """The ``--workers`` value: a number, ``auto`` (see :func:`automatic_workers`) or ``None``.

    Raises:
        ValueError: a number of workers the available memory cannot hold
            (:func:`check_workers_fit`).
    """
    if requested is None:
        return None
    worker_memory_mb = get_settings().API_WORKER_MEMORY_MB
    if requested != AUTO:
        check_workers_fit(int(requested), available_memory_mb(), worker_memory_mb)
        return int(requested)
    return automatic_workers(len(os.sched_getaffinity(0)), available_memory_mb(), worker_memory_mb)


def share_metrics_between(workers: int | None) -> None:
    """Give several workers one prometheus-client multiprocess folder, unless one is set."""
    if (workers or 1) > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="api-metrics-")


def parse_arguments(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Read the command line (the uvicorn options the project's scripts use)."""
    parser = argparse.ArgumentParser(
        prog="python -m app.serve",
        description="Serve the API (app.main:app) with uvicorn and the API's HTTP limits.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="Bind address (default 127.0.0.1).")
    parser.add_argument("--port", type=int, default=None, help="Port (default BACKEND_PORT).")
    parser.add_argument(
        "--workers",
        type=_workers_argument,
        default=None,
        help=f"Worker processes: a number, or auto (one per {CORES_PER_WORKER} cores, within "
        "half the available memory at API_WORKER_MEMORY_MB each). Default: one.",
    )
    parser.add_argument("--reload", action="store_true", help="Restart on code changes.")
    parser.add_argument(
        "--reload-dir", action="append", default=None, help="Folder to watch (repeatable)."
    )
    parser.add_argument(
        "--proxy-headers",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="Trust X-Forwarded-* headers from --forwarded-allow-ips (default: on, as uvicorn).",
    )
    parser.add_argument("--forwarded-allow-ips", default=None, help="Proxies to trust.")
    parser.add_argument(
        "--timeout-graceful-shutdown", type=int, default=None, help="Seconds to finish requests."
    )
    parser.add_argument("--log-level", default=None, help="uvicorn's log level.")
    parser.add_argument(
        "--access-log",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="One log line per request (default: on, as uvicorn; 0.06-0.1 ms per request here).",
    )
    parser.add_argument(
        "--timeout-worker-healthcheck",
        type=int,
        default=WORKER_HEALTHCHECK_SECONDS,
        help="Seconds a worker may take to answer the supervisor's health check before it is "
        f"killed and replaced (default {WORKER_HEALTHCHECK_SECONDS}; uvicorn's is 5).",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    """Serve until interrupted."""
    arguments = parse_arguments(argv)
    try:
        workers = worker_count(arguments.workers)
    except ValueError as error:
        print(f"error: {error}.", file=sys.stderr)
        raise SystemExit(2) from None
    share_metrics_between(workers)
    uvicorn.run(
        APP,
        host=arguments.host,
        port=arguments.port or get_settings().BACKEND_PORT,
        workers=workers,
        reload=arguments.reload,
        reload_dirs=arguments.reload_dir,
        proxy_headers=arguments.proxy_headers,
        forwarded_allow_ips=arguments.forwarded_allow_ips,
        timeout_graceful_shutdown=arguments.timeout_graceful_shutdown,
        log_level=arguments.log_level,
        access_log=arguments.access_log,
        timeout_worker_healthcheck=arguments.timeout_worker_healthcheck,
        **uvicorn_options(),
    )


if __name__ == "__main__":
    main()
