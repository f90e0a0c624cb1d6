"""Alembic migrations upgrade and downgrade on SQLite and PostgreSQL, and match the models."""

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from app.db.base import Base
from app.db.init_db import alembic_config, migrate
from app.db.session import create_db_engine
from tests.conftest import SESSION_HOME, dispose_database, new_database_url

TABLES = {"users", "predictions", "feedback", "shadow_predictions"}


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


def _insert_at_0002(url: str, *statements: str) -> None:
    migrate(url, "0002")
    engine = create_db_engine(url)
    try:
        with engine.begin() as connection:
            for statement in statements:
                connection.execute(text(statement))
    finally:
        engine.dispose()


USER_ROW = (
    "INSERT INTO users (id, email, hashed_password, is_active, is_admin, created_at) "
    "VALUES ({id}, '{email}', 'x', true, false, CURRENT_TIMESTAMP)"
)
PREDICTION_ROW = (
    "INSERT INTO predictions (id, created_at, model_name, model_version, designation, "
    "description, results, latency_ms) VALUES (1, CURRENT_TIMESTAMP, 'text', '1', 'a', '', "
    "'[]', 1.0)"
)
FEEDBACK_ROW = (
    "INSERT INTO feedback (id, created_at, product_id, model_version, real_category_id, "
    "pred_category_id, prediction_id) VALUES ({id}, CURRENT_TIMESTAMP, {id}, '1', 10, 10, 1)"
)


def test_upgrade_fills_email_keys_and_keeps_one_feedback_per_prediction(empty_database):
    _insert_at_0002(
        empty_database,
        USER_ROW.format(id=1, email="Marie.Curie@example.com"),
        USER_ROW.format(id=2, email="jean@example.com"),
        PREDICTION_ROW,
        FEEDBACK_ROW.format(id=1),
        FEEDBACK_ROW.format(id=2),
    )
    migrate(empty_database)
    engine = create_db_engine(empty_database)
    try:
        with engine.connect() as connection:
            keys = connection.execute(text("SELECT id, email, email_key FROM users ORDER BY id"))
            assert [tuple(row) for row in keys] == [
                (1, "Marie.Curie@example.com", "marie.curie@example.com"),
                (2, "jean@example.com", "jean@example.com"),
            ]
            links = connection.execute(text("SELECT id, prediction_id FROM feedback ORDER BY id"))
            assert [tuple(row) for row in links] == [(1, 1), (2, None)]
    finally:
        engine.dispose()


def test_upgrade_stops_on_emails_that_differ_only_by_case(empty_database):
    _insert_at_0002(
        empty_database,
        USER_ROW.format(id=1, email="Jean.Dupont@example.com"),
        USER_ROW.format(id=2, email="jean.dupont@example.com"),
    )
    with pytest.raises(RuntimeError, match=r"Jean\.Dupont@example\.com, jean\.dupont@example\.com"):
        migrate(empty_database)


def test_emails_and_predictions_are_unique_in_the_database(empty_database):
    migrate(empty_database)
    engine = create_db_engine(empty_database)
    try:
        inspector = inspect(engine)
        users = {index["name"]: index for index in inspector.get_indexes("users")}
        feedback = {index["name"]: index for index in inspector.get_indexes("feedback")}
    finally:
        engine.dispose()
    assert users["ix_users_email_key"]["unique"]
    assert users["ix_users_email_key"]["column_names"] == ["email_key"]
    assert feedback["ix_feedback_prediction_id"]["unique"]
