"""The shell scripts' arguments: ``-h``/``--help`` is a usage text, anything else they do not take
is refused with one line and status 2, in both cases before they do anything.

Every script runs with fake ``uv`` and ``docker`` first on the PATH, which record each call
(and fail, except for the ``docker compose`` calls that look its options up): ``--help`` and a
refused argument must leave no such record (no install, no hooks, no build), no STATE_DIR
(no MLflow store, no database) and the ports free, and return at once.
"""

import os
import stat
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from product_classifier.paths import REPOSITORY_ROOT
from tests.test_start_script import free_port, port_is_free

# Each script, and words its usage must show (the environment variables it reads, what it
# passes its arguments on to).
SCRIPTS: dict[str, tuple[str, ...]] = {
    "scripts/start.sh": ("SKIP_SYNC", "BACKEND_PORT", "MLFLOW_PORT", "STATE_DIR", "DEMO_BOOTSTRAP"),
    "scripts/start-with-telemetry.sh": ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_SERVICE_NAME"),
    "scripts/environment-setup.sh": ("UV_PROJECT_ENVIRONMENT", "UV_NO_MODIFY_PATH"),
    "scripts/mlflow-ui.sh": ("[mlflow ui options]", "MLFLOW_PORT", "STATE_DIR"),
    "scripts/run-tests.sh": ("[pytest options]", "CI=true", "SUITES_IN_PARALLEL=false"),
    "scripts/docker-deploy.sh": ("[docker compose up options]", "API_REPLICAS", ".env"),
    "backend/scripts/prestart.sh": ("[--attempts N]", "FIRST_ADMINUSER", "STATE_DIR"),
    "backend/scripts/start-reload.sh": ("[python -m app.serve options]", "BACKEND_PORT", "HOST"),
}
NO_ARGUMENTS = (
    "scripts/start.sh",
    "scripts/start-with-telemetry.sh",
    "scripts/environment-setup.sh",
)
# What the wrapped tool is called in the error line of the scripts that pass arguments on.
TOOLS = {
    "scripts/mlflow-ui.sh": "mlflow ui",
    "scripts/run-tests.sh": "pytest",
    "scripts/docker-deploy.sh": "docker compose up",
    "backend/scripts/prestart.sh": "python -m scripts.prestart",
    "backend/scripts/start-reload.sh": "python -m app.serve",
}
# docker-deploy.sh finds Compose and reads its options, which does nothing.
LOOK_UPS = frozenset({"docker compose version", "docker compose up --help"})
HELP_SECONDS = 5.0

FAKE_TOOL = """#!/bin/sh
echo "$(basename "$0") $*" >>"$FAKE_TOOL_RECORD"
case "$(basename "$0") $*" in
"docker compose version") exit 0 ;;
"docker compose up --help") printf '%s\\n' "$FAKE_COMPOSE_UP_HELP" && exit 0 ;;
esac
exit 97
"""
# The start of `docker compose up --help` (Compose v2).
COMPOSE_UP_HELP = """Usage:  docker compose up [OPTIONS] [SERVICE...]

Create and start containers

Options:
      --build                        Build images before starting containers
  -d, --detach                       Detached mode: Run containers in the background
      --scale scale                  Scale SERVICE to NUM instances. Overrides the scale
                                     setting in the Compose file if present.
      --wait                         Wait for services to be running|healthy. Implies
                                     detached mode."""


@dataclass
class Sandbox:
    """The environment a script runs in, and where to see what it did."""

    environment: dict[str, str]
    record: Path
    state_dir: Path
    ports: tuple[int, int]

    def calls(self) -> list[str]:
        """The fake tools' calls, in order."""
        return self.record.read_text().splitlines() if self.record.exists() else []

    def assert_nothing_done(self) -> None:
        assert set(self.calls()) <= LOOK_UPS, self.calls()
        assert not self.state_dir.exists(), "nothing may be written"
        for port in self.ports:
            assert port_is_free(port), f"port {port} is taken"


@dataclass
class Run:
    """A script's run: status, outputs and duration."""

    status: int
    stdout: str
    stderr: str
    seconds: float


@pytest.fixture
def sandbox(tmp_path: Path) -> Sandbox:
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    fake = fake_bin / "fake-tool"
    fake.write_text(FAKE_TOOL)
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    for tool in ("uv", "docker", "docker-compose"):
        (fake_bin / tool).symlink_to(fake)
    ports = (free_port(), free_port())
    environment = {
        **os.environ,
        "PATH": f"{fake_bin}{os.pathsep}{os.environ['PATH']}",
        "FAKE_TOOL_RECORD": str(tmp_path / "calls"),
        "FAKE_COMPOSE_UP_HELP": COMPOSE_UP_HELP,
        "STATE_DIR": str(tmp_path / "state"),
        "MLFLOW_TRACKING_URI": "",
        "BACKEND_PORT": str(ports[0]),
        "MLFLOW_PORT": str(ports[1]),
    }
    for name in ("SKIP_SYNC", "SQLALCHEMY_DATABASE_URI", "POSTGRES_SERVER", "CI"):
        environment.pop(name, None)
    return Sandbox(environment, tmp_path / "calls", tmp_path / "state", ports)


def run_script(script: str, *arguments: str, environment: dict[str, str]) -> Run:
    """Run a script as a person would (``./scripts/start.sh ...`` from the repository root)."""
    started = time.monotonic()
    completed = subprocess.run(
        [f"./{script}", *arguments],
        cwd=REPOSITORY_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        start_new_session=True,
    )
    return Run(completed.returncode, completed.stdout, completed.stderr, time.monotonic() - started)


def test_every_script_is_covered() -> None:
    found = {
        str(path.relative_to(REPOSITORY_ROOT))
        for folder in ("scripts", "backend/scripts")
        for path in (REPOSITORY_ROOT / folder).glob("*.sh")
    }
    assert found == set(SCRIPTS)
    assert set(NO_ARGUMENTS) | set(TOOLS) == set(SCRIPTS)


@pytest.mark.parametrize("option", ["--help", "-h"])
@pytest.mark.parametrize("script", list(SCRIPTS))
def test_help_prints_the_usage_and_does_nothing(sandbox: Sandbox, script: str, option: str) -> None:
    run = run_script(script, option, environment=sandbox.environment)
    assert run.status == 0, run.stderr
    assert run.stderr == ""
    assert run.stdout.startswith(f"Usage: ./{script} [-h | --help]"), run.stdout
    for word in SCRIPTS[script]:
        assert word in run.stdout, word
    assert run.seconds < HELP_SECONDS
    assert sandbox.calls() == []
    sandbox.assert_nothing_done()


def test_help_wins_over_other_arguments(sandbox: Sandbox) -> None:
    run = run_script(
        "scripts/start.sh", "--port", "9000", "--help", environment=sandbox.environment
    )
    assert run.status == 0
    assert run.stdout.startswith("Usage: ./scripts/start.sh")
    sandbox.assert_nothing_done()


@pytest.mark.parametrize("arguments", [("--port", "9000"), ("foo",), ("-x",), ("",)])
@pytest.mark.parametrize("script", NO_ARGUMENTS)
def test_scripts_without_arguments_refuse_any(
    sandbox: Sandbox, script: str, arguments: tuple[str, ...]
) -> None:
    run = run_script(script, *arguments, environment=sandbox.environment)
    assert run.status == 2
    assert run.stderr == f"error: unknown argument '{arguments[0]}' (see ./{script} --help)\n"
    assert run.stdout == ""
    assert run.seconds < HELP_SECONDS
    sandbox.assert_nothing_done()


@pytest.mark.parametrize("value", ["yes", "0", "False"])
def test_run_tests_refuses_an_invalid_suites_in_parallel_before_anything(
    sandbox: Sandbox, value: str
) -> None:
    environment = {**sandbox.environment, "SUITES_IN_PARALLEL": value}
    run = run_script("scripts/run-tests.sh", environment=environment)
    assert run.status == 1
    assert run.stderr == (
        f'error: invalid settings: SUITES_IN_PARALLEL is "{value}": expected true (the '
        "datascience suite beside the backend's) or false.\n"
    )
    sandbox.assert_nothing_done()


@pytest.mark.parametrize("argument", ["--no-such-option", "--no-such-option=1", "-Z"])
@pytest.mark.parametrize("script", list(TOOLS))
def test_options_the_tool_does_not_list_are_refused_before_anything(
    sandbox: Sandbox, script: str, argument: str
) -> None:
    run = run_script(script, argument, environment=sandbox.environment)
    name = argument.split("=", maxsplit=1)[0]
    assert run.status == 2, run.stderr
    assert run.stderr == (
        f"error: unknown argument '{name}': not an option of {TOOLS[script]} "
        f"(see ./{script} --help)\n"
    )
    assert "MLflow UI on" not in run.stdout
    sandbox.assert_nothing_done()


@dataclass
class Accepted:
    """Options a script takes, and how the script then stops at its next step."""

    arguments: tuple[str, ...]
    environment: dict[str, str]
    stopped_by: str


ACCEPTED = {
    "scripts/run-tests.sh": Accepted(
        ("-x", "-vv", "-k", "a and not b", "--lf", "--timeout=5", "--", "--anything"),
        {},
        "uv sync failed",
    ),
    "scripts/docker-deploy.sh": Accepted(("--build", "-d", "api"), {}, "Docker engine"),
    "scripts/mlflow-ui.sh": Accepted(("--host", "127.0.0.1"), {"MLFLOW_PORT": "70000"}, "70000"),
    "backend/scripts/prestart.sh": Accepted(
        ("--attempts", "1", "--interval=0.1"), {"TARGET_ENV": "no-such-env"}, "TARGET_ENV"
    ),
    "backend/scripts/start-reload.sh": Accepted(
        ("--log-level", "debug", "--no-access-log"), {"TARGET_ENV": "no-such-env"}, "TARGET_ENV"
    ),
}


@pytest.mark.parametrize("script", list(ACCEPTED))
def test_scripts_still_pass_their_tools_options_on(sandbox: Sandbox, script: str) -> None:
    """Past the argument check: each stops at its next step, set up here to fail at once."""
    accepted = ACCEPTED[script]
    run = run_script(
        script, *accepted.arguments, environment={**sandbox.environment, **accepted.environment}
    )
    assert run.status != 0
    assert "unknown argument" not in run.stderr
    assert accepted.stopped_by in run.stdout + run.stderr, run.stdout + run.stderr


# A small help text in argparse's form (pytest's, python -m app.serve's), and in click's
# (mlflow ui's): argparse reads a word that starts with a dash as an option, click does not.
ARGPARSE_HELP = """usage: tool [options] [file_or_dir ...]

options:
  -k EXPRESSION         Only run tests matching, e.g. -k 'a or b'
  -x, --exitfirst
  -s
  -v, --verbose
  --timeout=TIMEOUT
  --cache-show=[CACHESHOW]
                        --described-only VALUE (a description, not an option)"""
CLICK_HELP = """Usage: tool [OPTIONS]

Options:
  -p, --port INTEGER       The port to listen on.
  --app-name [basic-auth]  Application name.
  --gunicorn-opts TEXT     Options passed on to gunicorn.
  --dev / --no-dev         Development mode."""


def check_against_help(
    arguments: tuple[str, ...], listing: str
) -> "subprocess.CompletedProcess[str]":
    """``refuse_unknown_options`` on ``arguments``, for a tool whose help is ``listing``."""
    helper = REPOSITORY_ROOT / "scripts" / "lib" / "arguments.sh"
    return subprocess.run(
        [
            "bash",
            "-c",
            'source "$0"; tool_help() { printf "%s\\n" "$LISTING"; }\n'
            'refuse_unknown_options tool tool_help "$@"; echo accepted',
            str(helper),
            *arguments,
        ],
        env={**os.environ, "LISTING": listing},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


# An option that takes a value, given last, for each script that checks its tool's options.
VALUE_OPTIONS = {
    "scripts/run-tests.sh": "-k",
    "scripts/mlflow-ui.sh": "--port",
    "scripts/docker-deploy.sh": "--scale",
}


@pytest.mark.parametrize("script", list(VALUE_OPTIONS))
def test_an_option_given_no_value_is_refused_before_anything(sandbox: Sandbox, script: str) -> None:
    option = VALUE_OPTIONS[script]
    run = run_script(script, option, environment=sandbox.environment)
    assert run.status == 2, run.stderr
    assert run.stderr == f"error: option '{option}' needs a value (see ./{script} --help)\n"
    sandbox.assert_nothing_done()


UNKNOWN = "unknown argument '{}': not an option of tool"
NEEDS_VALUE = "option '{}' needs a value"
NOT_THE_OPTION = "option '{}' needs a value, not the option '{}'"


@pytest.mark.parametrize(
    ("listing", "arguments", "refusal"),
    [
        (ARGPARSE_HELP, ("-xvs", "-kfoo", "--exitfirst", "--timeout=3", "path/test_a.py"), None),
        (ARGPARSE_HELP, ("-x", "--", "--anything", "-z"), None),
        (ARGPARSE_HELP, ("-k", "name", "--time", "3"), UNKNOWN.format("--time")),
        (ARGPARSE_HELP, ("--timeout-x=1",), UNKNOWN.format("--timeout-x")),
        (ARGPARSE_HELP, ("-zx",), UNKNOWN.format("-z")),
        (ARGPARSE_HELP, ("--described-only",), UNKNOWN.format("--described-only")),
        (ARGPARSE_HELP, ("-k", "a and not b", "--timeout", "3", "-x"), None),
        (ARGPARSE_HELP, ("--timeout", "-1", "-k", "-x or y"), None),  # a number, words
        (ARGPARSE_HELP, ("--cache-show",), None),  # its value is optional
        (ARGPARSE_HELP, ("-k",), NEEDS_VALUE.format("-k")),
        (ARGPARSE_HELP, ("-x", "--timeout"), NEEDS_VALUE.format("--timeout")),
        (ARGPARSE_HELP, ("--timeout=",), NEEDS_VALUE.format("--timeout")),
        (ARGPARSE_HELP, ("-k", "--", "name"), NEEDS_VALUE.format("-k")),
        (ARGPARSE_HELP, ("-k", "--exitfirst"), NOT_THE_OPTION.format("-k", "--exitfirst")),
        (ARGPARSE_HELP, ("-k", "-xv"), NOT_THE_OPTION.format("-k", "-xv")),
        (ARGPARSE_HELP, ("-k", "-z"), NOT_THE_OPTION.format("-k", "-z")),
        (CLICK_HELP, ("-p", "5001", "--app-name", "basic-auth", "--no-dev"), None),
        (CLICK_HELP, ("--gunicorn-opts", "-w 4", "--gunicorn-opts", "--port=4"), None),
        (CLICK_HELP, ("--gunicorn-opts", "-z"), None),  # click takes it as the value
        (CLICK_HELP, ("-p",), NEEDS_VALUE.format("-p")),  # the short alias of --port
        (CLICK_HELP, ("--app-name",), NEEDS_VALUE.format("--app-name")),  # a choice
        (CLICK_HELP, ("-p", "--dev"), NOT_THE_OPTION.format("-p", "--dev")),
        (CLICK_HELP, ("-auth",), UNKNOWN.format("-a")),  # not the end of "basic-auth"
    ],
)
def test_options_are_checked_against_the_tools_help(
    listing: str, arguments: tuple[str, ...], refusal: str | None
) -> None:
    completed = check_against_help(arguments, listing)
    if refusal is None:
        assert (completed.returncode, completed.stdout) == (0, "accepted\n"), completed.stderr
    else:
        assert completed.returncode == 2
        assert completed.stderr.startswith(f"error: {refusal} (see "), completed.stderr
