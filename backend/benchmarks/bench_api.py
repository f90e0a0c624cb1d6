"""Benchmark ``POST /predict/`` through uvicorn against the bare in-process model call.

Starts uvicorn on 127.0.0.1 (a free port) with a temporary SQLite database (or
``--database-url``), serving ``MODEL_NAME@MODEL_ALIAS`` from the configured MLflow store, then
drives ``/predict/`` with N concurrent keep-alive clients (httpx), text only and text + image.
The same model version is loaded in this process and called directly, with the same products,
to measure the bare model call. Prints median and p95 latency and requests per second, and the
API overhead at concurrency 1 (target: API p50 - bare p50 < 5 ms for text only; auth,
validation, image decoding and the database write are in the API's figure).

Usage (from backend/, with a model registered, e.g. after ./scripts/start.sh)::

    python -m benchmarks.bench_api --model-name text --requests 200 --concurrency 1 4
"""

import argparse
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Final

import httpx
from tqdm import tqdm

if TYPE_CHECKING:
    from app.core.config import Settings

BACKEND_DIR: Final = Path(__file__).resolve().parents[1]
DESIGNATION: Final = "Guillaume Le Maréchal Tome 1 - Le Chevalier D'aliénor"
DESCRIPTION: Final = "L'histoire oubliée du meilleur chevalier du monde... 1167, duché de Normandie"
TARGET_OVERHEAD_MS: Final = 5.0


@dataclass(frozen=True)
class Stats:
    """Latency figures of one scenario."""

    label: str
    concurrency: int
    count: int
    p50_ms: float
    p95_ms: float
    per_second: float
    cpu_ms: float
    """CPU time per request of the process doing the work (all its threads)."""


def summarise(
    label: str, concurrency: int, latencies: list[float], wall: float, cpu: float
) -> Stats:
    """Median, 95th percentile (ms), throughput and CPU per request, from seconds."""
    ordered = sorted(latencies)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return Stats(
        label,
        concurrency,
        len(ordered),
        statistics.median(ordered) * 1000,
        p95 * 1000,
        len(ordered) / wall,
        cpu / len(ordered) * 1000,
    )


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and all its threads (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    """Return a TCP port free on the loopback interface."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def sample_jpeg() -> bytes:
    """A real product picture when the sample is there, else a generated colour JPEG."""
    from product_classifier.paths import REAL_SAMPLE_DIR  # noqa: PLC0415

    images = sorted((REAL_SAMPLE_DIR / "images").glob("*.jpg"))
    if images:
        return images[0].read_bytes()
    import io  # noqa: PLC0415

    from PIL import Image  # noqa: PLC0415

    buffer = io.BytesIO()
    Image.radial_gradient("L").convert("RGB").resize((500, 500)).save(buffer, format="JPEG")
    return buffer.getvalue()


def bare_model(name: str, version: str, alias: str, jpeg: bytes) -> Callable[[str], None]:
    """Load the model in this process; return a function calling it on one product."""
    import io  # noqa: PLC0415

    from PIL import Image  # noqa: PLC0415

    from app.serving.model_server import load_model_version  # noqa: PLC0415
    from product_classifier.serving.contract import ProductInput  # noqa: PLC0415

    served = load_model_version(name, version, alias)
    image = Image.open(io.BytesIO(jpeg)).convert("RGB")
    products = {
        "text": ProductInput(designation=DESIGNATION, description=DESCRIPTION),
        "text+image": ProductInput(designation=DESIGNATION, description=DESCRIPTION, image=image),
    }

    def call(label: str) -> None:
        served.predict([products[label]])

    return call


def measure_bare(call: Callable[[str], None], label: str, count: int) -> Stats:
    """Time ``count`` sequential bare model calls (after a warm-up)."""
    for _ in range(10):
        call(label)
    latencies = []
    started, cpu = time.perf_counter(), process_cpu_seconds(os.getpid())
    for _ in tqdm(range(count), desc=f"bare {label}", leave=False):
        begin = time.perf_counter()
        call(label)
        latencies.append(time.perf_counter() - begin)
    cpu = process_cpu_seconds(os.getpid()) - cpu
    return summarise(f"bare {label}", 1, latencies, time.perf_counter() - started, cpu)


def drive(
    base_url: str,
    headers: dict[str, str],
    send: Callable[[httpx.Client], httpx.Response],
    *,
    server_pid: int,
    label: str,
    concurrency: int,
    count: int,
) -> Stats:
    """Send ``count`` requests from ``concurrency`` keep-alive clients; time each one."""
    latencies: list[float] = []
    lock = threading.Lock()
    remaining = [count]
    progress = tqdm(total=count, desc=f"api {label} x{concurrency}", leave=False)

    def worker() -> None:
        with httpx.Client(base_url=base_url, headers=headers, timeout=60) as client:
            for _ in range(3):
                send(client).raise_for_status()
            while True:
                with lock:
                    if remaining[0] == 0:
                        return
                    remaining[0] -= 1
                begin = time.perf_counter()
                response = send(client)
                elapsed = time.perf_counter() - begin
                response.raise_for_status()
                with lock:
                    latencies.append(elapsed)
                    progress.update()

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    started, cpu = time.perf_counter(), process_cpu_seconds(server_pid)
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    cpu = process_cpu_seconds(server_pid) - cpu
    progress.close()
    # The warm-up requests of each client ran in the measured window: count them for CPU.
    return summarise(
        f"api {label}", concurrency, latencies, wall, cpu * count / (count + 3 * concurrency)
    )


def wait_ready(base_url: str, server: subprocess.Popen[bytes], timeout: float = 180) -> None:
    """Wait until ``/health/ready`` answers 200 (the model is loaded)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"uvicorn exited with status {server.returncode}")
        try:
            if httpx.get(f"{base_url}/api/v1/health/ready", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"The API was not ready after {timeout:.0f} s")


def prepare(settings: "Settings") -> tuple[str, str, dict[str, str]]:
    """Resolve the served version, migrate the database, return a bearer token's headers.

    Returns:
        The MLflow tracking URI, the model version and the authorization headers.
    """
    from app.core.security import create_access_token  # noqa: PLC0415
    from app.db.init_db import migrate, seed_first_admin  # noqa: PLC0415
    from app.db.session import create_db_engine, create_session_factory  # noqa: PLC0415
    from app.serving.model_server import ModelServer  # noqa: PLC0415

    tracking_uri = settings.configure_mlflow()
    resolver = ModelServer(
        tracking_uri=tracking_uri,
        model_name=settings.MODEL_NAME,
        model_alias=settings.MODEL_ALIAS,
        reload_interval=3600,
    )
    target = resolver.resolve_alias()
    if target is None:
        raise SystemExit(f"No model registered as {settings.model_uri}: train and promote one.")
    migrate(settings.database_url)
    engine = create_db_engine(settings.database_url)
    admin = seed_first_admin(create_session_factory(engine), settings)
    engine.dispose()
    token = create_access_token(admin.id, settings.SECRET_KEY, timedelta(hours=1))
    return tracking_uri, target[0], {"Authorization": f"Bearer {token}"}


def start_server(
    settings: "Settings", tracking_uri: str, backend_dir: Path = BACKEND_DIR
) -> tuple[subprocess.Popen[bytes], str]:
    """Start uvicorn on a free loopback port; return the process and its base URL.

    ``backend_dir`` is the ``backend/`` whose ``app`` is served (another checkout's, to compare).
    """
    port = free_port()
    env = {
        **os.environ,
        "SQLALCHEMY_DATABASE_URI": settings.database_url,
        "MODEL_NAME": settings.MODEL_NAME,
        "MODEL_ALIAS": settings.MODEL_ALIAS,
        "MLFLOW_TRACKING_URI": tracking_uri,
        "LOG_LEVEL": "WARNING",
    }
    command = [sys.executable, "-m", "uvicorn", "app.main:app", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--no-access-log", "--log-level", "warning"]
    server = subprocess.Popen(command, cwd=backend_dir, env=env)  # noqa: S603 - our own app
    return server, f"http://127.0.0.1:{port}"


def api_senders(jpeg: bytes) -> dict[str, Callable[[httpx.Client], httpx.Response]]:
    """Request makers for ``/predict/``: text only, and text + image."""
    text_params = {"designation": DESIGNATION, "description": DESCRIPTION}

    def send_text(client: httpx.Client) -> httpx.Response:
        return client.post("/api/v1/predict/", params=text_params)

    def send_image(client: httpx.Client) -> httpx.Response:
        files = {"image": ("product.jpg", jpeg, "image/jpeg")}
        return client.post("/api/v1/predict/", params=text_params, files=files)

    return {"text": send_text, "text+image": send_image}


def best(rounds: list[Stats]) -> Stats:
    """The round with the lowest median (the least disturbed by other processes)."""
    return min(rounds, key=lambda stats: stats.p50_ms)


def measure(
    call: Callable[[str], None],
    *,
    server: subprocess.Popen[bytes],
    base_url: str,
    headers: dict[str, str],
    jpeg: bytes,
    args: argparse.Namespace,
) -> list[Stats]:
    """Bare and API figures; at concurrency 1 they alternate, round after round."""
    senders = api_senders(jpeg)
    rows = []
    for label, send in senders.items():
        bare_rounds, api_rounds = [], []
        for _ in range(args.rounds):
            bare_rounds.append(measure_bare(call, label, args.requests))
            api_rounds.append(
                drive(
                    base_url,
                    headers,
                    send,
                    server_pid=server.pid,
                    label=label,
                    concurrency=1,
                    count=args.requests,
                )
            )
        rows += [best(bare_rounds), best(api_rounds)]
    for concurrency in (c for c in args.concurrency if c > 1):
        for label, send in senders.items():
            rows.append(
                drive(
                    base_url,
                    headers,
                    send,
                    server_pid=server.pid,
                    label=label,
                    concurrency=concurrency,
                    count=args.requests,
                )
            )
    return rows


def report(rows: list[Stats]) -> None:
    """Print the figures and the overhead of the API over the bare call."""
    header = f"{'scenario':<18}{'clients':>8}{'n':>6}{'p50 ms':>9}{'p95 ms':>9}{'req/s':>9}"
    print(f"\n{header}{'CPU ms/req':>12}")
    for row in rows:
        print(
            f"{row.label:<18}{row.concurrency:>8}{row.count:>6}"
            f"{row.p50_ms:>9.2f}{row.p95_ms:>9.2f}{row.per_second:>9.1f}{row.cpu_ms:>12.2f}"
        )
    print()
    for label in ("text", "text+image"):
        bare = next(row for row in rows if row.label == f"bare {label}")
        api = next(r for r in rows if r.label == f"api {label}" and r.concurrency == 1)
        overhead = api.p50_ms - bare.p50_ms
        verdict = ""
        if label == "text":
            verdict = " (target < 5 ms): " + ("OK" if overhead < TARGET_OVERHEAD_MS else "OVER")
        print(
            f"{label}, 1 client: API p50 - bare p50 = {overhead:.2f} ms{verdict}; "
            f"CPU per request: API - bare = {api.cpu_ms - bare.cpu_ms:.2f} ms"
        )
    print("Load average (1, 5, 15 min) at the end: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-name", help="registered model to serve (default: MODEL_NAME)")
    parser.add_argument("--model-alias", help="alias to serve (default: MODEL_ALIAS)")
    parser.add_argument("--requests", type=int, default=200, help="requests per scenario")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 4])
    parser.add_argument(
        "--rounds", type=int, default=3, help="alternated bare/API rounds at concurrency 1"
    )
    parser.add_argument("--database-url", help="application database (default: temp SQLite)")
    args = parser.parse_args(argv)

    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    # A real key: the placeholder would make PyJWT warn on every request of the server.
    os.environ["SECRET_KEY"] = secrets.token_urlsafe(32)
    from app.core.config import Settings  # noqa: PLC0415

    workdir = Path(tempfile.mkdtemp(prefix="bench-api-"))
    overrides: dict[str, object] = {
        "SQLALCHEMY_DATABASE_URI": args.database_url or f"sqlite:///{workdir / 'bench.db'}"
    }
    if args.model_name:
        overrides["MODEL_NAME"] = args.model_name
    if args.model_alias:
        overrides["MODEL_ALIAS"] = args.model_alias
    settings = Settings(**overrides)  # type: ignore[arg-type]
    tracking_uri, version, headers = prepare(settings)
    jpeg = sample_jpeg()

    print("Load average (1, 5, 15 min) at the start: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    print(
        f"Model {settings.MODEL_NAME} version {version}; {args.requests} requests per run; "
        f"concurrency 1: best median of {args.rounds} alternated rounds."
    )
    call = bare_model(settings.MODEL_NAME, version, settings.MODEL_ALIAS, jpeg)
    server, base_url = start_server(settings, tracking_uri)
    try:
        wait_ready(base_url, server)
        rows = measure(
            call, server=server, base_url=base_url, headers=headers, jpeg=jpeg, args=args
        )
    finally:
        server.terminate()
        server.wait(30)
    report(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
