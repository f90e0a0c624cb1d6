"""Checks ``scripts/start.sh`` runs before it serves, each failing with one clear line.

Usage (from backend/)::

    python -m scripts.start_checks settings            # shell assignments: eval "$(...)"
    python -m scripts.start_checks ports BACKEND_PORT=8000 MLFLOW_PORT=5000
    python -m scripts.start_checks database --wait 10
    python -m scripts.start_checks preflight            # all three, in one process

``settings`` reads and validates the API's settings (environment, then ``.env``; the ports must
be 1 to 65535 and ``STATE_DIR`` a folder, or one that can be created) and prints what the shell
script needs as ``NAME=value`` lines quoted for ``eval``. ``ports`` fails when a port is not a
port number, when two of them are equal, or when one is already taken on 127.0.0.1.
``database`` waits up to ``--wait`` seconds (default: ``DB_WAIT_SECONDS``, else 10) for the
application database to answer. ``preflight`` checks the settings and the variables start.sh
itself reads (:data:`SCRIPT_SETTINGS`), then the ports start.sh serves on (``BACKEND_PORT``, and
``MLFLOW_PORT`` unless the tracking URI is a server), then the database, and prints the
assignments when all pass. Exit status: 0 when fine, 2 for invalid settings, 3 for a taken port
or a database that does not answer; the message is one line on stderr.
"""

import argparse
import errno
import logging
import math
import os
import re
import shlex
import socket
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from pydantic import ValidationError
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from app.core.config import DEFAULT_SECRET, Settings
from app.db.session import create_db_engine
from app.serve import AUTO, worker_setting
from product_classifier.settings import EXIT_INVALID_SETTINGS, settings_error_line

EXIT_UNAVAILABLE = 3
REMOTE_TRACKING_SCHEMES = frozenset({"http", "https", "databricks"})


PORT_SETTINGS = ("BACKEND_PORT", "MLFLOW_PORT")
"""The settings holding a port start.sh serves on."""
LOWEST_PORT, HIGHEST_PORT = 1, 65535
WHOLE_NUMBER = re.compile(r"[0-9]+")


class CheckError(Exception):
    """A check failed; the message is for a person, on one line."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def invalid_setting(name: str, value: object, expected: str) -> CheckError:
    """The one-line error for a setting ``name`` whose ``value`` is not what is ``expected``."""
    return CheckError(
        f'invalid settings: {name} is "{value}": expected {expected}.', EXIT_INVALID_SETTINGS
    )


def port_number(name: str, value: object) -> int:
    """``value`` as a port number (1 to 65535), the port setting ``name`` holds.

    Raises:
        CheckError: it is not a whole number in that range.
    """
    text = str(value).strip()
    if WHOLE_NUMBER.fullmatch(text) and LOWEST_PORT <= int(text) <= HIGHEST_PORT:
        return int(text)
    raise invalid_setting(name, value, f"a port number from {LOWEST_PORT} to {HIGHEST_PORT}")


def positive_whole_number(value: str) -> str:
    """A whole number, 1 or more (for bash arithmetic: no sign, no decimals)."""
    if WHOLE_NUMBER.fullmatch(value) and int(value) >= 1:
        return str(int(value))
    raise ValueError("a whole number of seconds, 1 or more")


def seconds(value: str) -> str:
    """A number of seconds, 0 or more (decimals allowed)."""
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if math.isfinite(number) and number >= 0:
        return str(number)
    raise ValueError("a number of seconds, 0 or more")


def one_of(*choices: str) -> Callable[[str], str]:
    """A validator accepting one of ``choices``."""

    def choice(value: str) -> str:
        if value in choices:
            return value
        raise ValueError(f"{', '.join(choices[:-1])} or {choices[-1]}")

    return choice


@dataclass(frozen=True)
class ScriptSetting:
    """A variable start.sh reads itself (from the environment; empty means the default)."""

    name: str
    default: str
    validate: Callable[[str], str]
    """Returns the value to use; raises ``ValueError("<what is expected>")`` otherwise."""


SCRIPT_SETTINGS = (
    ScriptSetting("DEMO_BOOTSTRAP", "auto", one_of("auto", "always", "never")),
    ScriptSetting("DB_WAIT_SECONDS", "10", seconds),
    ScriptSetting("READY_TIMEOUT_SECONDS", "300", positive_whole_number),
    ScriptSetting("API_WORKERS", AUTO, worker_setting),
)


def script_setting(name: str, environment: Mapping[str, str]) -> str:
    """The value of the :data:`SCRIPT_SETTINGS` variable ``name``, validated.

    Raises:
        CheckError: it is invalid (on one line).
    """
    setting = next(setting for setting in SCRIPT_SETTINGS if setting.name == name)
    value = environment.get(name) or setting.default
    try:
        return setting.validate(value)
    except ValueError as error:
        raise invalid_setting(name, value, str(error)) from None


def read_script_settings(environment: Mapping[str, str]) -> dict[str, str]:
    """Validate every variable of :data:`SCRIPT_SETTINGS`; return their values by name.

    Raises:
        CheckError: a value is invalid (the first one, on one line).
    """
    return {setting.name: script_setting(setting.name, environment) for setting in SCRIPT_SETTINGS}


def check_state_dir(state_dir: Path) -> None:
    """Fail when ``STATE_DIR`` is not a writable folder and cannot be created as one.

    Nothing is created: the nearest existing parent folder must be writable.

    Raises:
        CheckError: it is something else than a folder, or cannot be created or written.
    """
    if state_dir.is_dir():
        if not os.access(state_dir, os.W_OK | os.X_OK):
            raise invalid_setting("STATE_DIR", state_dir, "a folder this user can write in")
        return
    if state_dir.is_symlink() and not state_dir.exists():
        raise invalid_setting("STATE_DIR", state_dir, "a folder, not a broken link")
    if state_dir.exists():
        raise invalid_setting("STATE_DIR", state_dir, "a folder, not a file")
    parent = state_dir.parent
    while not parent.exists() and not parent.is_symlink() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise invalid_setting(
            "STATE_DIR", state_dir, f"a folder that can be created ({parent} is not a folder)"
        )
    if not os.access(parent, os.W_OK | os.X_OK):
        raise invalid_setting(
            "STATE_DIR", state_dir, f"a folder that can be created (cannot write in {parent})"
        )


def read_settings() -> Settings:
    """Read and validate the settings, the ports (1 to 65535) and ``STATE_DIR`` included.

    Raises:
        CheckError: a value is invalid (the first problem, on one line).
    """
    try:
        settings = Settings()
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        if where in PORT_SETTINGS:
            port_number(where, first["input"])  # raises the error naming the range
        raise CheckError(settings_error_line(error), EXIT_INVALID_SETTINGS) from None
    for name in PORT_SETTINGS:
        port_number(name, getattr(settings, name))
    check_state_dir(settings.STATE_DIR)
    return settings


def settings_assignments(settings: Settings) -> dict[str, str]:
    """Return what start.sh needs to know, by shell variable name."""
    tracking_uri = settings.tracking_uri
    remote = urlparse(tracking_uri).scheme in REMOTE_TRACKING_SCHEMES
    default_password = settings.FIRST_ADMINUSER_PASSWORD == DEFAULT_SECRET
    return {
        "BACKEND_PORT": str(settings.BACKEND_PORT),
        "MLFLOW_PORT": str(settings.MLFLOW_PORT),
        "TARGET_ENV": settings.TARGET_ENV,
        "API_V1_STR": settings.API_V1_STR,
        "FIRST_ADMINUSER": str(settings.FIRST_ADMINUSER),
        "ADMIN_PASSWORD_IS_DEFAULT": "1" if default_password else "0",
        "MODEL_URI": settings.model_uri,
        "STATE_DIR": str(settings.STATE_DIR),
        "DATABASE_DISPLAY_URL": make_url(settings.database_url).render_as_string(),
        "TRACKING_URI": tracking_uri,
        "TRACKING_IS_SERVER": "1" if remote else "0",
        "TRACKING_STORE_EXISTS": "1" if tracking_store_exists(tracking_uri) else "0",
    }


def tracking_store_exists(tracking_uri: str) -> bool:
    """Whether the MLflow store is there already: a server, or an existing SQLite file.

    Another database may be new (MLflow creates its tables on first use), so it counts as not
    there: start.sh then lets one process create the tables before the others open it.
    """
    url = urlparse(tracking_uri)
    if url.scheme in REMOTE_TRACKING_SCHEMES:
        return True
    if url.scheme == "sqlite":
        database = make_url(tracking_uri).database
        return database is not None and Path(database).is_file()
    return False


def check_ports(assignments: list[str]) -> None:
    """Fail when the ``NAME=port`` ports are not distinct port numbers free on 127.0.0.1.

    Raises:
        CheckError: an argument is not ``NAME=port``, a port is not 1 to 65535, two are equal,
            or one is taken.
    """
    ports: dict[int, str] = {}
    for assignment in assignments:
        name, equals, value = assignment.partition("=")
        if not name or not equals:
            raise CheckError(f"expected NAME=PORT, got {assignment!r}", EXIT_INVALID_SETTINGS)
        port = port_number(name, value)
        if port in ports:
            raise CheckError(
                f"invalid settings: {ports[port]} and {name} are both {port}: each server needs "
                "a port of its own.",
                EXIT_INVALID_SETTINGS,
            )
        ports[port] = name
    for port, name in ports.items():
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            # As uvicorn does: a port in TIME_WAIT is free to use.
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(("127.0.0.1", port))
            except OSError as error:
                reason = "already in use" if error.errno == errno.EADDRINUSE else error.strerror
                raise CheckError(
                    f"port {port} ({name}) on 127.0.0.1 is {reason}: stop what uses it or "
                    f"choose another port ({name}=...).",
                    EXIT_UNAVAILABLE,
                ) from None


def check_database(settings: Settings, wait_seconds: float) -> None:
    """Wait until the application database answers ``SELECT 1``.

    Raises:
        CheckError: it did not answer within ``wait_seconds``.
    """
    url = make_url(settings.database_url)
    if url.get_backend_name() == "postgresql":
        engine = create_engine(url, connect_args={"connect_timeout": 5})
    else:
        engine = create_db_engine(settings.database_url)
    deadline = time.monotonic() + wait_seconds
    try:
        while True:
            try:
                with engine.connect() as connection:
                    connection.execute(text("SELECT 1"))
                return
            except SQLAlchemyError as error:
                if time.monotonic() >= deadline:
                    orig = getattr(error, "orig", None) or error
                    reason = " ".join(str(orig).split()) or type(orig).__name__
                    raise CheckError(
                        f"the database at {url.render_as_string()} does not answer: {reason}",
                        EXIT_UNAVAILABLE,
                    ) from None
            time.sleep(1.0)
    finally:
        engine.dispose()


def build_parser() -> argparse.ArgumentParser:
    """Return the command-line parser."""
    parser = argparse.ArgumentParser(
        prog="python -m scripts.start_checks", description=__doc__.splitlines()[0]
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("settings", help="validate the settings; print shell assignments")
    ports = commands.add_parser("ports", help="fail when a port is in use on 127.0.0.1")
    ports.add_argument("ports", nargs="+", metavar="NAME=PORT")
    database = commands.add_parser("database", help="wait for the application database")
    preflight = commands.add_parser("preflight", help="settings, ports and database, in turn")
    for command in (database, preflight):
        command.add_argument(
            "--wait",
            type=float,
            default=None,
            help="seconds to wait at most (default: DB_WAIT_SECONDS, else 10)",
        )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one check; return the process exit code."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    try:
        if args.command == "ports":
            check_ports(args.ports)
            return 0
        settings = read_settings()
        assignments = settings_assignments(settings)
        if args.command == "preflight":
            assignments |= read_script_settings(os.environ)
            ports = [f"BACKEND_PORT={settings.BACKEND_PORT}"]
            if assignments["TRACKING_IS_SERVER"] == "0":
                ports.append(f"MLFLOW_PORT={settings.MLFLOW_PORT}")
            check_ports(ports)
        if args.command in {"database", "preflight"}:
            wait_seconds = args.wait
            if wait_seconds is None:
                wait_seconds = float(script_setting("DB_WAIT_SECONDS", os.environ))
            check_database(settings, wait_seconds)
        if args.command in {"settings", "preflight"}:
            for name, value in assignments.items():
                print(f"{name}={shlex.quote(value)}")
    except CheckError as error:
        print(f"error: {error}", file=sys.stderr)
        return error.status
    return 0


if __name__ == "__main__":
    sys.exit(main())
