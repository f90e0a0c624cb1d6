"""The prestart script: waits for the database (bounded), migrates, seeds the admin once."""

import subprocess
import time

import pytest
from sqlalchemy import func, select

from app.db.models import User
from app.db.session import create_db_engine, create_session_factory
from tests.conftest import SESSION_HOME, dispose_database, new_database_url
from tests.helpers.cli import run_python
from tests.helpers.prestart import run_prestarts_together


def run_prestart(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return run_python(
        "-m", "scripts.prestart", *args, env={"SQLALCHEMY_DATABASE_URI": database_url}
    )


def count_admins(url: str) -> int:
    engine = create_db_engine(url)
    try:
        with create_session_factory(engine)() as session:
            return (
                session.scalar(
                    select(func.count()).select_from(User).where(User.is_admin.is_(True))
                )
                or 0
            )
    finally:
        engine.dispose()


def test_prestart_migrates_and_seeds_once():
    url = new_database_url("sqlite", "prestart", SESSION_HOME / "prestart")
    try:
        for _ in range(2):
            completed = run_prestart(url)
            assert completed.returncode == 0, completed.stderr
        assert count_admins(url) == 1
        assert "admin@example.com" in completed.stderr
    finally:
        dispose_database(url)


def test_prestart_on_postgresql():
    url = new_database_url("postgresql", "prestart", SESSION_HOME / "prestart")
    try:
        completed = run_prestart(url)
        assert completed.returncode == 0, completed.stderr
        assert count_admins(url) == 1
    finally:
        dispose_database(url)


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_instances_starting_together_take_turns(kind: str) -> None:
    """Several API instances run prestart at once on a new database: all succeed, one admin."""
    url = new_database_url(kind, "prestart_race", SESSION_HOME / "prestart")
    try:
        run_prestarts_together(url, 3)
        assert count_admins(url) == 1
    finally:
        dispose_database(url)


def test_prestart_gives_up_after_bounded_retries():
    # Nothing listens on port 1: every attempt fails at once.
    url = "postgresql+psycopg2://postgres:secret@127.0.0.1:1/app"
    started = time.perf_counter()
    completed = run_prestart(url, "--attempts", "3", "--interval", "0.1")
    assert completed.returncode == 1
    assert "did not answer after 3 attempts" in completed.stderr
    assert "secret" not in completed.stderr
    assert "Traceback" not in completed.stderr
    assert time.perf_counter() - started < 60
