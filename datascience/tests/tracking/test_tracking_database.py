"""A tracking database that cannot be opened, or a URI that is none, is said in one line at once.

MLflow retries a database it cannot open for about a minute, then fails with a traceback, and
reads anything that is not a URL as its folder store (which it refuses with a long message);
the commands check the URI and open one connection before their first MLflow call.
"""

import importlib.util
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from product_classifier.tracking.setup import (
    InvalidTrackingUriError,
    TrackingDatabaseUnreachableError,
    TrackingServerUnreachableError,
    check_tracking_database,
    check_tracking_uri,
    shown_uri,
)
from tests.tracking.test_unreachable_server import TRACKING_COMMANDS

DATASCIENCE = Path(__file__).resolve().parents[2]
POSTGRES = ("127.0.0.1", 5432)


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])  # closed again when the block ends


def _postgres_answers() -> bool:
    try:
        socket.create_connection(POSTGRES, timeout=2).close()
    except OSError:
        return False
    return True


needs_postgres = pytest.mark.skipif(
    not _postgres_answers(), reason="no PostgreSQL server on 127.0.0.1:5432"
)
NO_SUCH_DATABASE = "postgresql+psycopg2://postgres@127.0.0.1:5432/no_such_tracking_db"


@pytest.fixture
def silent_server() -> Iterator[int]:
    """The port of a socket that accepts connections and never answers (a hung server)."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        yield int(server.getsockname()[1])


@pytest.mark.parametrize(
    "uri",
    [
        "http://127.0.0.1:5000",
        "https://mlflow.example.com",
        "databricks",
        "databricks://profile",
        "sqlite:///mlflow.db",
        "sqlite:////data/mlflow/mlflow.db",
        "postgresql+psycopg2://user:secret@db:5432/mlflow",
        "mysql+pymysql://user@db/mlflow",
        "mssql+pyodbc://user@db/mlflow",
    ],
)
def test_tracking_uris_are_accepted(uri) -> None:
    check_tracking_uri(uri)


@pytest.mark.parametrize(
    "uri", ["not a uri", "./mlruns", "file:///tmp/mlruns", "foo://bar", "http://", "ftp://host"]
)
def test_other_uris_are_refused_in_one_line(uri, monkeypatch) -> None:
    monkeypatch.delenv("MLFLOW_ALLOW_FILE_STORE", raising=False)
    with pytest.raises(InvalidTrackingUriError) as raised:
        check_tracking_uri(uri)
    message = str(raised.value)
    assert message.startswith(f'MLFLOW_TRACKING_URI "{uri}" is not a tracking URI: expected ')
    assert "sqlite:///path/mlflow.db" in message
    assert "\n" not in message
    assert isinstance(raised.value, TrackingServerUnreachableError), "the commands catch it"


def test_the_folder_store_stays_usable_when_opted_in(monkeypatch) -> None:
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    check_tracking_uri("./mlruns")
    check_tracking_uri("file:///tmp/mlruns")


def test_a_refused_uri_hides_its_password() -> None:
    with pytest.raises(InvalidTrackingUriError, match=r'"foo://user:\*\*\*@host/x"'):
        check_tracking_uri("foo://user:secret@host/x")
    assert shown_uri("http://user:secret@host:5000") == "http://user:***@host:5000"
    assert shown_uri("http://host:5000") == "http://host:5000"


@needs_postgres
def test_a_missing_database_is_named_with_the_drivers_reason() -> None:
    with pytest.raises(TrackingDatabaseUnreachableError) as raised:
        check_tracking_database(NO_SUCH_DATABASE)
    assert str(raised.value) == (
        f"The MLflow tracking database {NO_SUCH_DATABASE} cannot be opened: "
        'database "no_such_tracking_db" does not exist'
    )


@needs_postgres
def test_an_existing_database_opens() -> None:
    check_tracking_database("postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")


def test_a_refused_connection_hides_the_password() -> None:
    port = _closed_port()
    started = time.monotonic()
    with pytest.raises(TrackingDatabaseUnreachableError) as raised:
        check_tracking_database(f"postgresql+psycopg2://postgres:secret@127.0.0.1:{port}/x")
    assert str(raised.value) == (
        f"The MLflow tracking database postgresql+psycopg2://postgres:***@127.0.0.1:{port}/x "
        "cannot be opened: Connection refused"
    )
    assert time.monotonic() - started < 5


def test_a_silent_server_is_an_error_after_the_timeout(silent_server) -> None:
    started = time.monotonic()
    with pytest.raises(TrackingDatabaseUnreachableError, match="timeout expired"):
        check_tracking_database(
            f"postgresql+psycopg2://postgres@127.0.0.1:{silent_server}/x", timeout=1
        )
    assert time.monotonic() - started < 10


def test_a_sqlite_file_behind_a_file_is_an_error(tmp_path) -> None:
    (tmp_path / "file").write_text("")
    uri = f"sqlite:///{tmp_path}/file/dir/mlflow.db"
    with pytest.raises(TrackingDatabaseUnreachableError) as raised:
        check_tracking_database(uri)
    assert str(raised.value) == (
        f"The MLflow tracking database {uri} cannot be opened: "
        f"Not a directory: {tmp_path / 'file' / 'dir'}"
    )


def test_a_file_that_is_no_database_is_an_error(tmp_path) -> None:
    (tmp_path / "notes.db").write_text("not a database, but long enough to have a header " * 4)
    with pytest.raises(TrackingDatabaseUnreachableError, match=r"file is not a database$"):
        check_tracking_database(f"sqlite:///{tmp_path / 'notes.db'}")


def test_a_sqlite_store_in_a_new_folder_is_created_as_mlflow_does(tmp_path) -> None:
    check_tracking_database(f"sqlite:///{tmp_path / 'new' / 'folder' / 'mlflow.db'}")
    assert (tmp_path / "new" / "folder").is_dir()


@pytest.mark.parametrize("uri", ["http://127.0.0.1:1", "databricks", "sqlite://"])
def test_other_stores_are_not_opened(uri) -> None:
    check_tracking_database(uri)


@pytest.mark.skipif(
    importlib.util.find_spec("MySQLdb") is not None, reason="mysqlclient is installed"
)
def test_a_missing_driver_is_named() -> None:
    with pytest.raises(TrackingDatabaseUnreachableError, match="driver mysqldb is not installed"):
        check_tracking_database("mysql://user@127.0.0.1/mlflow")


def _run(
    command: list[str], uri: str, home: Path
) -> tuple[subprocess.CompletedProcess[str], float]:
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", *command],
        cwd=DATASCIENCE,
        env={
            "MLFLOW_TRACKING_URI": uri,
            "PATH": "/usr/bin:/bin",
            "HOME": str(home),
            "STATE_DIR": str(home / "state"),
            "MLFLOW_DISABLE_TELEMETRY": "true",
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return result, time.monotonic() - started


def _assert_one_line(result: subprocess.CompletedProcess[str], expected: str) -> None:
    assert result.returncode == 1, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    assert "will be retried" not in result.stderr
    assert result.stderr.strip().splitlines()[-1] == expected


def _uris(tmp_path: Path) -> dict[str, tuple[str, str]]:
    """URI and expected error line of each store that cannot be used."""
    port = _closed_port()
    (tmp_path / "file").write_text("")
    sqlite = f"sqlite:///{tmp_path}/file/dir/mlflow.db"
    refused = f"postgresql+psycopg2://postgres@127.0.0.1:{port}/mlflow"
    forms = (
        "expected http(s)://host:port (a tracking server), a database URL such as "
        "sqlite:///path/mlflow.db or postgresql+psycopg2://user:password@host:port/database, "
        "or databricks."
    )
    return {
        "missing database": (
            NO_SUCH_DATABASE,
            f"error: The MLflow tracking database {NO_SUCH_DATABASE} cannot be opened: "
            'database "no_such_tracking_db" does not exist',
        ),
        "refused": (
            refused,
            f"error: The MLflow tracking database {refused} cannot be opened: Connection refused",
        ),
        "sqlite": (  # a command that only reads the store: the file must exist
            sqlite,
            f"error: No MLflow store at {tmp_path}/file/dir/mlflow.db: MLFLOW_TRACKING_URI "
            "names a SQLite file that does not exist (a typo? a training creates it). Fix the "
            "URI or train a model first.",
        ),
        "mistyped sqlite": (
            f"sqlite:///{tmp_path}/mlflw.db",
            f"error: No MLflow store at {tmp_path}/mlflw.db: MLFLOW_TRACKING_URI names a SQLite "
            "file that does not exist (a typo? a training creates it). Fix the URI or train a "
            "model first.",
        ),
        "not a uri": (
            "not a uri",
            f'error: MLFLOW_TRACKING_URI "not a uri" is not a tracking URI: {forms}',
        ),
    }


@pytest.mark.parametrize(
    "case", ["missing database", "refused", "sqlite", "mistyped sqlite", "not a uri"]
)
def test_promote_model_says_it_in_one_line(tmp_path, case) -> None:
    if case == "missing database" and not _postgres_answers():
        pytest.skip("no PostgreSQL server on 127.0.0.1:5432")
    uri, expected = _uris(tmp_path)[case]
    result, seconds = _run(["scripts.promote_model", "--list"], uri, tmp_path)
    _assert_one_line(result, expected)
    assert seconds < 15
    assert not (tmp_path / "mlflw.db").exists()  # no empty store made at a mistyped path


@pytest.mark.parametrize("command", TRACKING_COMMANDS)
def test_every_command_says_it_before_any_work(tmp_path, command) -> None:
    uri, expected = _uris(tmp_path)["refused"]
    result, seconds = _run(command, uri, tmp_path)
    _assert_one_line(result, expected)
    assert seconds < 60  # TensorFlow's import alone takes seconds on a busy machine
