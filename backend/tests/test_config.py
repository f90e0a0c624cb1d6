"""Settings: names, database URL, CORS list, refusal of default secrets outside development."""

import pytest
from pydantic import ValidationError

from app.core.config import Settings


def test_sqlite_under_state_dir_by_default(tmp_path):
    settings = Settings(STATE_DIR=tmp_path, SQLALCHEMY_DATABASE_URI="", POSTGRES_SERVER="")
    assert settings.database_url == f"sqlite:///{tmp_path / 'app.db'}"


def test_postgres_url_from_parts():
    settings = Settings(
        SQLALCHEMY_DATABASE_URI="",
        POSTGRES_SERVER="db.example",
        POSTGRES_PORT=5433,
        POSTGRES_USER="app",
        POSTGRES_PASSWORD="p@ss/word",
        POSTGRES_DB="shop",
    )
    assert settings.database_url == "postgresql+psycopg2://app:p%40ss%2Fword@db.example:5433/shop"


def test_explicit_url_wins_and_uses_psycopg2():
    settings = Settings(
        SQLALCHEMY_DATABASE_URI="postgresql://u@h/d", POSTGRES_SERVER="ignored.example"
    )
    assert settings.database_url == "postgresql+psycopg2://u@h/d"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("http://a:1, http://b:2", ["http://a:1", "http://b:2"]),
        ('["http://a:1"]', ["http://a:1"]),
        ("", []),
    ],
)
def test_cors_origins_from_environment(monkeypatch, raw, expected):
    monkeypatch.setenv("BACKEND_CORS_ORIGINS", raw)
    assert expected == Settings().BACKEND_CORS_ORIGINS


@pytest.mark.parametrize("target", ["staging", "production"])
@pytest.mark.parametrize("field", ["SECRET_KEY", "FIRST_ADMINUSER_PASSWORD"])
def test_default_secret_refused_outside_development(target, field):
    values = {"TARGET_ENV": target, "SECRET_KEY": "s" * 40, "FIRST_ADMINUSER_PASSWORD": "x" * 12}
    values[field] = "changethis"
    with pytest.raises(ValidationError, match=field):
        Settings(**values)


def test_real_secrets_accepted_in_production():
    settings = Settings(
        TARGET_ENV="production", SECRET_KEY="s" * 40, FIRST_ADMINUSER_PASSWORD="x" * 12
    )
    assert settings.TARGET_ENV == "production"


def test_default_secret_accepted_in_development():
    assert Settings(TARGET_ENV="development", SECRET_KEY="changethis").SECRET_KEY == "changethis"


def test_limits_must_be_positive():
    with pytest.raises(ValidationError):
        Settings(MAX_BATCH_SIZE=0)
    with pytest.raises(ValidationError):
        Settings(TARGET_ENV="testing")  # type: ignore[arg-type]


def test_model_uri_from_platform_settings():
    settings = Settings(MODEL_NAME="text", MODEL_ALIAS="staging")
    assert settings.model_uri == "models:/text@staging"
