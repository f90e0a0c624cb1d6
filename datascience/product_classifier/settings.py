"""Settings shared by the training CLIs and the API, read once from the environment.

Environment variables win; the repository's ``.env`` is the fallback. The API's own settings
extend :class:`PlatformSettings`, so the MLflow, state-folder, application-database and
image-store settings are defined once (the feedback export reads the API's database and images).
"""

import os
import sys
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Final, TypeVar
from urllib.parse import urlparse
from urllib.request import url2pathname

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import URL

from product_classifier.paths import DEFAULT_STATE_DIR, REPOSITORY_ROOT, resolve_from_root

MAX_IMAGE_RETENTION_DAYS: Final = 36_500
"""A century: the longest image retention (longer ones overflow the date arithmetic)."""


class PlatformSettings(BaseSettings):
    """Where the runtime state lives and how to reach MLflow."""

    model_config = SettingsConfigDict(
        env_file=REPOSITORY_ROOT / ".env", env_file_encoding="utf-8", extra="ignore"
    )

    STATE_DIR: Path = DEFAULT_STATE_DIR
    """Git-ignored folder holding databases, the MLflow store, datasets, models and logs."""
    MLFLOW_TRACKING_URI: str = ""
    """Any MLflow tracking URI; empty means the embedded SQLite store under ``STATE_DIR``."""
    MLFLOW_ARTIFACT_ROOT: str = ""
    """Where experiments created here keep their artifacts (a folder, or a URI such as
    ``s3://bucket/path``); empty: beside a SQLite store (its folder's ``artifacts/``), else
    ``STATE_DIR/mlflow/artifacts``. A tracking server (``http://...``) always chooses its own."""
    MODEL_NAME: str = "fusion"
    MODEL_ALIAS: str = "production"
    MLFLOW_PORT: int = 5000

    SQLALCHEMY_DATABASE_URI: str = ""
    """Full URL of the API's database; empty means the ``POSTGRES_*`` variables, or else SQLite."""
    POSTGRES_SERVER: str = ""
    POSTGRES_PORT: int = 5432
    POSTGRES_USER: str = "postgres"
    POSTGRES_PASSWORD: str = ""
    POSTGRES_DB: str = "app"

    IMAGE_STORE_ENABLED: bool = True
    """Whether the API keeps every uploaded image (content-addressed by its SHA-256)."""
    IMAGE_STORE_URL: str = ""
    """Where uploaded images are kept: a folder (relative paths from the repository root) or
    any fsspec URL (``s3://bucket/prefix``, ``memory://name``); empty: ``STATE_DIR/images``."""
    IMAGE_STORE_RETENTION_DAYS: int = Field(default=0, ge=0, le=MAX_IMAGE_RETENTION_DAYS)
    """Keep a stored image while a prediction younger than this many days refers to it;
    0 keeps every image; at most 36,500 (a century: longer overflows the date arithmetic)."""

    @field_validator("STATE_DIR")
    @classmethod
    def _resolve_state_dir(cls, value: Path) -> Path:
        return resolve_from_root(value)

    @field_validator("SQLALCHEMY_DATABASE_URI")
    @classmethod
    def _use_psycopg2(cls, value: str) -> str:
        for prefix in ("postgres://", "postgresql://"):
            if value.startswith(prefix):
                return "postgresql+psycopg2://" + value.removeprefix(prefix)
        return value

    @property
    def database_url(self) -> str:
        """The application database URL: explicit, PostgreSQL from parts, or SQLite."""
        if self.SQLALCHEMY_DATABASE_URI:
            return self.SQLALCHEMY_DATABASE_URI
        if self.POSTGRES_SERVER:
            return URL.create(
                "postgresql+psycopg2",
                username=self.POSTGRES_USER or None,
                password=self.POSTGRES_PASSWORD or None,
                host=self.POSTGRES_SERVER,
                port=self.POSTGRES_PORT,
                database=self.POSTGRES_DB,
            ).render_as_string(hide_password=False)
        return f"sqlite:///{self.STATE_DIR / 'app.db'}"

    @property
    def image_store_url(self) -> str:
        """The image store: ``IMAGE_STORE_URL`` or ``STATE_DIR/images``.

        A folder is resolved from the repository root; a URL (``s3://...``) is kept as it is.
        """
        url = self.IMAGE_STORE_URL
        if not url:
            return str(self.STATE_DIR / "images")
        return url if "://" in url else str(resolve_from_root(url))

    @property
    def mlflow_dir(self) -> Path:
        """Folder of the embedded MLflow store (database and artifacts)."""
        return self.STATE_DIR / "mlflow"

    @property
    def mlflow_artifacts_dir(self) -> Path:
        """Artifact folder of the experiments created here (see :attr:`artifact_root_is_local`).

        ``MLFLOW_ARTIFACT_ROOT`` when set (relative paths from the repository root); else the
        ``artifacts/`` folder beside the SQLite file of the tracking store, so that the
        artifacts follow a store kept elsewhere; else ``STATE_DIR/mlflow/artifacts``.
        """
        root = self.MLFLOW_ARTIFACT_ROOT
        if root.startswith("file:"):
            return Path(url2pathname(urlparse(root).path))
        if root:
            return resolve_from_root(root)
        database = sqlite_file(self.tracking_uri)
        if database is not None:
            return database.parent / "artifacts"
        return self.mlflow_dir / "artifacts"

    @property
    def artifact_root_is_local(self) -> bool:
        """Whether the artifact root is a folder of this machine (not ``s3://``, ``gs://``...)."""
        root = self.MLFLOW_ARTIFACT_ROOT
        return "://" not in root or root.startswith("file:")

    @property
    def mlflow_artifact_root(self) -> str:
        """The artifact root as MLflow takes it: a ``file://`` URI, or the configured URI."""
        if not self.artifact_root_is_local:
            return self.MLFLOW_ARTIFACT_ROOT
        return self.mlflow_artifacts_dir.resolve().as_uri()

    @property
    def tracking_uri(self) -> str:
        """The configured tracking URI, or the embedded SQLite store."""
        if self.MLFLOW_TRACKING_URI:
            return self.MLFLOW_TRACKING_URI
        return f"sqlite:///{self.mlflow_dir / 'mlflow.db'}"

    def configure_mlflow(self) -> str:
        """Point MLflow at the configured store (creating the embedded one) and return its URI."""
        import mlflow  # noqa: PLC0415 - keep `import mlflow` off the settings import path

        os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
        if not self.MLFLOW_TRACKING_URI:
            self.mlflow_dir.mkdir(parents=True, exist_ok=True)
        mlflow.set_tracking_uri(self.tracking_uri)
        mlflow.set_registry_uri(self.tracking_uri)
        return self.tracking_uri


def sqlite_file(tracking_uri: str) -> Path | None:
    """Return the database file of a ``sqlite:///`` tracking URI (``None`` for other URIs).

    ``sqlite:///relative.db`` is relative to the current folder, as SQLite reads it;
    ``sqlite:////absolute.db`` is absolute. Query parameters are ignored.
    """
    prefix = "sqlite:///"
    if not tracking_uri.startswith(prefix):
        return None
    path = tracking_uri.removeprefix(prefix).split("?", 1)[0]
    return Path(path).absolute() if path and path != ":memory:" else None


EXIT_INVALID_SETTINGS: Final = 2
"""Exit status of a command whose settings do not validate."""

SettingsT = TypeVar("SettingsT", bound=BaseSettings)


def settings_error_line(error: ValidationError) -> str:
    """One line naming the first invalid setting and what is wrong with it.

    Args:
        error: What pydantic-settings raised while reading the environment and ``.env``.

    Returns:
        ``invalid settings: NAME: message`` (no input echo, no pydantic link).
    """
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"])
    message = str(first["msg"]).removeprefix("Value error, ")
    return f"invalid settings: {where + ': ' if where else ''}{message}"


def read_settings_or_exit(settings_class: Callable[[], SettingsT]) -> SettingsT:
    """Read the settings, or end the process with one error line when they do not validate.

    For the commands and servers reading the environment (a traceback would bury the name of
    the setting to fix).

    Raises:
        SystemExit: status :data:`EXIT_INVALID_SETTINGS`, after the line on stderr.
    """
    try:
        return settings_class()
    except ValidationError as error:
        print(f"error: {settings_error_line(error)}", file=sys.stderr, flush=True)
        raise SystemExit(EXIT_INVALID_SETTINGS) from None


@lru_cache(maxsize=1)
def get_platform_settings() -> PlatformSettings:
    """Return the settings, read once per process (invalid ones end it: one error line)."""
    return read_settings_or_exit(PlatformSettings)
