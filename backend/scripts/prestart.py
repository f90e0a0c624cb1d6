"""Prepare the application database before the API starts.

Waits for the database (bounded retries), migrates it to the latest revision and creates the
first administrator (``FIRST_ADMINUSER``) if missing. Safe to run at every start, and by several
instances at once (they take turns).

Usage (from backend/): ``python -m scripts.prestart [--attempts 30] [--interval 1]``
"""

import argparse
import logging
import sys

from app.core.config import get_settings
from app.db.init_db import (
    DatabaseUnavailableError,
    migrate,
    seed_first_admin,
    setup_lock,
    wait_for_database,
)
from app.db.session import create_db_engine, create_session_factory

logger = logging.getLogger("app.prestart")


def main(argv: list[str] | None = None) -> int:
    """Run the prestart steps; return the process exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attempts", type=int, default=30, help="connection attempts (30)")
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between them (1)")
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
        admin.email,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
