"""Prepare the application database before the API starts.

Waits for the database (bounded retries), migrates it to the latest revision and creates the
first administrator (``FIRST_ADMINUSER``) if missing. Safe to run at every start, and by several
instances at once (they take turns).

Usage (from backend/): ``python -m scripts.prestart [--attempts 30] [--interval 1]``

The other commands reading this database open it with :func:`migrated_database`, which says in
one line when it is missing or not migrated yet.
"""

import argparse
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from app.core.config import get_settings
from app.db.init_db import (
    DatabaseUnavailableError,
    migrate,
    seed_first_admin,
    setup_lock,
    wait_for_database,
)
from app.db.models import Prediction
from app.db.session import create_db_engine, create_session_factory
from scripts.start_checks import positive_whole_number, seconds

logger = logging.getLogger("app.prestart")

API_DATABASE = "the API's database, migrated with scripts.prestart"


class UnreadableDatabaseError(Exception):
    """The API's database is missing, not migrated or failing; the message is one line."""


@contextmanager
def migrated_database(database_url: str) -> Iterator[Engine]:
    """Open the API's database, which must exist and hold its tables; dispose of it after.

    Nothing is created: a SQLite file that is not there is reported, not made.

    Raises:
        UnreadableDatabaseError: No SQLite file at the URL, no ``predictions`` table, or a
            database error in the ``with`` block.
    """
    url = make_url(database_url)
    shown = url.render_as_string()
    file = url.database if url.get_backend_name() == "sqlite" else None
    if file not in (None, "", ":memory:") and not Path(str(file)).is_file():
        raise UnreadableDatabaseError(
            f"Cannot read {shown} ({API_DATABASE}): no database file at {url.database}."
        )
    engine = create_db_engine(database_url)
    try:
        with engine.connect() as connection:
            connection.execute(select(Prediction.id).limit(1))
        yield engine
    except SQLAlchemyError as error:
        reason = str(getattr(error, "orig", None) or error).strip().splitlines()
        raise UnreadableDatabaseError(
            f"Cannot read {shown} ({API_DATABASE}): {reason[0] if reason else type(error).__name__}"
        ) from None
    finally:
        engine.dispose()


def _attempts(value: str) -> int:
    try:
        return int(positive_whole_number(value))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a whole number, 1 or more, got {value!r}"
        ) from None


def _interval(value: str) -> float:
    try:
        return float(seconds(value))
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"expected {error}, got {value!r}") from None


def main(argv: list[str] | None = None) -> int:
    """Run the prestart steps; return the process exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attempts", type=_attempts, default=30, help="connection attempts (30)")
    parser.add_argument("--interval", type=_interval, default=1.0, help="seconds between them (1)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s [%(name)s] %(message)s")

    settings = get_settings()
    engine = create_db_engine(settings.database_url)
    try:
        wait_for_database(engine, attempts=args.attempts, interval=args.interval)
        with setup_lock(engine):  # other instances starting now wait for this one
            migrate(settings.database_url)
            admin = seed_first_admin(create_session_factory(engine), settings)
    except DatabaseUnavailableError as error:
        logger.error("%s", error)
        return 1
    finally:
        engine.dispose()
    logger.info(
        "Database %s is at the latest revision; administrator: %s.",
        engine.url.render_as_string(),
        admin.email if admin is not None else "another account than FIRST_ADMINUSER",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
