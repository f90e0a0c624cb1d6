"""Bring the database to life: wait for it, migrate it to head, seed the first administrator."""

import fcntl
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Final

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from app.core.config import Settings
from app.db.crud.users import count_active_admins, create_user, get_user_by_email
from app.db.models import User

logger = logging.getLogger(__name__)

BACKEND_DIR: Final = Path(__file__).resolve().parents[2]
ALEMBIC_INI: Final = BACKEND_DIR / "alembic.ini"


SETUP_LOCK_KEY: Final = 0x45434F4D4D4C4F50
"""PostgreSQL advisory lock held while one instance migrates and seeds (any constant works)."""


class DatabaseUnavailableError(RuntimeError):
    """The database did not answer within the allowed attempts."""


def wait_for_database(engine: Engine, *, attempts: int = 30, interval: float = 1.0) -> None:
    """Run ``SELECT 1`` until it succeeds, at most ``attempts`` times, ``interval`` apart.

    Raises:
        DatabaseUnavailableError: the last attempt failed too.
    """
    for attempt in range(1, attempts + 1):
        try:
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except OperationalError as error:
            reason = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
            if attempt == attempts:
                raise DatabaseUnavailableError(
                    f"The database at {engine.url.render_as_string()} did not answer after "
                    f"{attempts} attempts: {reason}"
                ) from error
            logger.info("Database not ready (attempt %d/%d): %s", attempt, attempts, reason)
            time.sleep(interval)
        else:
            return


@contextmanager
def setup_lock(engine: Engine) -> Iterator[None]:
    """Let one process at a time prepare the database (several API instances start together).

    Concurrent migrations fail (two ``CREATE TABLE`` of the same table) and concurrent seeding
    creates the first administrator twice: every instance takes this lock around both. On
    PostgreSQL it is a session advisory lock; on SQLite an exclusive lock on a file beside the
    database (its processes share a machine).
    """
    url = engine.url
    if url.get_backend_name() == "postgresql":
        with engine.connect() as connection:
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": SETUP_LOCK_KEY})
            connection.commit()
            try:
                yield
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": SETUP_LOCK_KEY})
                connection.commit()
        return
    database = url.database if url.get_backend_name() == "sqlite" else None
    if not database or database == ":memory:":
        yield
        return
    lock_path = Path(f"{database}.setup-lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("a") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)


def alembic_config(database_url: str) -> Config:
    """Return the Alembic configuration of ``backend/alembic.ini`` for ``database_url``."""
    config = Config(str(ALEMBIC_INI))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    config.attributes["configure_logger"] = False
    return config


def migrate(database_url: str, revision: str = "head") -> None:
    """Upgrade the database to ``revision``."""
    command.upgrade(alembic_config(database_url), revision)


def seed_first_admin(session_factory: sessionmaker[Session], settings: Settings) -> User | None:
    """Create ``FIRST_ADMINUSER`` as an active administrator while the database has none.

    Idempotent: an existing account is returned unchanged (its password is not reset), unless
    the database has no active administrator at all (a database locked out before the API
    refused it): then that account is made an active administrator again. When the address
    does not exist but another active administrator does (the first one changed its e-mail),
    nothing is created: an account with the configured password never comes back by itself.

    Returns:
        The ``FIRST_ADMINUSER`` account, or ``None`` when it does not exist and need not.
    """
    with session_factory() as session:
        user = get_user_by_email(session, settings.FIRST_ADMINUSER)
        if user is None and count_active_admins(session) > 0:
            logger.info(
                "%s does not exist, and active administrators do: none created.",
                settings.FIRST_ADMINUSER,
            )
            return None
        if user is None:
            user = create_user(
                session,
                email=settings.FIRST_ADMINUSER,
                password=settings.FIRST_ADMINUSER_PASSWORD,
                is_admin=True,
            )
            logger.info("Created the first administrator %s.", user.email)
        elif count_active_admins(session) == 0:
            user.is_active = user.is_admin = True
            logger.warning(
                "No active administrator was left: %s is an active administrator again.",
                user.email,
            )
        session.commit()
        return user
