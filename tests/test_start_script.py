"""``scripts/start.sh``: its one-line errors, and a smoke test from a clean copy of the repository.

The smoke test copies the working tree (tracked and new files, without ``var/`` and ``.venv``)
to a temporary folder, shares the root ``.venv`` through a symlink (``SKIP_SYNC=1``, so nothing
is reinstalled and the shared environment is not touched), runs ``start.sh`` there with a tiny
demo bootstrap on free ports, uses the API and the MLflow UI like a person would, presses
Ctrl-C and checks that nothing is left running.
"""

import contextlib
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from product_classifier.categories import CATEGORY_CODES
from product_classifier.paths import REPOSITORY_ROOT

START_SCRIPT = Path("scripts") / "start.sh"
READY_TIMEOUT_SECONDS = 900.0  # a tiny bootstrap, on a shared 2-core machine under load
STOP_TIMEOUT_SECONDS = 60.0
ADMIN = "admin@example.com"
ADMIN_PASSWORD = "smoke-test-password"


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def port_is_free(port: int) -> bool:
    """Whether a server could bind ``port`` on 127.0.0.1 now."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def session_processes(session_id: int, *, zombies: bool = False) -> list[tuple[int, int, str]]:
    """(pid, process group, command) of every live process in a session (or of its zombies)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        state, group, session = fields[0], int(fields[2]), int(fields[3])
        if session == session_id and (state == "Z") == zombies:
            found.append((int(entry.name), group, command))
    return found


def kill_session(session_id: int) -> None:
    """Kill what is left of a session this test started (clean-up after a failure)."""
    for group in {group for _, group, _ in session_processes(session_id)}:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(group, signal.SIGKILL)


def base_environment(state_dir: Path) -> dict[str, str]:
    """The test session's environment with the application settings reset to start.sh's."""
    environment = dict(os.environ)
    for name in ("SQLALCHEMY_DATABASE_URI", "POSTGRES_SERVER", "MLFLOW_TRACKING_URI"):
        environment[name] = ""
    environment.update(
        STATE_DIR=str(state_dir),
        TARGET_ENV="development",
        FIRST_ADMINUSER=ADMIN,
        FIRST_ADMINUSER_PASSWORD=ADMIN_PASSWORD,
        SKIP_SYNC="1",
        PYTHONUNBUFFERED="1",
    )
    return environment


def run_start(environment: dict[str, str], cwd: Path = REPOSITORY_ROOT) -> tuple[int, str]:
    """Run start.sh to its end (for the early errors); return its status and output."""
    result = subprocess.run(
        ["bash", str(START_SCRIPT)],
        cwd=cwd,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=120,
        check=False,
        start_new_session=True,
    )
    return result.returncode, result.stdout


def last_line(output: str) -> str:
    """The last non-empty line of an output."""
    lines = [line for line in output.splitlines() if line.strip()]
    return lines[-1] if lines else ""


# --- one-line errors -----------------------------------------------------------------------


def test_port_in_use_is_a_one_line_error(tmp_path: Path) -> None:
    environment = base_environment(tmp_path / "state")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        environment.update(BACKEND_PORT=str(port), MLFLOW_PORT=str(free_port()))
        status, output = run_start(environment)
    assert status != 0
    assert last_line(output) == (
        f"error: port {port} (BACKEND_PORT) on 127.0.0.1 is already in use: stop what uses it "
        "or choose another port (BACKEND_PORT=...)."
    ), output
    assert not (tmp_path / "state").exists(), "nothing may be written before the checks pass"


def test_database_that_does_not_answer_is_a_one_line_error(tmp_path: Path) -> None:
    environment = base_environment(tmp_path / "state")
    closed = free_port()
    environment.update(
        SQLALCHEMY_DATABASE_URI=f"postgresql+psycopg2://postgres@127.0.0.1:{closed}/app",
        BACKEND_PORT=str(free_port()),
        MLFLOW_PORT=str(free_port()),
        DB_WAIT_SECONDS="1",
    )
    status, output = run_start(environment)
    assert status != 0
    line = last_line(output)
    assert line.startswith(
        f"error: the database at postgresql+psycopg2://postgres@127.0.0.1:{closed}/app does "
        "not answer: "
    ), output
    assert "Connection refused" in line


def test_missing_python_is_a_one_line_error(tmp_path: Path) -> None:
    # A PATH with the few tools start.sh needs before its Python check, and no Python or uv.
    tools = tmp_path / "bin"
    tools.mkdir()
    for tool in ("dirname",):
        (tools / tool).symlink_to(f"/usr/bin/{tool}")
    environment = base_environment(tmp_path / "state")
    environment.pop("SKIP_SYNC")
    environment["PATH"] = str(tools)
    environment["HOME"] = str(tmp_path)
    result = subprocess.run(
        ["/bin/bash", str(REPOSITORY_ROOT / START_SCRIPT)],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert result.stderr.strip().startswith("error: Python 3.11 is required"), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_invalid_settings_are_a_one_line_error(tmp_path: Path) -> None:
    environment = base_environment(tmp_path / "state")
    environment.update(TARGET_ENV="production", SECRET_KEY="changethis")
    status, output = run_start(environment)
    assert status != 0
    assert last_line(output) == (
        'error: invalid settings: SECRET_KEY is "changethis": set a secret value for '
        "TARGET_ENV=production."
    ), output


PORT_RANGE = "expected a port number from 1 to 65535."


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("BACKEND_PORT", "70000"),
        ("BACKEND_PORT", "65536"),
        ("BACKEND_PORT", "-1"),
        ("BACKEND_PORT", "0"),
        ("BACKEND_PORT", ""),
        ("BACKEND_PORT", "80x"),
        ("MLFLOW_PORT", "0"),
        ("MLFLOW_PORT", "65536"),
        ("MLFLOW_PORT", "80x"),
        ("MLFLOW_PORT", ""),
        ("MLFLOW_PORT", "-5000"),
        ("MLFLOW_PORT", "5000.5"),
    ],
)
def test_port_out_of_range_is_a_one_line_error(tmp_path: Path, name: str, value: str) -> None:
    environment = base_environment(tmp_path / "state")
    environment.update(
        BACKEND_PORT=str(free_port()), MLFLOW_PORT=str(free_port()), DEMO_BOOTSTRAP="never"
    )
    environment[name] = value
    status, output = run_start(environment)
    assert status != 0
    assert last_line(output) == f'error: invalid settings: {name} is "{value}": {PORT_RANGE}', (
        output
    )
    assert "Traceback" not in output
    assert not (tmp_path / "state").exists(), "nothing may be written before the checks pass"


def test_one_port_for_both_servers_is_a_one_line_error(tmp_path: Path) -> None:
    environment = base_environment(tmp_path / "state")
    port = free_port()
    environment.update(BACKEND_PORT=str(port), MLFLOW_PORT=str(port), DEMO_BOOTSTRAP="never")
    status, output = run_start(environment)
    assert status != 0
    assert last_line(output) == (
        f"error: invalid settings: BACKEND_PORT and MLFLOW_PORT are both {port}: each server "
        "needs a port of its own."
    ), output
    assert not (tmp_path / "state").exists()


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("API_WORKERS", "abc", "a whole number of worker processes, 1 or more, or auto"),
        ("API_WORKERS", "0", "a whole number of worker processes, 1 or more, or auto"),
        ("API_WORKERS", "-2", "a whole number of worker processes, 1 or more, or auto"),
        ("API_WORKERS", "1.5", "a whole number of worker processes, 1 or more, or auto"),
        ("API_WORKERS", "AUTO", "a whole number of worker processes, 1 or more, or auto"),
        ("DB_WAIT_SECONDS", "abc", "a number of seconds, 0 or more"),
        ("DB_WAIT_SECONDS", "-1", "a number of seconds, 0 or more"),
        ("DB_WAIT_SECONDS", "nan", "a number of seconds, 0 or more"),
        ("DB_WAIT_SECONDS", "inf", "a number of seconds, 0 or more"),
        ("READY_TIMEOUT_SECONDS", "abc", "a whole number of seconds, 1 or more"),
        ("READY_TIMEOUT_SECONDS", "0", "a whole number of seconds, 1 or more"),
        ("READY_TIMEOUT_SECONDS", "1.5", "a whole number of seconds, 1 or more"),
        ("READY_TIMEOUT_SECONDS", "-10", "a whole number of seconds, 1 or more"),
        ("DEMO_BOOTSTRAP", "sometimes", "auto, always or never"),
        ("DEMO_BOOTSTRAP", "1", "auto, always or never"),
        ("SKIP_SYNC", "yes", "1 (no uv sync) or 0"),
        ("SKIP_SYNC", "true", "1 (no uv sync) or 0"),
    ],
)
def test_invalid_script_setting_is_a_one_line_error(
    tmp_path: Path, name: str, value: str, expected: str
) -> None:
    environment = base_environment(tmp_path / "state")
    environment.update(BACKEND_PORT=str(free_port()), MLFLOW_PORT=str(free_port()))
    environment[name] = value
    status, output = run_start(environment)
    assert status != 0
    assert (
        last_line(output) == f'error: invalid settings: {name} is "{value}": expected {expected}.'
    ), output
    assert "Traceback" not in output
    assert not (tmp_path / "state").exists()


SETTINGS_REFUSAL = (
    'error: invalid settings: STATE_DIR: "{state_dir}" cannot be a folder: {root}/file is a file. '
    "Expected a folder for the runtime state (created when missing), e.g. var."
)
"""What every command reading the settings says of a STATE_DIR that is, or is under, a file."""


@pytest.mark.parametrize(
    ("relative", "expected"),
    [
        ("file", SETTINGS_REFUSAL),
        ("file/state", SETTINGS_REFUSAL),
        ("file/deeper/state", SETTINGS_REFUSAL),
        ("dangling", "a folder, not a broken link"),
    ],
)
def test_state_dir_that_is_not_a_folder_is_a_one_line_error(
    tmp_path: Path, relative: str, expected: str
) -> None:
    (tmp_path / "file").write_text("not a folder\n")
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    state_dir = tmp_path / relative
    environment = base_environment(state_dir)
    environment.update(
        BACKEND_PORT=str(free_port()), MLFLOW_PORT=str(free_port()), DEMO_BOOTSTRAP="never"
    )
    status, output = run_start(environment)
    assert status == 2
    if expected is SETTINGS_REFUSAL:
        line = expected.format(state_dir=state_dir, root=tmp_path)
    else:
        line = f'error: invalid settings: STATE_DIR is "{state_dir}": expected {expected}.'
    assert last_line(output) == line, output
    assert "Traceback" not in output
    assert not (tmp_path / "nowhere").exists()


def run_start_and_take_a_port(
    environment: dict[str, str], marker: str, port: int
) -> tuple[int, str]:
    """Run start.sh to its end; when it prints ``marker``, listen on ``port`` (127.0.0.1)."""
    process = subprocess.Popen(
        ["bash", str(START_SCRIPT)],
        cwd=REPOSITORY_ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    watchdog = threading.Timer(240, kill_session, [process.pid])
    watchdog.start()
    lines = []
    try:
        with socket.socket() as taken:
            assert process.stdout is not None
            for line in process.stdout:
                lines.append(line)
                if marker in line and not any(marker in seen for seen in lines[:-1]):
                    taken.bind(("127.0.0.1", port))
                    taken.listen()
            status = process.wait(timeout=60)
    finally:
        watchdog.cancel()
        kill_session(process.pid)
    return status, "".join(lines)


@pytest.mark.parametrize(
    ("name", "marker"),
    [
        # Taken while the database is migrated: before the UI and the API start.
        ("MLFLOW_PORT", "Migrating the database"),
        ("BACKEND_PORT", "Migrating the database"),
    ],
)
def test_port_taken_after_the_first_check_is_the_same_one_line_error(
    tmp_path: Path, name: str, marker: str
) -> None:
    environment = base_environment(tmp_path / "state")
    ports = {"BACKEND_PORT": free_port(), "MLFLOW_PORT": free_port()}
    environment.update({key: str(value) for key, value in ports.items()}, DEMO_BOOTSTRAP="never")
    status, output = run_start_and_take_a_port(environment, marker, ports[name])
    assert status != 0
    assert (
        f"error: port {ports[name]} ({name}) on 127.0.0.1 is already in use: stop what uses it "
        f"or choose another port ({name}=...)."
    ) in output.splitlines(), output
    assert "Errno 98" not in output
    assert "Traceback" not in output
    assert "Ready in" not in output


def test_server_that_exits_early_with_status_0_is_reported_as_stopped_early(
    tmp_path: Path,
) -> None:
    # `mlflow ui` exits 0 when its port is taken: taken here after start.sh's last check.
    environment = base_environment(tmp_path / "state")
    mlflow_port = free_port()
    environment.update(
        BACKEND_PORT=str(free_port()), MLFLOW_PORT=str(mlflow_port), DEMO_BOOTSTRAP="never"
    )
    status, output = run_start_and_take_a_port(
        environment, f"Serving the MLflow UI on http://127.0.0.1:{mlflow_port}", mlflow_port
    )
    assert status != 0
    # mlflow-ui.sh turns `mlflow ui`'s status 0 into a failure, which start.sh reports.
    lines = output.splitlines()
    assert "error: the MLflow UI stopped on its own (see its messages above)." in lines, output
    assert (
        "error: the MLflow UI stopped early (exit status 1; see its messages above); "
        "stopping the rest."
    ) in lines, output
    assert "exit status 0" not in output


# --- smoke test from a clean copy ----------------------------------------------------------


def working_tree_files() -> list[Path]:
    """Tracked and new (not ignored) files of the working tree, as it is now."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPOSITORY_ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    files = []
    for name in sorted(set(filter(None, listed.split("\0")))):
        path = Path(name)
        if path.parts[0] in {"var", ".venv"}:
            continue
        if (REPOSITORY_ROOT / path).is_file():  # skip files deleted but not yet committed
            files.append(path)
    return files


def copy_repository(destination: Path) -> None:
    """Copy the working tree to ``destination`` and share the root ``.venv`` by a symlink."""
    for relative in working_tree_files():
        target = destination / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        source = REPOSITORY_ROOT / relative
        target.write_bytes(source.read_bytes())
        target.chmod(source.stat().st_mode & 0o777)
    (destination / ".venv").symlink_to(REPOSITORY_ROOT / ".venv")


@dataclass
class Started:
    """A running start.sh."""

    process: subprocess.Popen[bytes]
    log: Path
    copy: Path
    state_dir: Path
    api: str
    mlflow: str
    ports: tuple[int, int]

    def output(self) -> str:
        """Everything start.sh printed so far."""
        return self.log.read_text(errors="replace")

    def tail(self, lines: int = 60) -> str:
        """The end of the output, for assertion messages."""
        return "\n".join(self.output().splitlines()[-lines:])


@pytest.fixture(scope="module")
def started(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Started]:
    """start.sh from a clean copy, with a tiny bootstrap, until it reports ready."""
    root = tmp_path_factory.mktemp("start-smoke")
    copy = root / "repository"
    copy_repository(copy)
    state_dir = root / "state"
    backend_port, mlflow_port = free_port(), free_port()
    environment = base_environment(state_dir)
    environment.update(
        BACKEND_PORT=str(backend_port),
        MLFLOW_PORT=str(mlflow_port),
        DEMO_PRODUCTS="120",
        DEMO_EPOCHS="1",
        DEMO_IMAGE_SIZE="32",
        # The copy's code, not the root checkout's editable installs, must run.
        PYTHONPATH=os.pathsep.join([str(copy / "backend"), str(copy / "datascience")]),
        KERAS_HOME=str(root / "keras"),
        MPLCONFIGDIR=str(root / "matplotlib"),
    )
    environment.pop("UV_PROJECT_ENVIRONMENT", None)
    log = root / "start.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            # As a background job of a script (`./scripts/start.sh > log &`) or a CI runner
            # starts it, whatever pytest itself was started with: SIGINT ignored at entry
            # (`trap '' INT` ignores it, and exec keeps it ignored).
            ["bash", "-c", f"trap '' INT; exec bash {START_SCRIPT}"],
            cwd=copy,
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    run = Started(
        process=process,
        log=log,
        copy=copy,
        state_dir=state_dir,
        api=f"http://127.0.0.1:{backend_port}",
        mlflow=f"http://127.0.0.1:{mlflow_port}",
        ports=(backend_port, mlflow_port),
    )
    try:
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while "Press Ctrl-C to stop." not in run.output():
            assert process.poll() is None, f"start.sh exited early:\n{run.tail()}"
            assert time.monotonic() < deadline, f"start.sh not ready in time:\n{run.tail()}"
            time.sleep(1.0)
        yield run
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        kill_session(process.pid)
        process.wait(timeout=30)


@pytest.fixture(scope="module")
def token(started: Started) -> str:
    """An access token of the first administrator."""
    response = httpx.post(
        f"{started.api}/api/v1/login/access-token",
        data={"username": ADMIN, "password": ADMIN_PASSWORD},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


@pytest.mark.slow
def test_start_bootstraps_and_reports_ready(started: Started) -> None:
    output = started.output()
    for number, title in enumerate(
        [
            "Generating the synthetic sample",
            "Creating the dataset",
            "Training the text model",
            "Training the image model",
            "Training the fusion model",
            "Promoting the fusion model",
        ],
        start=1,
    ):
        assert f"[{number}/6] {title}" in output, started.tail()
    assert "models:/fusion@production -> fusion version 1." in output
    # Each fact once, and none of MLflow's noise.
    assert output.count("No model is registered as models:/fusion@production") == 1, output
    for noise in (
        "already exists",
        "Failed to resolve installed pip version",
        "Traceback",
        "InsecureKeyLengthWarning",
    ):
        assert noise not in output, f"{noise!r} in:\n{output}"
    ready = httpx.get(f"{started.api}/api/v1/health/ready", timeout=30)
    assert ready.status_code == 200, ready.text
    assert (started.state_dir / "demo" / "recipe.json").is_file()
    assert (started.state_dir / "app.db").is_file()
    assert (started.state_dir / "mlflow" / "mlflow.db").is_file()
    assert not (started.copy / "var").exists(), "STATE_DIR must be honoured"


@pytest.mark.slow
def test_predict_with_text_and_with_an_image_then_send_feedback(
    started: Started, token: str
) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    text = httpx.post(
        f"{started.api}/api/v1/predict/",
        params={"designation": "Figurine Star Wars", "description": "", "limit": 3},
        headers=headers,
        timeout=60,
    )
    assert text.status_code == 200, text.text
    predictions = text.json()
    assert len(predictions) == 3
    assert all(item["category_id"] in CATEGORY_CODES for item in predictions)
    assert text.headers["X-Model-Name"] == "fusion"

    image_path = next(iter(sorted((started.state_dir / "demo" / "sample" / "images").iterdir())))
    with image_path.open("rb") as image:
        pictured = httpx.post(
            f"{started.api}/api/v1/predict/",
            params={"limit": 5},
            files={"image": (image_path.name, image, "image/jpeg")},
            headers=headers,
            timeout=60,
        )
    assert pictured.status_code == 200, pictured.text
    assert len(pictured.json()) == 5

    feedback = httpx.post(
        f"{started.api}/api/v1/feedback/",
        json={
            "product_id": 1,
            "model_version": pictured.headers["X-Model-Version"],
            "real_category_id": predictions[0]["category_id"],
            "pred_category_id": pictured.json()[0]["category_id"],
            "prediction_id": int(pictured.headers["X-Prediction-Id"]),
        },
        headers=headers,
        timeout=30,
    )
    assert feedback.status_code == 201, feedback.text


@pytest.mark.slow
def test_mlflow_ui_answers_and_shows_the_production_alias(started: Started) -> None:
    page = httpx.get(started.mlflow, timeout=30)
    assert page.status_code == 200
    alias = httpx.get(
        f"{started.mlflow}/api/2.0/mlflow/registered-models/alias",
        params={"name": "fusion", "alias": "production"},
        timeout=30,
    )
    assert alias.status_code == 200, alias.text
    assert alias.json()["model_version"]["version"] == "1"


@pytest.mark.slow
def test_ctrl_c_stops_everything(started: Started) -> None:
    # What Ctrl-C in a terminal does: SIGINT to the foreground process group (start.sh was
    # started with SIGINT ignored, as a background job of a script is).
    zombies = session_processes(started.process.pid, zombies=True)
    assert zombies == [], "no process is left unreaped while serving"
    os.killpg(started.process.pid, signal.SIGINT)
    status = started.process.wait(timeout=STOP_TIMEOUT_SECONDS)
    assert status == 0, started.tail()
    output = started.output()
    assert "Stopped." in output
    assert "KeyboardInterrupt" not in output, "servers stop without a traceback"
    assert "Traceback" not in output, started.tail()
    deadline = time.monotonic() + 10
    while session_processes(started.process.pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert session_processes(started.process.pid) == [], started.tail()
    assert all(port_is_free(port) for port in started.ports)
