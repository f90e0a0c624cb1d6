"""The operator commands fail with one line, before any work, on what they cannot use.

``scripts.monitoring_report``, ``scripts.purge_images`` and ``scripts.prestart`` run in child
processes as a person runs them (from backend/), on real SQLite files and PostgreSQL databases;
``scripts/mlflow-ui.sh`` runs with real sockets holding its port.
"""

import os
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import get_args

import pytest
from annotated_types import Le

from app.api.v1.routes.monitoring import DaysQuery
from product_classifier.paths import REPOSITORY_ROOT
from scripts import monitoring_report, purge_images
from tests.conftest import SESSION_HOME, dispose_database, new_database_url
from tests.helpers.cli import run_python

API_DATABASE = "(the API's database, migrated with scripts.prestart)"


def assert_one_line_error(completed: subprocess.CompletedProcess[str], *expected: str) -> None:
    """Exit status 2, no traceback, and the last line of stderr holding ``expected``."""
    assert completed.returncode == 2, completed.stdout + completed.stderr
    assert "Traceback" not in completed.stderr, completed.stderr
    last = completed.stderr.strip().splitlines()[-1]
    for text in expected:
        assert text in last, completed.stderr


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request: pytest.FixtureRequest) -> Iterator[str]:
    """A database without the API's tables (an empty SQLite file, or a new PostgreSQL one)."""
    url = new_database_url(request.param, "ops_empty", SESSION_HOME / "ops")
    if request.param == "sqlite":
        Path(url.removeprefix("sqlite:///")).touch()
    try:
        yield url
    finally:
        dispose_database(url)


def report(tmp_path: Path, database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return run_python(
        *("-m", "scripts.monitoring_report", *args),
        env={"SQLALCHEMY_DATABASE_URI": database_url, "MODEL_NAME": "nothing-registered"},
    )


def purge(tmp_path: Path, database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return run_python(
        *("-m", "scripts.purge_images", *args),
        env={"SQLALCHEMY_DATABASE_URI": database_url, "IMAGE_STORE_URL": str(tmp_path / "store")},
    )


# --- the API's database: missing, or not migrated ----------------------------------------------


def test_an_unmigrated_database_is_a_one_line_error(empty_database: str, tmp_path: Path) -> None:
    output = tmp_path / "report.html"
    completed = report(tmp_path, empty_database, "--output", str(output), "--model-version", "1")
    assert_one_line_error(completed, "Cannot read", API_DATABASE, "predictions")
    assert not output.exists()
    completed = purge(tmp_path, empty_database, "--retention-days", "7")
    assert_one_line_error(completed, "Cannot read", API_DATABASE, "predictions")


def test_a_missing_sqlite_file_is_reported_not_created(tmp_path: Path) -> None:
    database = tmp_path / "nowhere" / "app.db"
    url = f"sqlite:///{database}"
    completed = report(tmp_path, url, "--output", str(tmp_path / "report.html"))
    assert_one_line_error(completed, "Cannot read", API_DATABASE, f"no database file at {database}")
    completed = purge(tmp_path, url, "--retention-days", "7")
    assert_one_line_error(completed, "Cannot read", API_DATABASE)
    assert not database.parent.exists()


def test_a_report_without_a_usable_tracking_store_says_so(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'app.db'}"
    migrated = run_python("-m", "scripts.prestart", env={"SQLALCHEMY_DATABASE_URI": url})
    assert migrated.returncode == 0, migrated.stderr
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    completed = run_python(
        *("-m", "scripts.monitoring_report", "--output", str(tmp_path / "r.html")),
        env={"SQLALCHEMY_DATABASE_URI": url, "MLFLOW_TRACKING_URI": f"http://127.0.0.1:{closed}"},
    )
    assert completed.returncode == 1, completed.stderr
    assert "Traceback" not in completed.stderr
    last = completed.stderr.strip().splitlines()[-1]
    assert last.startswith("error: The MLflow tracking server"), completed.stderr
    assert "does not answer" in last
    assert not (tmp_path / "r.html").exists()


# --- monitoring_report: the output file and the window ----------------------------------------


@pytest.mark.parametrize(
    ("output", "reason"),
    [
        ("{tmp}", "is a folder"),
        ("{tmp}/a-file/report.html", "is not a folder"),
        ("/proc/x.html", "cannot create a file in /proc"),
    ],
)
def test_an_output_that_cannot_be_written_is_refused_first(
    tmp_path: Path, output: str, reason: str
) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    missing = tmp_path / "none" / "app.db"
    completed = report(tmp_path, f"sqlite:///{missing}", "--output", output.format(tmp=tmp_path))
    assert_one_line_error(completed, "argument --output", reason)
    assert not missing.parent.exists()  # checked before the database is opened


@pytest.mark.parametrize("days", ["nan", "inf", "-inf", "1e308", "1000000", "3660.5", "0", "-1"])
def test_a_window_outside_what_the_api_allows_is_refused(tmp_path: Path, days: str) -> None:
    completed = report(
        tmp_path, "sqlite:///unused.db", "--output", str(tmp_path / "r.html"), f"--days={days}"
    )
    assert_one_line_error(completed, "argument --days", "at most 3660")
    assert not (REPOSITORY_ROOT / "backend" / "unused.db").exists()


def test_the_longest_window_is_the_apis() -> None:
    bounds = [item.le for item in get_args(DaysQuery)[1].metadata if isinstance(item, Le)]
    assert bounds == [monitoring_report.MOST_DAYS]
    args = monitoring_report._parser().parse_args(["--output", "r.html", "--days", "3660"])
    assert args.days == 3660


# --- purge_images: the retention ------------------------------------------------------------


@pytest.mark.parametrize("days", ["99999999999", "36501", "0", "-3", "1.5", "x"])
def test_a_retention_out_of_bounds_is_refused(tmp_path: Path, days: str) -> None:
    completed = purge(tmp_path, "sqlite:///unused.db", f"--retention-days={days}")
    assert_one_line_error(completed, "argument --retention-days", "from 1 to 36500")


def test_a_retention_of_a_century_is_accepted() -> None:
    args = purge_images._parser().parse_args(["--retention-days", "36500"])
    assert args.retention_days == purge_images.MOST_RETENTION_DAYS == 36500


# --- prestart: attempts and interval --------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "argument"),
    [
        (["--attempts", "0"], "--attempts"),
        (["--attempts", "-1"], "--attempts"),
        (["--attempts", "1.5"], "--attempts"),
        (["--interval", "-5"], "--interval"),
        (["--interval", "nan"], "--interval"),
    ],
)
def test_prestart_refuses_a_wait_that_would_not_wait(
    tmp_path: Path, args: list[str], argument: str
) -> None:
    database = tmp_path / "app.db"
    completed = run_python(
        "-m", "scripts.prestart", *args, env={"SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}"}
    )
    assert_one_line_error(completed, f"argument {argument}")
    assert not database.exists()


# --- scripts/mlflow-ui.sh -------------------------------------------------------------------


def run_mlflow_ui(
    tmp_path: Path, port: str, *args: str, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(REPOSITORY_ROOT / "scripts" / "mlflow-ui.sh"), *args],
        env={
            **os.environ,
            "MLFLOW_PORT": port,
            "STATE_DIR": str(tmp_path / "state"),
            "MLFLOW_TRACKING_URI": "",
        },
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        start_new_session=True,
    )


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A port something listens on, on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder.getsockname()[1]


def test_mlflow_ui_on_a_taken_port_is_start_shs_one_line_error(
    tmp_path: Path, taken_port: int
) -> None:
    completed = run_mlflow_ui(tmp_path, str(taken_port))
    assert completed.returncode == 1
    assert completed.stderr.strip() == (
        f"error: port {taken_port} (MLFLOW_PORT) on 127.0.0.1 is already in use: stop what uses "
        "it or choose another port (MLFLOW_PORT=...)."
    )
    assert "MLflow UI on" not in completed.stdout


@pytest.mark.parametrize(
    ("port", "message"),
    [
        ("70000", 'MLFLOW_PORT is "70000": expected a port number from 1 to 65535.'),
        ("abc", "invalid settings: MLFLOW_PORT: "),
    ],
)
def test_mlflow_ui_on_an_invalid_port_is_a_one_line_error(
    tmp_path: Path, port: str, message: str
) -> None:
    completed = run_mlflow_ui(tmp_path, port)
    assert completed.returncode == 1
    assert len(completed.stderr.strip().splitlines()) == 1, completed.stderr
    assert message in completed.stderr
    assert "environment" not in completed.stderr
    assert "MLflow UI on" not in completed.stdout


def test_mlflow_ui_stopped_by_a_bind_error_exits_non_zero(tmp_path: Path, taken_port: int) -> None:
    """A port taken after the check (here: another one passed on to ``mlflow ui``)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        free = probe.getsockname()[1]
    completed = run_mlflow_ui(tmp_path, str(free), "--port", str(taken_port))
    assert completed.returncode != 0, completed.stderr
    assert "address already in use" in completed.stderr
    assert completed.stderr.strip().splitlines()[-1] == (
        "error: the MLflow UI stopped on its own (see its messages above)."
    )
