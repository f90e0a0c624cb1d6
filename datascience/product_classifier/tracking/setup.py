"""Point MLflow at the configured store and create one experiment per model kind."""

import logging
import math
import os
import re
from pathlib import Path
from typing import Final
from urllib.parse import urlsplit

import mlflow
import requests
from mlflow.tracking import MlflowClient
from sqlalchemy import create_engine
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError
from sqlalchemy.pool import NullPool

from product_classifier.data.output_folder import describe_os_error
from product_classifier.settings import PlatformSettings, get_platform_settings
from product_classifier.tracking.registry import RegistryError

logger = logging.getLogger(__name__)

REMOTE_SCHEMES: Final = frozenset({"http", "https", "databricks"})
"""Tracking URIs whose server chooses where artifacts go."""

DATABASE_BACKENDS: Final = frozenset({"postgresql", "mysql", "mssql", "sqlite"})
"""The databases MLflow keeps a tracking store in (``mlflow.store.db.db_types``)."""

TRACKING_URI_FORMS: Final = (
    "http(s)://host:port (a tracking server), a database URL such as sqlite:///path/mlflow.db "
    "or postgresql+psycopg2://user:password@host:port/database, or databricks"
)
"""The tracking URIs the project accepts, for error messages."""

PROBE_TIMEOUT_SECONDS: Final = 10.0
"""How long a tracking server has to answer its health check before a command gives up."""

CONNECT_TIMEOUT_ARGUMENT: Final = {
    ("postgresql", "psycopg2"): "connect_timeout",
    ("postgresql", "psycopg"): "connect_timeout",
    ("postgresql", "pg8000"): "timeout",
    ("mysql", "mysqldb"): "connect_timeout",
    ("mysql", "pymysql"): "connect_timeout",
    ("mysql", "mysqlconnector"): "connection_timeout",
    ("mssql", "pyodbc"): "timeout",
    ("mssql", "pymssql"): "login_timeout",
}
"""The connect argument of each (database, driver) that bounds how long connecting takes."""

_LIBPQ_PREFIX: Final = re.compile(r'^connection to server at "[^"]*", port \d+ failed: ')
_SEVERITY_PREFIX: Final = re.compile(r"^(FATAL|ERROR):\s+")


class TrackingServerUnreachableError(RegistryError):
    """The configured tracking store cannot be used (a message for a person, one line).

    A tracking server that does not answer; the subclasses cover a database that cannot be
    opened and a URI that is no tracking URI, so that every command reporting this error
    reports them too.
    """


class TrackingDatabaseUnreachableError(TrackingServerUnreachableError):
    """The configured tracking database cannot be opened (no server, no database, no driver)."""


class InvalidTrackingUriError(TrackingServerUnreachableError):
    """``MLFLOW_TRACKING_URI`` is not a tracking URI MLflow can use."""


def shown_uri(uri: str) -> str:
    """Return ``uri`` with the password of its ``user:password@`` part, if any, as ``***``."""
    try:
        parts = urlsplit(uri)
        password = parts.password
    except ValueError:  # an unreadable port or netloc: nothing to hide that can be found
        return uri
    if not password:
        return uri
    user, _, host = parts.netloc.rpartition("@")
    name = user.split(":", 1)[0]
    return parts._replace(netloc=f"{name}:***@{host}").geturl()


def _file_store_allowed() -> bool:
    """Whether the user opted in to MLflow's folder store (``MLFLOW_ALLOW_FILE_STORE``)."""
    return os.environ.get("MLFLOW_ALLOW_FILE_STORE", "").strip().lower() in {"1", "true", "yes"}


def check_tracking_uri(tracking_uri: str) -> None:
    """Fail with one line when ``tracking_uri`` is not a tracking URI the project accepts.

    Accepted: ``http(s)://host[:port]``, a database URL (PostgreSQL, MySQL, SQL Server,
    SQLite) and ``databricks``. Anything else (``not a uri``, a folder) would be read by MLflow
    as its folder store, which it refuses with a long message about migrating away from it;
    that store is still accepted when ``MLFLOW_ALLOW_FILE_STORE`` opts in to it.

    Raises:
        InvalidTrackingUriError: Not one of the accepted forms.
    """
    try:
        parts = urlsplit(tracking_uri)
    except ValueError:
        parts = urlsplit("")
    scheme = parts.scheme.lower()
    if scheme in {"http", "https"} and parts.hostname:
        return
    if tracking_uri in {"databricks", "databricks-uc"} or scheme.startswith("databricks"):
        return  # the default Databricks profile, or databricks://profile
    if scheme.split("+", 1)[0] in DATABASE_BACKENDS:
        try:
            make_url(tracking_uri)
        except (ArgumentError, ValueError):
            pass
        else:
            return
    if scheme in {"", "file"} and _file_store_allowed():
        return
    folder_store = (
        " (MLflow's folder store, file://, also needs MLFLOW_ALLOW_FILE_STORE=true)"
        if scheme == "file"
        else ""
    )
    raise InvalidTrackingUriError(
        f'MLFLOW_TRACKING_URI "{shown_uri(tracking_uri)}" is not a tracking URI: expected '
        f"{TRACKING_URI_FORMS}{folder_store}."
    )


def check_tracking_server(tracking_uri: str, timeout: float = PROBE_TIMEOUT_SECONDS) -> None:
    """Fail fast when an ``http(s)://`` tracking server does not answer at all.

    MLflow retries a refused or silent connection for minutes (``MLFLOW_HTTP_REQUEST_MAX_RETRIES``
    with backoff) before its first call fails; one ``GET /health`` (MLflow's health endpoint)
    within ``timeout`` seconds tells a server that is down at once. Any HTTP answer, even an
    error status (a proxy asking for credentials), counts as reachable: only MLflow's own calls
    judge it further. Other URIs (databases, Databricks) are not probed.

    Raises:
        TrackingServerUnreachableError: No connection, or no answer within ``timeout``.
    """
    if urlsplit(tracking_uri).scheme not in {"http", "https"}:
        return
    try:
        requests.get(f"{tracking_uri.rstrip('/')}/health", timeout=timeout)
    except requests.RequestException as error:
        reason = type(error).__name__
        raise TrackingServerUnreachableError(
            f"The MLflow tracking server {shown_uri(tracking_uri)} does not answer ({reason} "
            f"within {timeout:g} s): start it, or point MLFLOW_TRACKING_URI at a running one."
        ) from None


def _driver_reason(error: BaseException) -> str:
    """The first line of a driver's error, without libpq's repetition of host and port."""
    original = error.orig if isinstance(error, DBAPIError) else error
    line = next(iter(str(original).strip().splitlines()), "") or type(original).__name__
    return _SEVERITY_PREFIX.sub("", _LIBPQ_PREFIX.sub("", line.strip()))


def _make_sqlite_folder(url: URL) -> None:
    """Create the folder of a SQLite file, as MLflow does before opening it.

    Raises:
        OSError: The folder cannot be created (a file on the way, no permission).
    """
    database = url.database or ""
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).parent.mkdir(parents=True, exist_ok=True)


def check_sqlite_store_exists(tracking_uri: str) -> None:
    """Refuse a SQLite tracking URI whose file does not exist (other URIs are not checked).

    Raises:
        TrackingDatabaseUnreachableError: The file is missing (a typo in the URI, most often).
    """
    try:
        url = make_url(tracking_uri)
    except (ArgumentError, ValueError):
        return
    database = url.database or ""
    if url.get_backend_name() != "sqlite" or database in {"", ":memory:"}:
        return
    if not Path(database).is_file():
        raise TrackingDatabaseUnreachableError(
            f"No MLflow store at {database}: MLFLOW_TRACKING_URI names a SQLite file that does "
            "not exist (a typo? a training creates it). Fix the URI or train a model first."
        )


def check_tracking_database(tracking_uri: str, timeout: float = PROBE_TIMEOUT_SECONDS) -> None:
    """Fail fast when a database tracking store cannot be opened.

    MLflow retries a database it cannot open for about a minute (``create_sqlalchemy_engine_with_
    retry``) and then fails with a traceback; opening one connection first, with a connect
    timeout of ``timeout`` seconds where the driver has one, says it at once. A SQLite file's
    folder is created first, as MLflow does, and its header is read (a file that is no
    database fails there). Other URIs (tracking servers, Databricks) are not checked.

    Raises:
        TrackingDatabaseUnreachableError: The driver is missing, or the database does not open.
    """
    try:
        url = make_url(tracking_uri)
    except (ArgumentError, ValueError):
        return  # not a database URL: check_tracking_uri tells
    backend = url.get_backend_name()
    if backend not in DATABASE_BACKENDS:
        return
    driver = url.get_driver_name()  # the dialect's default one when the URI names none
    shown = url.render_as_string(hide_password=True)
    failure = f"The MLflow tracking database {shown} cannot be opened"
    connect_args: dict[str, object] = {}
    if argument := CONNECT_TIMEOUT_ARGUMENT.get((backend, driver)):
        connect_args[argument] = max(1, math.ceil(timeout))
    try:
        if backend == "sqlite":
            _make_sqlite_folder(url)
        engine = create_engine(url, poolclass=NullPool, connect_args=connect_args)
    except ImportError as error:
        raise TrackingDatabaseUnreachableError(
            f"{failure}: its driver {driver} is not installed ({error}); name an installed one "
            "in the URI, e.g. postgresql+psycopg2://."
        ) from None
    except OSError as error:
        raise TrackingDatabaseUnreachableError(f"{failure}: {describe_os_error(error)}") from None
    except SQLAlchemyError as error:
        raise TrackingDatabaseUnreachableError(f"{failure}: {_driver_reason(error)}") from None
    try:
        with engine.connect() as connection:
            if backend == "sqlite":
                connection.exec_driver_sql("PRAGMA schema_version")
    except SQLAlchemyError as error:
        raise TrackingDatabaseUnreachableError(f"{failure}: {_driver_reason(error)}") from None
    finally:
        engine.dispose()


def configure_tracking(settings: PlatformSettings | None = None, *, existing: bool = False) -> str:
    """Point MLflow (tracking and registry) at the configured store and return its URI.

    For commands: the store is checked first, so that one that cannot be used is a one-line
    error at once rather than minutes of MLflow's retries and a traceback (the API calls
    :meth:`PlatformSettings.configure_mlflow` itself: it serves while the store is down).

    Args:
        settings: Platform settings (read from the environment when omitted).
        existing: For a command that only reads the store: a SQLite file that
            ``MLFLOW_TRACKING_URI`` names must exist (MLflow would create an empty store at a
            mistyped path and find nothing in it). The default store may be missing.

    Raises:
        TrackingServerUnreachableError: The URI is no tracking URI
            (:class:`InvalidTrackingUriError`), the store is a tracking server that does not
            answer, or a database that cannot be opened (:class:`TrackingDatabaseUnreachableError`),
            or does not exist when ``existing`` is asked for.
    """
    settings = settings or get_platform_settings()
    check_tracking_uri(settings.tracking_uri)
    if existing and settings.MLFLOW_TRACKING_URI:
        check_sqlite_store_exists(settings.tracking_uri)
    tracking_uri = settings.configure_mlflow()
    check_tracking_server(tracking_uri)
    check_tracking_database(tracking_uri)
    return tracking_uri


def uses_local_artifacts(settings: PlatformSettings) -> bool:
    """Tell whether this process chooses the artifact location (no tracking server does)."""
    return urlsplit(settings.tracking_uri).scheme not in REMOTE_SCHEMES


def experiment_name(kind: str) -> str:
    """Return the experiment of a model kind: ``text-model``, ``image-model``, ``fusion-model``."""
    return f"{kind}-model"


def ensure_experiment(kind: str, settings: PlatformSettings | None = None) -> str:
    """Return the id of the model kind's experiment, creating it on first use.

    With a database store (the embedded SQLite one or any database URI) the experiment gets an
    explicit artifact location under ``settings.mlflow_artifact_root`` (beside a SQLite store,
    unless ``MLFLOW_ARTIFACT_ROOT`` says otherwise), so artifacts never land in a ``mlruns``
    folder of the current directory; a tracking server chooses its own.

    Args:
        kind: ``text``, ``image`` or ``fusion``.
        settings: Platform settings (read from the environment when omitted).

    Returns:
        The experiment id.
    """
    settings = settings or get_platform_settings()
    client = MlflowClient()
    name = experiment_name(kind)
    experiment = client.get_experiment_by_name(name)
    if experiment is not None:
        if experiment.lifecycle_stage == "deleted":
            client.restore_experiment(experiment.experiment_id)
        return str(experiment.experiment_id)
    artifact_location = None
    if uses_local_artifacts(settings):
        artifact_location = f"{settings.mlflow_artifact_root.rstrip('/')}/{name}"
        if settings.artifact_root_is_local:
            (settings.mlflow_artifacts_dir / name).mkdir(parents=True, exist_ok=True)
    experiment_id = client.create_experiment(
        name, artifact_location=artifact_location, tags={"model_kind": kind}
    )
    logger.info(
        "Created the MLflow experiment %r (%s).", name, artifact_location or "server default"
    )
    return str(experiment_id)


def set_experiment(kind: str, settings: PlatformSettings | None = None) -> str:
    """Create the kind's experiment if needed and make it the active one; return its id."""
    experiment_id = ensure_experiment(kind, settings)
    mlflow.set_experiment(experiment_id=experiment_id)
    return experiment_id
