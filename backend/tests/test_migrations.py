"""Alembic migrations upgrade and downgrade on SQLite and PostgreSQL, and match the models."""

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from app.db.base import Base
from app.db.init_db import alembic_config, migrate
from app.db.session import create_db_engine
from tests.conftest import SESSION_HOME, dispose_database, new_database_url

TABLES = {"users", "predictions", "feedback"}


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request):
    url = new_database_url(request.param, "migrations_test", SESSION_HOME / "migrations")
    yield url
    dispose_database(url)


def tables(url: str) -> set[str]:
    engine = create_db_engine(url)
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def test_upgrade_downgrade_upgrade(empty_database):
    config = alembic_config(empty_database)
    migrate(empty_database)
    assert tables(empty_database) == TABLES
    command.downgrade(config, "0001")
    assert tables(empty_database) == {"users"}
    command.downgrade(config, "base")
    assert tables(empty_database) == set()
    command.upgrade(config, "0001")
    command.upgrade(config, "head")
    assert tables(empty_database) == TABLES


def test_migrations_match_the_models(empty_database):
    migrate(empty_database)
    engine = create_db_engine(empty_database)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
    finally:
        engine.dispose()


def test_feedback_unique_per_product_and_version_in_the_database(empty_database):
    migrate(empty_database)
    engine = create_db_engine(empty_database)
    try:
        constraints = inspect(engine).get_unique_constraints("feedback")
    finally:
        engine.dispose()
    assert any(set(c["column_names"]) == {"product_id", "model_version"} for c in constraints)
