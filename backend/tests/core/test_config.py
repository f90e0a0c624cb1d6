"""Settings: names, database URL, CORS list, refusal of default secrets outside development.

Values that passed validation and failed at first use (a traceback, an API that never starts or
never finds its model) are refused when the settings are read, naming what is expected.
"""

import warnings
from datetime import timedelta

import pytest
from pydantic import ValidationError

from app.core.config import MAX_ACCESS_TOKEN_MINUTES, Settings
from app.core.secret_key import SECRET_KEY_FILE
from app.core.security import create_access_token, decode_access_token
from product_classifier.settings import settings_error_line


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
        assert decode_access_token(token, settings.SECRET_KEY).subject == "7"


def test_limits_must_be_positive():
    with pytest.raises(ValidationError):
        Settings(MAX_BATCH_SIZE=0)
    with pytest.raises(ValidationError):
        Settings(TARGET_ENV="testing")  # type: ignore[arg-type]


def test_model_uri_from_platform_settings():
    settings = Settings(MODEL_NAME="text", MODEL_ALIAS="staging")
    assert settings.model_uri == "models:/text@staging"


# --- values that passed validation, then failed at first use ------------------------------

PRODUCTION = {
    "TARGET_ENV": "production",
    "SECRET_KEY": "s" * 32,
    "FIRST_ADMINUSER_PASSWORD": "x" * 8,
}


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (
            {"SQLALCHEMY_DATABASE_URI": "notaurl"},
            "SQLALCHEMY_DATABASE_URI: cannot be read as a database URL: expected sqlite:///",
        ),
        (
            {"SQLALCHEMY_DATABASE_URI": "mysql://x/y"},
            'SQLALCHEMY_DATABASE_URI: "mysql://x/y" (mysql+mysqldb) is not supported: expected',
        ),
        ({"API_V1_STR": "api"}, 'API_V1_STR: "api" is not a path prefix: expected a path starting'),
        ({"API_V1_STR": "/api/"}, 'API_V1_STR: "/api/" is not a path prefix'),
        ({"API_V1_STR": "/"}, 'API_V1_STR: "/" is not a path prefix'),
        (
            {"ACCESS_TOKEN_EXPIRE_MINUTES": "99999999999"},
            "ACCESS_TOKEN_EXPIRE_MINUTES: Input should be less than or equal to 5256000",
        ),
        ({"IMAGE_STORE_URL": "nosuch://x"}, 'IMAGE_STORE_URL: "nosuch://" is not a protocol'),
        ({"IMAGE_STORE_URL": "s3://bucket/x"}, "IMAGE_STORE_URL: s3:// needs a package that is"),
        ({"IMAGE_STORE_URL": "/etc/passwd"}, 'IMAGE_STORE_URL: "/etc/passwd" is not a folder'),
        ({"STATE_DIR": ""}, "STATE_DIR: must not be empty: expected a folder of its own"),
        ({"MODEL_NAME": ""}, "MODEL_NAME: must not be empty: expected the name of a registered"),
        ({"MODEL_ALIAS": "a b"}, 'MODEL_ALIAS: "a b" is not an MLflow model alias: expected'),
        (
            {"MODEL_CHALLENGER_ALIAS": "a b"},
            'MODEL_CHALLENGER_ALIAS: "a b" is not an MLflow model alias: expected 1 to 255',
        ),
        (
            {"BACKEND_CORS_ORIGINS": "not a url"},
            'BACKEND_CORS_ORIGINS: "not a url" is not an http(s) URL: expected a URL such as',
        ),
        (
            {"BACKEND_CORS_ORIGINS": "http://a:1, ftp://b"},
            'BACKEND_CORS_ORIGINS: "ftp://b" is not an http(s) URL',
        ),
        (
            {"BACKEND_CORS_ORIGINS": "http://a:1/app"},
            'BACKEND_CORS_ORIGINS: "http://a:1/app" is not an origin: expected scheme://host',
        ),
        (
            {"OTEL_EXPORTER_OTLP_ENDPOINT": "not a url"},
            'OTEL_EXPORTER_OTLP_ENDPOINT: "not a url" is not an http(s) URL: expected a URL',
        ),
        (
            {"PROMETHEUS_MULTIPROC_DIR": "/does/not/exist"},
            'PROMETHEUS_MULTIPROC_DIR: "/does/not/exist" is not a folder: expected an existing',
        ),
        ({"PROMETHEUS_MULTIPROC_DIR": ""}, "PROMETHEUS_MULTIPROC_DIR: must not be empty"),
        (
            {**PRODUCTION, "SECRET_KEY": "x"},
            "SECRET_KEY is too short for TARGET_ENV=production: expected at least 32 bytes",
        ),
        (
            {**PRODUCTION, "SECRET_KEY": "s" * 31},
            "SECRET_KEY is too short for TARGET_ENV=production",
        ),
        (
            {**PRODUCTION, "SECRET_KEY": "changethis "},
            'SECRET_KEY is "changethis ": set a secret value for TARGET_ENV=production.',
        ),
        (
            {**PRODUCTION, "TARGET_ENV": "staging", "FIRST_ADMINUSER_PASSWORD": "x"},
            "FIRST_ADMINUSER_PASSWORD is too short for TARGET_ENV=staging: expected at least 8",
        ),
        (
            # 8 code points, 4 characters once NFC-normalised (as passwords are counted).
            {**PRODUCTION, "FIRST_ADMINUSER_PASSWORD": "e\u0301e\u0301e\u0301e\u0301"},
            "FIRST_ADMINUSER_PASSWORD is too short for TARGET_ENV=production: expected at least 8 "
            "characters once NFC-normalised",
        ),
        (
            {**PRODUCTION, "FIRST_ADMINUSER_PASSWORD": " changethis"},
            'FIRST_ADMINUSER_PASSWORD is " changethis": set a secret value',
        ),
    ],
)
def test_a_value_that_would_fail_at_first_use_is_refused_when_read(monkeypatch, values, expected):
    # From the environment, as the commands and servers read them.
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError) as error:
        Settings()
    line = settings_error_line(error.value)
    assert line.startswith(f"invalid settings: {expected}"), line


def test_a_file_is_no_multiprocess_folder(tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(ValidationError, match="is not a folder"):
        Settings(PROMETHEUS_MULTIPROC_DIR=tmp_path / "file")
    assert tmp_path == Settings(PROMETHEUS_MULTIPROC_DIR=tmp_path).PROMETHEUS_MULTIPROC_DIR


def test_the_longest_token_lifetime_signs_tokens():
    settings = Settings(ACCESS_TOKEN_EXPIRE_MINUTES=MAX_ACCESS_TOKEN_MINUTES)
    expires = timedelta(minutes=settings.ACCESS_TOKEN_EXPIRE_MINUTES)
    token = create_access_token(7, "k" * 40, expires)
    assert decode_access_token(token, "k" * 40).subject == "7"


def test_production_takes_a_32_byte_key_and_an_8_character_password(monkeypatch):
    for name, value in PRODUCTION.items():
        monkeypatch.setenv(name, value)
    settings = Settings()
    assert (len(settings.SECRET_KEY), len(settings.FIRST_ADMINUSER_PASSWORD)) == (32, 8)


def test_development_keeps_its_defaults():
    settings = Settings(TARGET_ENV="development", SECRET_KEY="x", FIRST_ADMINUSER_PASSWORD="x")
    assert settings.SECRET_KEY == "x"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("HTTP://LocalHost:8000/", ["http://localhost:8000"]),
        ("https://shop.example:443", ["https://shop.example"]),
    ],
)
def test_cors_origins_are_kept_as_browsers_send_them(monkeypatch, raw, expected):
    monkeypatch.setenv("BACKEND_CORS_ORIGINS", raw)
    assert expected == Settings().BACKEND_CORS_ORIGINS


def test_an_empty_challenger_alias_still_means_no_challenger():
    assert Settings(MODEL_CHALLENGER_ALIAS="").challenger_uri is None
    assert Settings(OTEL_EXPORTER_OTLP_ENDPOINT="").OTEL_EXPORTER_OTLP_ENDPOINT == ""
