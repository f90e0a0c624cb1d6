"""Measure the API's memory through a batch of large photos (issue 11, kind 8).

The issue's example: 32 copies of a 4000x4000 JPEG in one ``POST /predict/batch`` took the API
from 1.2 to 3.3 GB. This starts uvicorn (as :mod:`benchmarks.bench_api` does: a temporary
SQLite database, ``MODEL_NAME@MODEL_ALIAS`` from the configured MLflow store), waits for the
model, resets the server's peak memory (``/proc/PID/clear_refs``), sends the batch, and prints
the resident memory before, the peak during the request, the status and the time. ``--backend-dir``
serves another checkout's ``app`` (e.g. the commit before the change) for a before/after figure.

Usage (from backend/, with a model that reads images registered, e.g. the demo's fusion)::

    python -m benchmarks.bench_batch_memory --model-name fusion
    python -m benchmarks.bench_batch_memory --model-name fusion --backend-dir /tmp/before/backend
"""

import argparse
import base64
import io
import os
import secrets
import tempfile
import time
from pathlib import Path
from typing import Final

import httpx

from benchmarks.arguments import positive_float, positive_int
from benchmarks.bench_api import BACKEND_DIR, prepare, start_server, wait_ready

MIB: Final = 1024 * 1024


def photo_jpeg(side: int) -> bytes:
    """A photo-sized JPEG that compresses well (a gradient), so that 32 fit in 10 MiB."""
    from PIL import Image  # noqa: PLC0415

    buffer = io.BytesIO()
    picture = Image.linear_gradient("L").resize((side, side)).convert("RGB")
    picture.save(buffer, format="JPEG", quality=70)
    return buffer.getvalue()


def memory_kib(pid: int, field: str) -> int:
    """A memory figure of ``/proc/PID/status`` (``VmRSS``, ``VmHWM``), in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise KeyError(field)


def reset_peak(pid: int) -> None:
    """Make ``VmHWM`` (the peak resident memory) start again from the current one."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


def main(argv: list[str] | None = None) -> None:
    """Start the API, send the batch, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model-name", default=None, help="MODEL_NAME (default: settings)")
    parser.add_argument(
        "--images",
        metavar="N",
        type=positive_int,
        default=32,
        help="Copies of the photo (default: %(default)s).",
    )
    parser.add_argument(
        "--side",
        metavar="PX",
        type=positive_int,
        default=4000,
        help="Side of the photo in pixels (default: %(default)s).",
    )
    parser.add_argument(
        "--backend-dir",
        type=Path,
        default=BACKEND_DIR,
        help="The backend/ to serve (default: %(default)s).",
    )
    parser.add_argument(
        "--ready-timeout",
        metavar="SECONDS",
        type=positive_float,
        default=900,
        help="Seconds to wait for the model (default: %(default)s).",
    )
    arguments = parser.parse_args(argv)

    from app.core.config import Settings  # noqa: PLC0415

    state = Path(tempfile.mkdtemp(prefix="bench-batch-memory-"))
    overrides: dict[str, object] = {
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{state / 'app.db'}",
        "SECRET_KEY": secrets.token_hex(32),
    }
    if arguments.model_name:
        overrides["MODEL_NAME"] = arguments.model_name
    settings = Settings(**overrides)  # type: ignore[arg-type]
    os.environ["SECRET_KEY"] = settings.SECRET_KEY
    tracking_uri, version, headers = prepare(settings)
    photo = photo_jpeg(arguments.side)
    encoded = base64.b64encode(photo).decode()
    products = [{"designation": f"Photo {i}", "image": encoded} for i in range(arguments.images)]
    body_mib = len(encoded) * arguments.images / MIB
    server, base_url = start_server(settings, tracking_uri, arguments.backend_dir)
    try:
        wait_ready(base_url, server, arguments.ready_timeout)
        with httpx.Client(base_url=base_url, headers=headers, timeout=600) as client:
            client.post("/api/v1/predict/", params={"designation": "warm up"}).raise_for_status()
            time.sleep(1)
            before = memory_kib(server.pid, "VmRSS")
            reset_peak(server.pid)
            started = time.perf_counter()
            response = client.post("/api/v1/predict/batch", json=products)
            seconds = time.perf_counter() - started
            peak = memory_kib(server.pid, "VmHWM")
        print(
            f"{arguments.backend_dir}: {settings.MODEL_NAME} version {version}, "
            f"{arguments.images} x {arguments.side}x{arguments.side} JPEG "
            f"({len(photo) / 1024:.0f} KiB each, body {body_mib:.1f} MiB): "
            f"HTTP {response.status_code} in {seconds:.1f} s; RSS before {before / 1024:.0f} MiB, "
            f"peak during the request {peak / 1024:.0f} MiB (+{(peak - before) / 1024:.0f} MiB); "
            f"load average {os.getloadavg()[0]:.1f}"
        )
    finally:
        server.terminate()
        server.wait(120)


if __name__ == "__main__":
    main()
