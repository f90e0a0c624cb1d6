"""Session fixtures: temp state, real tiny models in a temp MLflow store, both databases.

Models are trained by the datascience CLIs (subprocesses run from datascience/) into a SQLite
MLflow store of this session. Every API test runs twice: on SQLite and on a PostgreSQL
database created for this session (skipped when PostgreSQL is unreachable, except with
``CI=true`` where that fails the run).
"""

import os
import tempfile
from pathlib import Path

# Before anything imports the application, Keras, matplotlib or MLflow.
_SESSION_HOME = Path(tempfile.mkdtemp(prefix="backend-tests-"))
os.environ["KERAS_HOME"] = str(_SESSION_HOME / "keras")
os.environ["MPLCONFIGDIR"] = str(_SESSION_HOME / "matplotlib")
os.environ["MPLBACKEND"] = "Agg"
os.environ["MLFLOW_DISABLE_TELEMETRY"] = "true"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ["STATE_DIR"] = str(_SESSION_HOME / "state")
os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{_SESSION_HOME / 'mlflow' / 'mlflow.db'}"
os.environ["TARGET_ENV"] = "development"
os.environ["SECRET_KEY"] = "test-secret-key-long-enough-for-hs256-signatures"
os.environ["FIRST_ADMINUSER"] = "admin@example.com"
os.environ["FIRST_ADMINUSER_PASSWORD"] = "admin-password"
for _name in ("SQLALCHEMY_DATABASE_URI", "POSTGRES_SERVER", "BACKEND_CORS_ORIGINS"):
    os.environ.pop(_name, None)
(_SESSION_HOME / "mlflow").mkdir()

import shutil  # noqa: E402
import uuid  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from contextlib import contextmanager  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from datetime import timedelta  # noqa: E402

import httpx  # noqa: E402
import pytest  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402
from sqlalchemy import create_engine, delete, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.orm import Session, sessionmaker  # noqa: E402

from app.core.config import Settings  # noqa: E402
from app.core.security import create_access_token  # noqa: E402
from app.db.crud.users import create_user, get_user_by_email  # noqa: E402
from app.db.init_db import migrate, seed_first_admin  # noqa: E402
from app.db.models import User  # noqa: E402
from app.db.session import create_db_engine, create_session_factory  # noqa: E402
from app.main import create_app  # noqa: E402
from tests.helpers import models as model_helpers  # noqa: E402

SESSION_HOME = _SESSION_HOME
POSTGRES_ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Remove the session's temporary state (MLflow store, datasets, SQLite files)."""
    del session, exitstatus
    shutil.rmtree(SESSION_HOME, ignore_errors=True)


# --- models ------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def tracking_uri() -> str:
    """The MLflow store of this test session."""
    return os.environ["MLFLOW_TRACKING_URI"]


@pytest.fixture(scope="session")
def trained_text(tracking_uri: str) -> Iterator[model_helpers.TrainedModels]:
    """A tiny dataset and a text model, version promoted as ``text@production``."""
    trained = model_helpers.train_text(SESSION_HOME / "training", tracking_uri)
    yield trained
    trained.stop()


@pytest.fixture(scope="session")
def trained_fusion(
    trained_text: model_helpers.TrainedModels, tracking_uri: str
) -> model_helpers.TrainedModels:
    """Image and fusion models beside the text one, fusion promoted as ``fusion@production``."""
    return model_helpers.train_image_and_fusion(trained_text, tracking_uri)


# --- databases ---------------------------------------------------------------------------


def _postgres_unreachable_reason() -> str | None:
    engine = create_engine(POSTGRES_ADMIN_URL)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as error:
        return f"PostgreSQL is not reachable at {make_url(POSTGRES_ADMIN_URL)!r}: {error}"
    finally:
        engine.dispose()
    return None


def create_postgres_database(prefix: str) -> str:
    """Create a uniquely named PostgreSQL database; return its URL.

    Skips the test (or fails it when ``CI=true``) when PostgreSQL is unreachable.
    """
    reason = _postgres_unreachable_reason()
    if reason is not None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{reason} (CI=true: PostgreSQL is required)")
        pytest.skip(reason)
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)


def drop_postgres_database(url: str) -> None:
    """Drop a database made by :func:`create_postgres_database` (closing its connections)."""
    name = make_url(url).database
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def new_database_url(kind: str, prefix: str, folder: Path) -> str:
    """Create an empty database of ``kind`` (``sqlite`` or ``postgresql``); return its URL."""
    if kind == "sqlite":
        folder.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{folder / f'{prefix}_{uuid.uuid4().hex[:8]}.db'}"
    return create_postgres_database(prefix)


def dispose_database(url: str) -> None:
    """Remove a database made by :func:`new_database_url`."""
    if make_url(url).get_backend_name() == "postgresql":
        drop_postgres_database(url)


def seed_admin(url: str, settings: Settings) -> "Account":
    """Create the first administrator of ``settings`` in the database at ``url``."""
    engine = create_db_engine(url)
    try:
        user = seed_first_admin(create_session_factory(engine), settings)
    finally:
        engine.dispose()
    assert user is not None, "a database of its own has no other administrator"
    return Account(
        user.id, user.email, settings.FIRST_ADMINUSER_PASSWORD, bearer(user.id, settings, 60)
    )


@contextmanager
def migrated_database(kind: str, prefix: str) -> Iterator[str]:
    """A new migrated database of ``kind`` (``sqlite`` or ``postgresql``), removed afterwards."""
    url = new_database_url(kind, prefix, SESSION_HOME / "databases")
    try:
        migrate(url)
        yield url
    finally:
        dispose_database(url)


@contextmanager
def seeded_database(kind: str, prefix: str) -> Iterator[str]:
    """A new migrated database of ``kind`` with the first administrator, removed afterwards."""
    with migrated_database(kind, prefix) as url:
        seed_admin(url, Settings())
        yield url


@contextmanager
def sessions_on(url: str) -> Iterator[sessionmaker[Session]]:
    """Sessions on the database at ``url``; its engine is disposed afterwards."""
    engine = create_db_engine(url)
    try:
        yield create_session_factory(engine)
    finally:
        engine.dispose()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """A migrated database with the first administrator, for this session, on each backend."""
    with seeded_database(request.param, "app_test") as url:
        yield url


@pytest.fixture(scope="session")
def session_factory(database_url: str) -> Iterator[sessionmaker[Session]]:
    """Sessions on the session database, for direct checks."""
    with sessions_on(database_url) as factory:
        yield factory


@pytest.fixture
def db(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session for one test."""
    with session_factory() as session:
        yield session


# --- applications ------------------------------------------------------------------------


def make_settings(database_url: str, **overrides: object) -> Settings:
    """Settings of a test application on ``database_url``."""
    values: dict[str, object] = {
        "SQLALCHEMY_DATABASE_URI": database_url,
        "MODEL_RELOAD_INTERVAL_SECONDS": 3600.0,
        # One session-long application serves every test from one client address: wrong
        # logins of unrelated tests (and the schema fuzzing) must not add up to a 429.
        # tests/api/routes/test_login_throttle.py tests the limit.
        "LOGIN_FAILURES_PER_CLIENT": "",
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def app_settings(database_url: str) -> Settings:
    """Settings of the application serving ``text@production``."""
    return make_settings(database_url, MODEL_NAME="text", MODEL_ALIAS="production")


@pytest.fixture(scope="session")
def client(
    app_settings: Settings, trained_text: model_helpers.TrainedModels
) -> Iterator[TestClient]:
    """The application serving the text model, on each database."""
    with TestClient(create_app(app_settings)) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def fusion_client(
    database_url: str, trained_fusion: model_helpers.TrainedModels
) -> Iterator[TestClient]:
    """The application serving ``fusion@production``, on each database."""
    settings = make_settings(database_url, MODEL_NAME="fusion", MODEL_ALIAS="production")
    with TestClient(create_app(settings)) as test_client:
        yield test_client


# --- users -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Account:
    """A user of the test database and the headers authenticating as them."""

    id: int
    email: str
    password: str
    headers: dict[str, str]


def bearer(user_id: int, settings: Settings, minutes: float = 30) -> dict[str, str]:
    """Authorization headers with a token signed like the application signs them."""
    token = create_access_token(user_id, settings.SECRET_KEY, timedelta(minutes=minutes))
    return {"Authorization": f"Bearer {token}"}


def login(client: TestClient, username: str, password: str) -> httpx.Response:
    """Log in with the OAuth2 password form (``username`` is the e-mail)."""
    response: httpx.Response = client.post(
        "/api/v1/login/access-token", data={"username": username, "password": password}
    )
    return response


def make_account(
    session_factory: sessionmaker[Session],
    settings: Settings,
    *,
    is_admin: bool = False,
    is_active: bool = True,
) -> Account:
    """Create a user with a random e-mail."""
    email = f"user-{uuid.uuid4().hex[:10]}@example.com"
    password = f"pw-{uuid.uuid4().hex}"
    with session_factory() as session:
        user = create_user(
            session, email=email, password=password, is_admin=is_admin, is_active=is_active
        )
        session.commit()
        return Account(user.id, email, password, bearer(user.id, settings))


@pytest.fixture(scope="session")
def admin(session_factory: sessionmaker[Session], app_settings: Settings) -> Account:
    """The seeded first administrator."""
    with session_factory() as session:
        user = get_user_by_email(session, app_settings.FIRST_ADMINUSER)
        assert user is not None
        return Account(
            user.id,
            user.email,
            app_settings.FIRST_ADMINUSER_PASSWORD,
            bearer(user.id, app_settings),
        )


@pytest.fixture(scope="session")
def user(session_factory: sessionmaker[Session], app_settings: Settings) -> Account:
    """An active user who is not an administrator."""
    return make_account(session_factory, app_settings)


@pytest.fixture(scope="session")
def inactive_user(session_factory: sessionmaker[Session], app_settings: Settings) -> Account:
    """A user whose account is deactivated."""
    return make_account(session_factory, app_settings, is_active=False)


@pytest.fixture(scope="session")
def deleted_user(session_factory: sessionmaker[Session], app_settings: Settings) -> Account:
    """A user deleted from the database after its token was issued (an administrator's admin)."""
    account = make_account(session_factory, app_settings, is_admin=True)
    with session_factory() as session:
        session.execute(delete(User).where(User.id == account.id))
        session.commit()
    return account
