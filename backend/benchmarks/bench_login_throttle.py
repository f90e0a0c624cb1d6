"""Benchmark what a wrong-password flood costs the API with and without the login limits.

Without limits every wrong login hashes the password (Argon2, the CPU a prediction also
needs); past ``LOGIN_FAILURES_PER_ACCOUNT`` a refused login is a 429 answered before hashing.
In one run, on a temporary SQLite database with the first administrator, in this process
(``TestClient``, no network): ``--requests`` wrong logins for the administrator with no limit,
then with ``10 per 15 minutes`` (the 10 allowed failures are left out of the figures), round
after round. Prints the median over the rounds of each scenario's median and p95 latency and
the ratio unlimited / limited.

Usage (from backend/)::

    python -m benchmarks.bench_login_throttle --requests 60 --rounds 3
"""

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from benchmarks.arguments import positive_int

LOGIN = "/api/v1/login/access-token"
LIMIT = "10 per 15 minutes"


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def _flood(database_url: str, limit: str, requests: int) -> tuple[float, float, set[int]]:
    """Median and p95 milliseconds of ``requests`` wrong logins, and the statuses seen."""
    from fastapi.testclient import TestClient  # noqa: PLC0415

    from app.core.config import Settings  # noqa: PLC0415
    from app.main import create_app  # noqa: PLC0415

    settings = Settings(
        SQLALCHEMY_DATABASE_URI=database_url,
        MODEL_NAME="absent-model",
        LOGIN_FAILURES_PER_ACCOUNT=limit,
        LOGIN_FAILURES_PER_CLIENT="",
    )
    allowed = 10 if limit else 0
    form = {"username": settings.FIRST_ADMINUSER, "password": "not-the-password"}
    timings, statuses = [], set()
    with TestClient(create_app(settings)) as client:
        for index in range(allowed + requests):
            start = time.perf_counter()
            status = client.post(LOGIN, data=form).status_code
            if index >= allowed:
                timings.append((time.perf_counter() - start) * 1000)
                statuses.add(status)
    return statistics.median(timings), _percentile(timings, 0.95), statuses


def main() -> None:
    """Run the scenarios round after round and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=positive_int, default=60, help="wrong logins per round")
    parser.add_argument("--rounds", type=positive_int, default=3)
    args = parser.parse_args()

    from app.core.config import Settings  # noqa: PLC0415
    from app.db.init_db import migrate, seed_first_admin  # noqa: PLC0415
    from app.db.session import create_db_engine, create_session_factory  # noqa: PLC0415

    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.db'}"
        migrate(url)
        seed_first_admin(create_session_factory(create_db_engine(url)), Settings())
        results: dict[str, list[tuple[float, float]]] = {"no limit": [], LIMIT: []}
        for round_index in range(args.rounds):
            for limit, name in (("", "no limit"), (LIMIT, LIMIT)):
                median, p95, statuses = _flood(url, limit, args.requests)
                results[name].append((median, p95))
                print(f"round {round_index + 1}, {name}: statuses {sorted(statuses)}")
    print(f"{'scenario':<20} {'p50 ms':>8} {'p95 ms':>8}")
    medians = {}
    for name, rounds in results.items():
        medians[name] = statistics.median(r[0] for r in rounds)
        print(f"{name:<20} {medians[name]:8.1f} {statistics.median(r[1] for r in rounds):8.1f}")
    print(f"p50 ratio no limit / {LIMIT}: x{medians['no limit'] / medians[LIMIT]:.0f}")


if __name__ == "__main__":
    main()
