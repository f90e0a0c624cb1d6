"""``scripts.start_checks``: the checks start.sh runs, each failing with one line.

start.sh's own tests (tests/test_start_script.py) run the script; these run the checks
themselves, on real sockets and folders.
"""

import socket
import subprocess
import sys
from pathlib import Path

import pytest
from scripts.start_checks import (
    EXIT_UNAVAILABLE,
    CheckError,
    check_ports,
    check_state_dir,
    read_script_settings,
)

from app.serve import parse_arguments
from product_classifier.settings import EXIT_INVALID_SETTINGS
from tests.helpers.cli import run_python
from tests.scripts.test_ops_commands import assert_one_line_error

BACKEND = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize("value", ["0", "-1", "65536", "70000", "", "80x", "8 0", "٣"])
def test_a_port_outside_1_to_65535_names_the_setting_its_value_and_the_range(
    value: str,
) -> None:
    with pytest.raises(CheckError) as error:
        check_ports([f"MLFLOW_PORT={value}"])
    assert str(error.value) == (
        f'invalid settings: MLFLOW_PORT is "{value}": expected a port number from 1 to 65535.'
    )
    assert error.value.status == EXIT_INVALID_SETTINGS


def test_two_servers_on_one_port_are_refused_before_binding() -> None:
    port = free_port()
    with pytest.raises(CheckError) as error:
        check_ports([f"BACKEND_PORT={port}", f"MLFLOW_PORT={port}"])
    assert str(error.value) == (
        f"invalid settings: BACKEND_PORT and MLFLOW_PORT are both {port}: each server needs a "
        "port of its own."
    )


def test_a_taken_port_is_unavailable() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(CheckError) as error:
            check_ports([f"BACKEND_PORT={port}", f"MLFLOW_PORT={free_port()}"])
    assert error.value.status == EXIT_UNAVAILABLE
    assert str(error.value).startswith(f"port {port} (BACKEND_PORT) on 127.0.0.1 is already")


def test_free_distinct_ports_pass() -> None:
    check_ports([f"BACKEND_PORT={free_port()}", f"MLFLOW_PORT={free_port()}"])


def test_script_settings_have_defaults_and_empty_means_the_default() -> None:
    expected = {
        "DEMO_BOOTSTRAP": "auto",
        "DB_WAIT_SECONDS": "10.0",
        "READY_TIMEOUT_SECONDS": "300",
        "API_WORKERS": "auto",
    }
    assert read_script_settings({}) == expected
    assert read_script_settings(dict.fromkeys(expected, "")) == expected
    assert read_script_settings(
        {"API_WORKERS": "02", "DB_WAIT_SECONDS": "0", "READY_TIMEOUT_SECONDS": "5"}
    ) == expected | {"API_WORKERS": "2", "DB_WAIT_SECONDS": "0.0", "READY_TIMEOUT_SECONDS": "5"}


def test_state_dir_must_be_a_folder_or_one_that_can_be_created(tmp_path: Path) -> None:
    check_state_dir(tmp_path)
    check_state_dir(tmp_path / "new" / "state")
    assert not (tmp_path / "new").exists(), "the check creates nothing"
    (tmp_path / "file").write_text("")
    with pytest.raises(CheckError, match="expected a folder, not a file"):
        check_state_dir(tmp_path / "file")
    with pytest.raises(CheckError, match="is not a folder"):
        check_state_dir(tmp_path / "file" / "state")


def test_serve_refuses_an_invalid_worker_count_without_a_traceback() -> None:
    assert parse_arguments(["--workers", "007"]).workers == "7"
    result = subprocess.run(
        [sys.executable, "-m", "app.serve", "--workers", "abc"],
        cwd=BACKEND,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1] == (
        "python -m app.serve: error: argument --workers: 'abc': expected a whole number of "
        "worker processes, 1 or more, or auto"
    )


@pytest.mark.parametrize(
    "args",
    [
        ["-m", "scripts.start_checks", "preflight"],
        ["-m", "app.serve", "--port", "1"],
        ["-m", "uvicorn", "app.main:app", "--port", "1"],
    ],
    ids=["start checks", "API server", "uvicorn on the app"],
)
@pytest.mark.parametrize("folder", ["/does/not/exist", "/etc/passwd"])
def test_a_missing_metrics_folder_is_one_line_before_any_metric(args, folder) -> None:
    # prometheus-client wrote into it at import: FileNotFoundError, .../counter_<pid>.db.
    completed = run_python(*args, env={"PROMETHEUS_MULTIPROC_DIR": folder})
    assert_one_line_error(
        completed, f'error: invalid settings: PROMETHEUS_MULTIPROC_DIR: "{folder}" is not a folder'
    )


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("SQLALCHEMY_DATABASE_URI", "notaurl", "cannot be read as a database URL"),
        ("SQLALCHEMY_DATABASE_URI", "mysql://x/y", "is not supported: expected sqlite:///"),
        ("API_V1_STR", "api", 'is not a path prefix: expected a path starting with "/"'),
        ("IMAGE_STORE_URL", "s3://bucket/x", "s3:// needs a package that is not installed"),
        ("STATE_DIR", "", "must not be empty"),
    ],
)
def test_start_checks_refuse_what_would_fail_later_in_one_line(name, value, expected) -> None:
    completed = run_python("-m", "scripts.start_checks", "settings", env={name: value})
    assert_one_line_error(completed, f"error: invalid settings: {name}: ", expected)
