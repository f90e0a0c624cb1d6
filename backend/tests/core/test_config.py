"""Settings: names, database URL, CORS list, refusal of default secrets outside development."""

import warnings
from datetime import timedelta

import pytest
from pydantic import ValidationError

from app.core.config import Settings
from app.core.secret_key import SECRET_KEY_FILE
from app.core.security import create_access_token, decode_access_token


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


@pytest.mark.parametrize("target", ["staging", "production"])
def test_empty_secret_refused_outside_development(target):
    with pytest.raises(ValidationError, match='SECRET_KEY is ""'):
        Settings(TARGET_ENV=target, SECRET_KEY="", FIRST_ADMINUSER_PASSWORD="x" * 12)


@pytest.mark.parametrize("placeholder", ["changethis", ""])
def test_development_placeholder_becomes_a_random_key_kept_in_the_state_dir(tmp_path, placeholder):
    settings = Settings(TARGET_ENV="development", SECRET_KEY=placeholder, STATE_DIR=tmp_path)
    assert placeholder == settings.SECRET_KEY, "reading the settings writes nothing"
    assert not (tmp_path / SECRET_KEY_FILE).exists()
    signing = settings.with_signing_key()
    key_file = tmp_path / SECRET_KEY_FILE
    assert key_file.read_text().strip() == signing.SECRET_KEY
    assert len(signing.SECRET_KEY.encode()) >= 32
    assert key_file.stat().st_mode & 0o077 == 0, "only its owner may read the key"
    # The next process (another worker, the next start) signs with the same key.
    assert settings.with_signing_key().SECRET_KEY == signing.SECRET_KEY
    assert Settings(STATE_DIR=tmp_path / "other").with_signing_key().SECRET_KEY != (
        signing.SECRET_KEY
    )


def test_a_real_secret_is_kept_as_it_is(tmp_path):
    settings = Settings(TARGET_ENV="development", SECRET_KEY="k" * 40, STATE_DIR=tmp_path)
    assert settings.with_signing_key().SECRET_KEY == "k" * 40
    assert not (tmp_path / SECRET_KEY_FILE).exists()


def test_generated_key_signs_tokens_without_a_short_key_warning(tmp_path):
    settings = Settings(SECRET_KEY="changethis", STATE_DIR=tmp_path).with_signing_key()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        token = create_access_token(7, settings.SECRET_KEY, timedelta(minutes=1))
        assert decode_access_token(token, settings.SECRET_KEY) == "7"


def test_limits_must_be_positive():
    with pytest.raises(ValidationError):
        Settings(MAX_BATCH_SIZE=0)
    with pytest.raises(ValidationError):
        Settings(TARGET_ENV="testing")  # type: ignore[arg-type]


def test_model_uri_from_platform_settings():
    settings = Settings(MODEL_NAME="text", MODEL_ALIAS="staging")
    assert settings.model_uri == "models:/text@staging"
