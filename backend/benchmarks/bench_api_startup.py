"""Start-up time and resident memory of the API process, optionally beside another checkout's.

Starts the API as ``scripts/start.sh`` serves it (``python -m app.serve``, one worker, see
:func:`benchmarks.bench_api.start_api`) on a temporary SQLite database, measures the time from
the process start to the first answered text prediction (the model is in the local store) and
the CPU time the server used until then (less sensitive to a busy machine), sends
``--requests`` text predictions one after the other, then reads the resident memory (RSS) of
the whole process tree. With ``--baseline-root``, the same is done, round after round
alternating, for the ``backend/`` and ``datascience/`` of another checkout (e.g. the files of
the base commit, ``git archive``-ed into a folder), put first on its ``PYTHONPATH``. Prints
the median and range of each figure and the load average.

Usage (from backend/, the model registered and aliased in the configured store)::

    nice -n 5 python -m benchmarks.bench_api_startup --model-name text --rounds 3 \
        --baseline-root /tmp/base
"""

import argparse
import contextlib
import os
import signal
import statistics
import sys
import time
from pathlib import Path

import httpx

from benchmarks.arguments import positive_int
from benchmarks.bench_api import (
    Target,
    api_senders,
    prepare,
    print_load_average,
    process_cpu_seconds,
    resident_mb,
    sample_jpeg,
    start_api,
    wait_first_answer,
)
from benchmarks.bench_settings import benchmark_settings


def measure(
    label: str, settings: object, tracking_uri: str, headers: dict[str, str], **options: object
) -> tuple[float, float, float]:
    """Start one API, time its first answer, send the requests.

    Returns:
        Seconds from the start to the first answer, CPU seconds the server used until then,
        and the server's RSS (MB) after the requests.
    """
    backend_dir: Path = options["backend_dir"]  # type: ignore[assignment]
    requests: int = options["requests"]  # type: ignore[assignment]
    extra_path: str | None = options["python_path"]  # type: ignore[assignment]
    saved = os.environ.get("PYTHONPATH")
    if extra_path:
        os.environ["PYTHONPATH"] = extra_path
    try:
        started_at = time.monotonic()
        process, base_url = start_api(
            settings,  # type: ignore[arg-type]
            tracking_uri,
            micro_batching=True,
            backend_dir=backend_dir,
        )
    finally:
        if saved is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = saved
    senders = api_senders(sample_jpeg())
    target = Target(label, process, base_url, senders, headers, started_at)
    try:
        wait_first_answer(target)
        cpu = process_cpu_seconds(process.pid)
        with httpx.Client(base_url=base_url, headers=headers, timeout=30) as client:
            for _ in range(requests):
                client.send(senders["text"](client)).raise_for_status()
        rss = sum(resident_mb(process.pid))
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        process.wait(30)
    return target.startup_seconds, cpu, rss


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-name", help="registered model to serve (default: MODEL_NAME)")
    parser.add_argument("--model-alias", help="alias to serve (default: MODEL_ALIAS)")
    parser.add_argument(
        "--requests",
        metavar="N",
        type=positive_int,
        default=1000,
        help="text predictions per start (default: %(default)s)",
    )
    parser.add_argument(
        "--rounds",
        metavar="N",
        type=positive_int,
        default=3,
        help="starts of each build (default: %(default)s)",
    )
    parser.add_argument(
        "--baseline-root",
        type=Path,
        help="another checkout (with backend/ and datascience/) also started (default: none)",
    )
    args = parser.parse_args(argv)

    settings = benchmark_settings("bench-api-startup-", args.model_name, args.model_alias)
    tracking_uri, version, headers = prepare(settings)
    builds: list[tuple[str, Path, str | None]] = [
        ("this build", Path(__file__).resolve().parents[1], None)
    ]
    if args.baseline_root:
        root = args.baseline_root.resolve()
        builds.insert(
            0, ("baseline", root / "backend", f"{root / 'backend'}:{root / 'datascience'}")
        )
    print_load_average("start")
    print(f"Model {settings.MODEL_NAME} version {version}; {args.requests} requests per start.")
    figures: dict[str, list[tuple[float, float, float]]] = {label: [] for label, _, _ in builds}
    for round_number in range(1, args.rounds + 1):
        for label, backend_dir, python_path in builds:
            seconds, cpu, rss = measure(
                label,
                settings,
                tracking_uri,
                headers,
                backend_dir=backend_dir,
                requests=args.requests,
                python_path=python_path,
            )
            figures[label].append((seconds, cpu, rss))
            load = os.getloadavg()[0]
            print(
                f"round {round_number} {label:<10}: first answer {seconds:5.1f} s "
                f"({cpu:4.1f} s CPU); "
                f"RSS after {args.requests} requests {rss:6.1f} MB (load {load:.2f})",
                flush=True,
            )
    print("\nMedian [min-max] over the rounds:")
    for label, rows in figures.items():
        starts = [row[0] for row in rows]
        cpus = [row[1] for row in rows]
        sizes = [row[2] for row in rows]
        print(
            f"  {label:<10}: start -> first answer {statistics.median(starts):5.1f} s "
            f"[{min(starts):.1f}-{max(starts):.1f}] ({statistics.median(cpus):4.1f} s CPU "
            f"[{min(cpus):.1f}-{max(cpus):.1f}]); RSS {statistics.median(sizes):6.1f} MB "
            f"[{min(sizes):.1f}-{max(sizes):.1f}]"
        )
    print_load_average("end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
