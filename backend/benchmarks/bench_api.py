"""Benchmark ``POST /predict/`` beside the bare model call and ``mlflow models serve``.

In one run: the bare model call, this API (micro-batching off and on) and the original
project's architecture (the same model behind ``mlflow models serve``).

Starts, on 127.0.0.1 (free ports), with a temporary SQLite database (or ``--database-url``),
serving ``MODEL_NAME@MODEL_ALIAS`` from the configured MLflow store:

- the API as ``scripts/start.sh`` serves it (``python -m app.serve``, one worker), once with
  ``MICRO_BATCHING_ENABLED=true`` and once with ``false``;
- with ``--baseline-dir``, the API of another checkout's ``backend/`` (e.g. main's) the same
  way, to compare two builds in one run;
- with ``--workers N``, this API served by N worker processes too (micro-batching off), to
  compare with one worker in the same run;
- ``mlflow models serve -m models:/NAME@ALIAS --env-manager local --workers 1`` (the original's
  model server), called over HTTP at ``/invocations`` (``image_path`` for the image);

and loads the same version in this process for the bare call. Then, round after round, it
drives each server with N concurrent keep-alive clients (httpx; concurrency 1, 8 and 32 by
default), text only and text + image, and times the bare call on the same products (back to
back, and paced: 2 ms idle before each call, as a server at one client). Prints,
for each scenario, the median over the rounds of the median and p95 latency and of the
requests per second; the ratios (micro-batching on / off, API / mlflow serve, API p50 - bare
p50, back to back and paced); each server's start-up time (process start to first answered
prediction) and resident memory (its whole process tree, after every round); and the load
average.

Usage (from backend/, with a model registered, e.g. after ./scripts/start.sh)::

    nice -n 5 python -m benchmarks.bench_api --model-name text --requests 200 --rounds 3
"""

import argparse
import contextlib
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Final

import httpx
from tqdm import tqdm

from benchmarks.arguments import positive_int
from benchmarks.raw_load import drive_raw

if TYPE_CHECKING:
    from app.core.config import Settings

BACKEND_DIR: Final = Path(__file__).resolve().parents[1]
DESIGNATION: Final = "Guillaume Le Maréchal Tome 1 - Le Chevalier D'aliénor"
DESCRIPTION: Final = "L'histoire oubliée du meilleur chevalier du monde... 1167, duché de Normandie"
SERVER_LOGS: Final = Path(tempfile.gettempdir()) / f"bench-api-logs-{os.getpid()}"
"""Where the APIs started by :func:`start_api` write their output (one file per port)."""


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


def print_load_average(moment: str) -> None:
    """Print the 1, 5 and 15 minute load averages, e.g. at the ``start`` or ``end`` of a run."""
    one, five, fifteen = os.getloadavg()
    print(f"Load average (1, 5, 15 min) at the {moment}: {one:.2f} {five:.2f} {fifteen:.2f}")


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


def process_tree(pid: int) -> list[int]:
    """``pid`` and all its descendants (Linux ``/proc``)."""
    pids, index = [pid], 0
    while index < len(pids):
        for task in Path(f"/proc/{pids[index]}/task").glob("*/children"):
            pids += [int(child) for child in task.read_text().split()]
        index += 1
    return pids


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process tree and all its threads (Linux ``/proc``)."""
    total = 0.0
    for member in process_tree(pid):
        try:
            fields = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def resident_mb(pid: int) -> list[float]:
    """Resident memory (MB) of each process of the tree rooted at ``pid``."""
    sizes = []
    for member in process_tree(pid):
        try:
            status = Path(f"/proc/{member}/status").read_text()
        except FileNotFoundError:
            continue
        kilobytes = next(
            (int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), 0
        )
        sizes.append(kilobytes / 1024)
    return sizes


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

    from app.inference.model_server import load_model_version  # noqa: PLC0415
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


PACE_SECONDS: Final = 0.002
"""Idle time between the calls of the paced bare scenario (as between a server's requests)."""


def measure_bare(
    call: Callable[[str], None], label: str, count: int, *, pause: float = 0.0
) -> Stats:
    """Time ``count`` sequential bare model calls (after a warm-up).

    With ``pause`` (seconds), the process sleeps that long before each call, as a server
    waits for its next request at one client: the call then starts with colder CPU caches
    (on this project's 2-core VM, about twice the back-to-back time). That scenario is named
    ``paced bare LABEL``; its requests per second count the calls alone.
    """
    name = f"paced bare {label}" if pause else f"bare {label}"
    for _ in range(10):
        call(label)
    latencies = []
    cpu = process_cpu_seconds(os.getpid())
    for _ in tqdm(range(count), desc=name, leave=False):
        if pause:
            time.sleep(pause)
        begin = time.perf_counter()
        call(label)
        latencies.append(time.perf_counter() - begin)
    cpu = process_cpu_seconds(os.getpid()) - cpu
    return summarise(name, 1, latencies, sum(latencies), cpu)


def drive(
    base_url: str,
    headers: dict[str, str],
    build: "Builder",
    *,
    server_pid: int,
    label: str,
    concurrency: int,
    count: int,
    raw: bool = False,
) -> Stats:
    """Send ``count`` requests from ``concurrency`` keep-alive clients; time each one.

    The clients are httpx clients in threads, or with ``raw`` the connections of
    :func:`benchmarks.raw_load.drive_raw` (a lighter load generator).
    """
    if raw:
        with httpx.Client(base_url=base_url, headers=headers) as client:
            request = build(client)
        started, cpu = time.perf_counter(), process_cpu_seconds(server_pid)
        latencies = drive_raw(request, concurrency, count)
        wall = time.perf_counter() - started
        cpu = process_cpu_seconds(server_pid) - cpu
        warmed = cpu * count / (count + 3 * concurrency)  # the warm-ups ran in the window
        return summarise(label, concurrency, latencies, wall, warmed)
    latencies = []
    lock = threading.Lock()
    remaining = [count]
    progress = tqdm(total=count, desc=f"api {label} x{concurrency}", leave=False)

    def send(client: httpx.Client) -> httpx.Response:
        return client.send(build(client))

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
    return summarise(label, concurrency, latencies, wall, cpu * count / (count + 3 * concurrency))


Builder = Callable[[httpx.Client], httpx.Request]
"""Builds one request to send (with the client's base URL and headers)."""
Starter = Callable[["Settings", str], tuple[subprocess.Popen[bytes], str]]


@dataclass
class Target:
    """A server under test: its process, base URL, request makers and start-up time."""

    name: str
    process: subprocess.Popen[bytes]
    base_url: str
    senders: dict[str, Builder]
    headers: dict[str, str]
    started_at: float = field(default_factory=time.monotonic)
    startup_seconds: float = float("nan")


def wait_first_answer(target: Target, timeout: float = 300) -> None:
    """Poll the text request until it answers 200; record the start-up time."""
    started = time.monotonic()
    deadline = started + timeout
    build = target.senders["text"]
    with httpx.Client(base_url=target.base_url, headers=target.headers, timeout=10) as client:
        while time.monotonic() < deadline:
            if target.process.poll() is not None:
                raise SystemExit(
                    f"{target.name} exited with status {target.process.returncode} "
                    f"(API output in {SERVER_LOGS})"
                )
            try:
                if client.send(build(client)).status_code == 200:
                    target.startup_seconds = time.monotonic() - target.started_at
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
    raise SystemExit(f"{target.name} did not answer a prediction after {timeout:.0f} s")


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


def server_environment(settings: "Settings", tracking_uri: str, **extra: str) -> dict[str, str]:
    """This process's environment with the API settings of ``settings`` (and ``extra``) set."""
    return {
        **os.environ,
        "SQLALCHEMY_DATABASE_URI": settings.database_url,
        "MODEL_NAME": settings.MODEL_NAME,
        "MODEL_ALIAS": settings.MODEL_ALIAS,
        "MLFLOW_TRACKING_URI": tracking_uri,
        "LOG_LEVEL": "WARNING",
        **extra,
    }


def start_server(
    settings: "Settings", tracking_uri: str, backend_dir: Path = BACKEND_DIR
) -> tuple[subprocess.Popen[bytes], str]:
    """Start uvicorn on a free loopback port; return the process and its base URL.

    ``backend_dir`` is the ``backend/`` whose ``app`` is served (another checkout's, to compare).
    """
    port = free_port()
    env = server_environment(settings, tracking_uri)
    command = [sys.executable, "-m", "uvicorn", "app.main:app", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--no-access-log", "--log-level", "warning"]
    server = subprocess.Popen(command, cwd=backend_dir, env=env)  # noqa: S603 - our own app
    return server, f"http://127.0.0.1:{port}"


def prepare(settings: "Settings") -> tuple[str, str, dict[str, str]]:
    """Resolve the served version, migrate the database, return a bearer token's headers.

    Returns:
        The MLflow tracking URI, the model version and the authorization headers.
    """
    from app.core.security import create_access_token  # noqa: PLC0415
    from app.db.init_db import migrate, seed_first_admin  # noqa: PLC0415
    from app.db.session import create_db_engine, create_session_factory  # noqa: PLC0415
    from app.inference.model_server import ModelServer  # noqa: PLC0415

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
    if admin is None:
        raise SystemExit(
            f"{settings.FIRST_ADMINUSER} does not exist in {settings.database_url}, whose "
            "administrators have other e-mails: set FIRST_ADMINUSER to one of them."
        )
    token = create_access_token(admin.id, settings.SECRET_KEY, timedelta(hours=1))
    return tracking_uri, target[0], {"Authorization": f"Bearer {token}"}


def start_api(
    settings: "Settings",
    tracking_uri: str,
    *,
    micro_batching: bool,
    backend_dir: Path = BACKEND_DIR,
    workers: int = 1,
) -> tuple[subprocess.Popen[bytes], str]:
    """Start the API as start.sh does (``python -m app.serve``) on a free loopback port.

    Its log level is uvicorn's default, as with start.sh (an access log line per request), and
    its output goes to ``api-PORT.log`` in :data:`SERVER_LOGS`.
    ``backend_dir`` is the ``backend/`` whose ``app`` is served (another checkout's, to compare);
    ``workers`` is the number of uvicorn worker processes.

    Returns:
        The process and its base URL.
    """
    port = free_port()
    env = server_environment(
        settings, tracking_uri, MICRO_BATCHING_ENABLED=str(micro_batching).lower()
    )
    env["LOG_LEVEL"] = "INFO"  # the settings' default, as start.sh leaves it
    command = [sys.executable, "-m", "app.serve", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--workers", str(workers)]
    SERVER_LOGS.mkdir(parents=True, exist_ok=True)
    with (SERVER_LOGS / f"api-{port}.log").open("ab") as log:
        server = subprocess.Popen(  # noqa: S603 - our own app
            command,
            cwd=backend_dir,
            env=env,
            start_new_session=True,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    return server, f"http://127.0.0.1:{port}"


def start_mlflow_serve(
    settings: "Settings", tracking_uri: str
) -> tuple[subprocess.Popen[bytes], str]:
    """Start ``mlflow models serve`` on the same version, as the original project serves it."""
    port = free_port()
    # MLflow starts ``uvicorn`` by name: the environment's bin/ must be on the PATH.
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    env = {**os.environ, "MLFLOW_TRACKING_URI": tracking_uri, "PATH": path}
    command = [sys.executable, "-m", "mlflow", "models", "serve", "-m", settings.model_uri]
    command += ["--env-manager", "local", "--workers", "1", "-h", "127.0.0.1", "-p", str(port)]
    server = subprocess.Popen(  # noqa: S603 - MLflow's own server
        command,
        cwd=BACKEND_DIR.parent / "datascience",
        env=env,
        stdout=subprocess.DEVNULL,
        start_new_session=True,
    )
    return server, f"http://127.0.0.1:{port}"


def api_senders(jpeg: bytes) -> dict[str, Builder]:
    """Request makers for this API's ``/predict/``: text only, and text + image."""
    text_params = {"designation": DESIGNATION, "description": DESCRIPTION}

    def send_text(client: httpx.Client) -> httpx.Request:
        return client.build_request("POST", "/api/v1/predict/", params=text_params)

    def send_image(client: httpx.Client) -> httpx.Request:
        files = {"image": ("product.jpg", jpeg, "image/jpeg")}
        return client.build_request("POST", "/api/v1/predict/", params=text_params, files=files)

    return {"text": send_text, "text+image": send_image}


def mlflow_senders(image_path: Path) -> dict[str, Builder]:
    """Request makers for ``mlflow models serve``'s ``/invocations`` (one product each)."""

    def invocation(path: str) -> Builder:
        record = {"designation": DESIGNATION, "description": DESCRIPTION, "image_path": path}
        body = {"dataframe_records": [record]}
        return lambda client: client.build_request("POST", "/invocations", json=body)

    return {"text": invocation(""), "text+image": invocation(str(image_path))}


def median_stats(rounds: list[Stats]) -> Stats:
    """The median of each figure over the rounds of one scenario."""
    return Stats(
        rounds[0].label,
        rounds[0].concurrency,
        sum(stats.count for stats in rounds),
        statistics.median(stats.p50_ms for stats in rounds),
        statistics.median(stats.p95_ms for stats in rounds),
        statistics.median(stats.per_second for stats in rounds),
        statistics.median(stats.cpu_ms for stats in rounds),
    )


def run_rounds(
    call: Callable[[str], None], targets: list[Target], args: argparse.Namespace
) -> list[Stats]:
    """Every scenario once per round: bare, then each server and load.

    The servers take turns in the opposite order every other round, so that no server always
    runs right after the same one (one server's load leaves the caches and the CPU's state to
    the next).
    """
    results: dict[tuple[str, int], list[Stats]] = {}
    for number in range(args.rounds):
        print(
            f"Round {number + 1}/{args.rounds}; load average {os.getloadavg()[0]:.2f}", flush=True
        )
        for label in ("text", "text+image"):
            for pause in (0.0, PACE_SECONDS):
                stats = measure_bare(call, label, args.requests, pause=pause)
                results.setdefault((stats.label, 1), []).append(stats)
        in_turn = targets if number % 2 == 0 else targets[::-1]
        for concurrency in args.concurrency:
            for target in in_turn:
                for label, send in target.senders.items():
                    stats = drive(
                        target.base_url,
                        target.headers,
                        send,
                        server_pid=target.process.pid,
                        label=f"{target.name} {label}",
                        concurrency=concurrency,
                        count=args.requests,
                        raw=args.client == "raw",
                    )
                    results.setdefault((stats.label, concurrency), []).append(stats)
    return [median_stats(rounds) for rounds in results.values()]


def find(rows: list[Stats], label: str, concurrency: int) -> Stats | None:
    """The figures of one scenario, if it ran."""
    return next((r for r in rows if r.label == label and r.concurrency == concurrency), None)


def throughput_ratios(rows: list[Stats], label: str, concurrency: int, workers: int) -> list[str]:
    """``"batching on/off x1.23"`` and the like, for the scenarios of one load that ran."""
    pairs = [
        (API_ON, API_OFF, "batching on/off"),
        (API_ON, MLFLOW, "API (on)/mlflow serve"),
        (API_OFF, BASE_OFF, "this/baseline (off)"),
        (API_ON, BASE_ON, "this/baseline (on)"),
        (BASE_ON, BASE_OFF, "baseline on/off"),
        (api_workers_label(workers), API_OFF, f"{workers} workers/1 (off)"),
    ]
    parts = []
    for numerator, denominator, name in pairs:
        top = find(rows, f"{numerator} {label}", concurrency)
        bottom = find(rows, f"{denominator} {label}", concurrency)
        if top and bottom:
            parts.append(f"{name} x{top.per_second / bottom.per_second:.2f}")
    return parts


def report(
    rows: list[Stats], targets: list[Target], concurrencies: list[int], workers: int = 1
) -> None:
    """Print the figures, the ratios, start-up times, memory and the load average."""
    header = f"{'scenario':<26}{'clients':>8}{'n':>6}{'p50 ms':>9}{'p95 ms':>9}{'req/s':>9}"
    print(f"\n{header}{'CPU ms/req':>12}")
    for row in rows:
        print(
            f"{row.label:<26}{row.concurrency:>8}{row.count:>6}"
            f"{row.p50_ms:>9.2f}{row.p95_ms:>9.2f}{row.per_second:>9.1f}{row.cpu_ms:>12.2f}"
        )
    print("\nRatios of requests per second (medians over the rounds):")
    for label in ("text", "text+image"):
        for concurrency in concurrencies:
            parts = throughput_ratios(rows, label, concurrency, workers)
            print(f"  {label}, {concurrency} clients: " + "; ".join(parts))
    for label in ("text", "text+image"):
        for bare_name in ("bare", "paced bare"):
            bare = find(rows, f"{bare_name} {label}", 1)
            for name in (API_ON, API_OFF, BASE_ON, BASE_OFF, api_workers_label(workers), MLFLOW):
                served = find(rows, f"{name} {label}", 1)
                if bare and served:
                    print(
                        f"{label}, 1 client: {name} p50 - {bare_name} p50 = "
                        f"{served.p50_ms - bare.p50_ms:.2f} ms "
                        f"({bare_name} p50 {bare.p50_ms:.2f} ms)"
                    )
    print("\nStart-up (process start to first answered prediction) and resident memory:")
    for target in targets:
        sizes = resident_mb(target.process.pid)
        print(
            f"  {target.name:<12} {target.startup_seconds:6.1f} s; "
            f"RSS {sum(sizes):7.1f} MB in {len(sizes)} process(es): "
            + ", ".join(f"{size:.0f}" for size in sizes)
        )
    print_load_average("end")


API_ON: Final = "api batching"
API_OFF: Final = "api alone"
MLFLOW: Final = "mlflow serve"
BASE_ON: Final = "base batching"
BASE_OFF: Final = "base alone"


def api_workers_label(workers: int) -> str:
    """The scenario name of this API served by ``workers`` processes (micro-batching off)."""
    return f"api {workers} workers"


def start_targets(
    settings: "Settings",
    tracking_uri: str,
    headers: dict[str, str],
    jpeg: bytes,
    workdir: Path,
    *,
    with_mlflow_serve: bool = True,
    baseline_dir: Path | None = None,
    workers: int = 1,
    targets: list[Target],
) -> None:
    """Start the servers one after the other (each start timed alone), into ``targets``.

    With ``baseline_dir`` (another checkout's ``backend/``), that build's API too, with
    micro-batching off and on, for before/after figures in the same run. With ``workers`` over
    one, this API with that many worker processes too (micro-batching off, the default).
    """
    image_path = workdir / "product.jpg"
    image_path.write_bytes(jpeg)
    servers: list[tuple[str, Starter, dict[str, Builder], dict[str, str]]] = [
        (API_ON, partial(start_api, micro_batching=True), api_senders(jpeg), headers),
        (API_OFF, partial(start_api, micro_batching=False), api_senders(jpeg), headers),
    ]
    if baseline_dir is not None:
        servers += [
            (
                BASE_ON,
                partial(start_api, micro_batching=True, backend_dir=baseline_dir),
                api_senders(jpeg),
                headers,
            ),
            (
                BASE_OFF,
                partial(start_api, micro_batching=False, backend_dir=baseline_dir),
                api_senders(jpeg),
                headers,
            ),
        ]
    if workers > 1:
        servers.append(
            (
                api_workers_label(workers),
                partial(start_api, micro_batching=False, workers=workers),
                api_senders(jpeg),
                headers,
            )
        )
    if with_mlflow_serve:
        servers.append((MLFLOW, start_mlflow_serve, mlflow_senders(image_path), {}))
    for name, start, senders, target_headers in servers:
        started_at = time.monotonic()
        process, base_url = start(settings, tracking_uri)
        target = Target(name, process, base_url, senders, target_headers, started_at)
        targets.append(target)
        wait_first_answer(target)
        print(f"{name}: first answer {target.startup_seconds:.1f} s after start", flush=True)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-name", help="registered model to serve (default: MODEL_NAME)")
    parser.add_argument("--model-alias", help="alias to serve (default: MODEL_ALIAS)")
    parser.add_argument(
        "--requests",
        metavar="N",
        type=positive_int,
        default=200,
        help="requests per scenario (default: %(default)s)",
    )
    parser.add_argument(
        "--concurrency",
        metavar="N",
        type=positive_int,
        nargs="+",
        default=[1, 8, 32],
        help="concurrent clients of each scenario, one scenario per value (default: 1 8 32)",
    )
    parser.add_argument(
        "--rounds",
        metavar="N",
        type=positive_int,
        default=3,
        help="rounds of every scenario (default: %(default)s)",
    )
    parser.add_argument("--database-url", help="application database (default: temp SQLite)")
    parser.add_argument(
        "--client",
        choices=("httpx", "raw"),
        default="httpx",
        help="load generator: httpx clients in threads (default, as a Python caller), or raw "
        "keep-alive connections on one event loop (benchmarks.raw_load: far less CPU per "
        "request, so that the server limits the throughput)",
    )
    parser.add_argument(
        "--skip-mlflow-serve", action="store_true", help="do not start mlflow models serve"
    )
    parser.add_argument(
        "--baseline-dir",
        type=Path,
        help="backend/ of another checkout (e.g. main's) whose API is also served, "
        "micro-batching off and on, to compare the two builds in one run (default: none)",
    )
    parser.add_argument(
        "--workers",
        metavar="N",
        type=positive_int,
        default=1,
        help="also serve this API with this many worker processes (micro-batching off), "
        "to compare with one worker in the same run (default: %(default)s, not served)",
    )
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

    print_load_average("start")
    print(
        f"Model {settings.MODEL_NAME} version {version}; {args.requests} requests per scenario "
        f"and round; {args.rounds} rounds; {args.client} clients; figures are medians over the "
        "rounds."
    )
    targets: list[Target] = []
    try:
        start_targets(
            settings,
            tracking_uri,
            headers,
            jpeg,
            workdir,
            with_mlflow_serve=not args.skip_mlflow_serve,
            baseline_dir=args.baseline_dir.resolve() if args.baseline_dir else None,
            workers=args.workers,
            targets=targets,
        )
        call = bare_model(settings.MODEL_NAME, version, settings.MODEL_ALIAS, jpeg)
        rows = run_rounds(call, targets, args)
        report(rows, targets, args.concurrency, args.workers)
    finally:
        for target in targets:  # each server and its workers: one process group per server
            with contextlib.suppress(ProcessLookupError):
                os.killpg(target.process.pid, signal.SIGTERM)
            target.process.wait(30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
