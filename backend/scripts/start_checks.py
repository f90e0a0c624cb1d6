"""Checks ``scripts/start.sh`` runs before it serves, each failing with one clear line.

Usage (from backend/)::

    python -m scripts.start_checks settings            # shell assignments: eval "$(...)"
    python -m scripts.start_checks ports BACKEND_PORT=8000 MLFLOW_PORT=5000
    python -m scripts.start_checks database --wait 10
    python -m scripts.start_checks preflight --wait 10  # all three, in one process

``settings`` reads and validates the API's settings (environment, then ``.env``) and prints what
the shell script needs as ``NAME=value`` lines quoted for ``eval``. ``ports`` fails when a port is
already taken on 127.0.0.1. ``database`` waits up to ``--wait`` seconds for the application
database to answer. ``preflight`` checks the settings, then the ports start.sh serves on
(``BACKEND_PORT``, and ``MLFLOW_PORT`` unless the tracking URI is a server), then the database,
and prints the assignments when all pass. Exit status: 0 when fine, 2 for invalid settings, 3
for a taken port or a database that does not answer; the message is one line on stderr.
"""

import argparse
import errno
import logging
import shlex
import socket
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

from pydantic import ValidationError
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from app.core.config import DEFAULT_SECRET, Settings
from app.db.session import create_db_engine

EXIT_INVALID_SETTINGS = 2
EXIT_UNAVAILABLE = 3
REMOTE_TRACKING_SCHEMES = frozenset({"http", "https", "databricks"})


class CheckError(Exception):
    """A check failed; the message is for a person, on one line."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def read_settings() -> Settings:
    """Read and validate the settings.

    Raises:
        CheckError: a value is invalid (the first problem, on one line).
    """
    try:
        return Settings()
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        message = str(first["msg"]).removeprefix("Value error, ")
        raise CheckError(
            f"invalid settings: {where + ': ' if where else ''}{message}", EXIT_INVALID_SETTINGS
        ) from None


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
    """Fail when one of the ``NAME=port`` ports is already in use on 127.0.0.1.

    Raises:
        CheckError: a port is taken, or an argument is not ``NAME=port``.
    """
    for assignment in assignments:
        name, _, value = assignment.partition("=")
        if not value.isdigit():
            raise CheckError(f"expected NAME=PORT, got {assignment!r}", EXIT_INVALID_SETTINGS)
        port = int(value)
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
            "--wait", type=float, default=10.0, help="seconds to wait at most (default: 10)"
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
            ports = [f"BACKEND_PORT={settings.BACKEND_PORT}"]
            if assignments["TRACKING_IS_SERVER"] == "0":
                ports.append(f"MLFLOW_PORT={settings.MLFLOW_PORT}")
            check_ports(ports)
        if args.command in {"database", "preflight"}:
            check_database(settings, args.wait)
        if args.command in {"settings", "preflight"}:
            for name, value in assignments.items():
                print(f"{name}={shlex.quote(value)}")
    except CheckError as error:
        print(f"error: {error}", file=sys.stderr)
        return error.status
    return 0


if __name__ == "__main__":
    sys.exit(main())
