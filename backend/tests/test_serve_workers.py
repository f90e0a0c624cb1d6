"""``python -m app.serve --workers auto``: one worker per two cores, within half the memory."""

import os
from pathlib import Path

import pytest

from app.serve import (
    WORKER_HEALTHCHECK_SECONDS,
    automatic_workers,
    check_workers_fit,
    main,
    parse_arguments,
    share_metrics_between,
    worker_count,
)


@pytest.mark.parametrize(
    ("cores", "memory_mb", "expected"),
    [
        (2, 24_000, 1),  # this machine: a second worker did not pay
        (8, 24_000, 4),  # one per two cores
        (3, 24_000, 1),
        (8, 1_000, 1),  # 500 MB for workers of 400 MB: one
        (8, 2_000, 2),  # memory binds before the cores
        (1, 100, 1),  # never fewer than one
        (4, None, 2),  # memory unknown: the cores decide
    ],
)
def test_automatic_workers_follow_cores_and_memory(
    cores: int, memory_mb: float | None, expected: int
) -> None:
    assert automatic_workers(cores, memory_mb, worker_memory_mb=400) == expected


def test_workers_option_takes_a_number_auto_or_nothing() -> None:
    assert worker_count(parse_arguments([]).workers) is None
    assert worker_count(parse_arguments(["--workers", "3"]).workers) == 3
    automatic = worker_count(parse_arguments(["--workers", "auto"]).workers)
    assert automatic is not None
    assert 1 <= automatic <= max(1, len(os.sched_getaffinity(0)) // 2)


def test_several_workers_share_one_metrics_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    share_metrics_between(1)
    assert "PROMETHEUS_MULTIPROC_DIR" not in os.environ
    try:
        share_metrics_between(2)
        folder = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
        assert folder.is_dir()
        folder.rmdir()
    finally:
        # Set by the function, not by monkeypatch: servers started later must not inherit it.
        os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)


def test_workers_get_time_to_start_before_the_health_check_kills_them() -> None:
    # uvicorn's 5 s killed workers still importing the application on a loaded machine.
    assert parse_arguments([]).timeout_worker_healthcheck == WORKER_HEALTHCHECK_SECONDS >= 30
    chosen = parse_arguments(["--timeout-worker-healthcheck", "7"])
    assert chosen.timeout_worker_healthcheck == 7


@pytest.mark.parametrize(
    ("workers", "memory_mb", "fits"),
    [
        (1, 24_000, True),
        (60, 24_000, True),
        (61, 24_000, False),
        (1000, 24_000, False),
        (2, 500, False),
        (1000, None, True),
    ],
)
def test_a_number_of_workers_the_memory_cannot_hold_is_refused(
    workers: int, memory_mb: float | None, fits: bool
) -> None:
    # --workers 1000 started 250 processes and let the kernel kill processes at random.
    if fits:
        check_workers_fit(workers, memory_mb, worker_memory_mb=400)
        return
    with pytest.raises(ValueError, match=r"more than the [\d,]+ MB available: give at most"):
        check_workers_fit(workers, memory_mb, worker_memory_mb=400)


def test_serve_says_it_in_one_line_before_starting(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["--workers", "100000", "--port", "1"])
    assert stopped.value.code == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("error: --workers 100000 (API_WORKERS): at API_WORKER_MEMORY_MB=")
