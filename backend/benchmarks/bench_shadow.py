"""Benchmark what the challenger's shadow costs the caller of ``POST /predict/``.

Starts two uvicorn servers on the same model and a temporary SQLite database each (or
``--database-url``): one without a challenger (``MODEL_CHALLENGER_ALIAS`` empty) and one with
``MODEL_NAME@--challenger-alias`` in shadow. Then, round after round, drives both alternately
with N concurrent keep-alive clients (text only, and text + image), so that both see the same
machine load. Prints each side's median and p95 latency (median over rounds), the ratios
shadow on / off, and what the shadow did (``/metrics``: stored, failed, dropped).

A version must hold the challenger alias (``promote_model --alias challenger``).

Usage (from backend/)::

    python -m benchmarks.bench_shadow --model-name text --requests 100 --rounds 3
"""

import argparse
import os
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Final

import httpx

from benchmarks.arguments import positive_int
from benchmarks.bench_api import (
    Stats,
    api_senders,
    drive,
    prepare,
    print_load_average,
    sample_jpeg,
    start_server,
    wait_ready,
)

MODES: Final = ("off", "on")
SHADOW_COUNTERS: Final = re.compile(
    r'^(shadow_predictions_total\{.*outcome="(\w+)".*\}|shadow_requests_dropped_total) (\S+)$',
    re.MULTILINE,
)


def shadow_counts(base_url: str) -> dict[str, float]:
    """Shadow predictions stored and failed, and requests dropped, from ``/metrics``."""
    counts = {"stored": 0.0, "failed": 0.0, "dropped": 0.0}
    for match in SHADOW_COUNTERS.finditer(httpx.get(f"{base_url}/metrics", timeout=30).text):
        counts[match[2] or "dropped"] += float(match[3])
    return counts


def settle(base_url: str, timeout: float = 120) -> None:
    """Wait until the shadow has no work left (its counters stop moving for 0.5 s).

    So that the shadow of one run does not load the machine during the next one.
    """
    deadline = time.monotonic() + timeout
    last = shadow_counts(base_url)
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = shadow_counts(base_url)
        if now == last:
            return
        last = now


def median_of(rounds: list[Stats], field: str) -> float:
    """The median over rounds of one latency figure (ms)."""
    return float(statistics.median(float(getattr(stats, field)) for stats in rounds))


Rounds = dict[tuple[str, str, int], list[Stats]]
"""(request kind, shadow mode, clients) → the figures of each round."""


def run_rounds(
    servers: dict[str, tuple[subprocess.Popen[bytes], str]],
    headers: dict[str, str],
    jpeg: bytes,
    args: argparse.Namespace,
) -> Rounds:
    """Drive both servers alternately, ``args.rounds`` times, for each kind and concurrency."""
    rounds: Rounds = {}
    for _ in range(args.rounds):
        for label, send in api_senders(jpeg).items():
            for concurrency in args.concurrency:
                for mode in MODES:
                    server, base_url = servers[mode]
                    stats = drive(
                        base_url,
                        headers,
                        send,
                        server_pid=server.pid,
                        label=f"{label} shadow {mode}",
                        concurrency=concurrency,
                        count=args.requests,
                    )
                    rounds.setdefault((label, mode, concurrency), []).append(stats)
                    if mode == "on":
                        settle(base_url)
    return rounds


def print_ratios(rounds: Rounds, concurrencies: list[int], labels: list[str]) -> None:
    """Print p50 and p95 with the shadow off and on (medians over rounds), and their ratios."""
    print(f"\n{'scenario':<12}{'clients':>8}{'off p50':>9}{'on p50':>9}{'ratio':>7}", end="")
    print(f"{'off p95':>9}{'on p95':>9}{'ratio':>7}")
    for label in labels:
        for concurrency in concurrencies:
            off, on = (rounds[label, mode, concurrency] for mode in MODES)
            p50 = (median_of(off, "p50_ms"), median_of(on, "p50_ms"))
            p95 = (median_of(off, "p95_ms"), median_of(on, "p95_ms"))
            print(
                f"{label:<12}{concurrency:>8}{p50[0]:>9.2f}{p50[1]:>9.2f}{p50[1] / p50[0]:>7.2f}"
                f"{p95[0]:>9.2f}{p95[1]:>9.2f}{p95[1] / p95[0]:>7.2f}"
            )


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-name", help="registered model to serve (default: MODEL_NAME)")
    parser.add_argument("--model-alias", help="alias to serve (default: MODEL_ALIAS)")
    parser.add_argument(
        "--challenger-alias", default="challenger", help="the shadow's alias (default: %(default)s)"
    )
    parser.add_argument(
        "--requests",
        metavar="N",
        type=positive_int,
        default=100,
        help="requests per run (default: %(default)s)",
    )
    parser.add_argument(
        "--concurrency",
        metavar="N",
        type=positive_int,
        nargs="+",
        default=[1, 8],
        help="concurrent clients, one run per value (default: 1 8)",
    )
    parser.add_argument(
        "--rounds",
        metavar="N",
        type=positive_int,
        default=3,
        help="alternated off/on rounds (default: %(default)s)",
    )
    args = parser.parse_args(argv)

    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    os.environ["SECRET_KEY"] = secrets.token_urlsafe(32)
    from app.core.config import Settings  # noqa: PLC0415
    from app.inference.model_server import ModelServer  # noqa: PLC0415

    workdir = Path(tempfile.mkdtemp(prefix="bench-shadow-"))
    overrides: dict[str, object] = {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{workdir / 'a.db'}"}
    if args.model_name:
        overrides["MODEL_NAME"] = args.model_name
    if args.model_alias:
        overrides["MODEL_ALIAS"] = args.model_alias
    settings = Settings(**overrides)  # type: ignore[arg-type]
    tracking_uri, version, headers = prepare(settings)
    challenger = ModelServer(
        tracking_uri=tracking_uri,
        model_name=settings.MODEL_NAME,
        model_alias=args.challenger_alias,
        reload_interval=3600,
    ).resolve_alias()
    if challenger is None:
        raise SystemExit(f"No version holds {settings.MODEL_NAME}@{args.challenger_alias}.")
    print_load_average("start")
    print(
        f"Model {settings.MODEL_NAME} version {version}, challenger version {challenger[0]}; "
        f"{args.requests} requests per run, {args.rounds} alternated rounds."
    )
    jpeg = sample_jpeg()
    servers = {}
    for mode in MODES:
        os.environ["MODEL_CHALLENGER_ALIAS"] = args.challenger_alias if mode == "on" else ""
        servers[mode] = start_server(settings, tracking_uri)
    try:
        for server, base_url in servers.values():
            wait_ready(base_url, server)
        rounds = run_rounds(servers, headers, jpeg, args)
        counts = shadow_counts(servers["on"][1])
    finally:
        for server, _ in servers.values():
            server.terminate()
            server.wait(30)

    print_ratios(rounds, args.concurrency, list(api_senders(jpeg)))
    print(
        f"\nShadow: {counts['stored']:.0f} predictions stored, {counts['failed']:.0f} failed, "
        f"{counts['dropped']:.0f} requests dropped (queue full)."
    )
    print_load_average("end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
