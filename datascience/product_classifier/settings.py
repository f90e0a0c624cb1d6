"""Settings shared by the training CLIs and the API, read once from the environment.

Environment variables win; the repository's ``.env`` is the fallback. The API's own settings
extend :class:`PlatformSettings`, so the MLflow, state-folder, application-database and
image-store settings are defined once (the feedback export reads the API's database and images).
"""

import os
import posixpath
import re
import sys
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Final, TypeVar
from urllib.parse import urlparse
from urllib.request import url2pathname

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from product_classifier.paths import DEFAULT_STATE_DIR, REPOSITORY_ROOT, resolve_from_root

MAX_IMAGE_RETENTION_DAYS: Final = 36_500
"""A century: the longest image retention (longer ones overflow the date arithmetic)."""

SUPPORTED_DATABASES: Final = frozenset({("sqlite", "pysqlite"), ("postgresql", "psycopg2")})
"""(backend, driver) of the application databases the project supports (:mod:`app.db.session`)."""
DATABASE_URL_FORMS: Final = (
    "sqlite:///path/to/app.db or postgresql+psycopg2://user:password@host:port/database "
    "(SQLite and PostgreSQL are the only databases supported)"
)
MODEL_ALIAS_PATTERN: Final = re.compile(r"[\w-]+")
"""MLflow's rule for registered model aliases: letters, digits, underscores and dashes."""
MAX_MODEL_ALIAS_LENGTH: Final = 255
"""MLflow's longest registered model alias."""
MODEL_VERSION_ALIAS: Final = re.compile(r"[vV][0-9]+")
"""Aliases MLflow reserves for versions (``v1``...): none can be given to a version."""


def check_model_name(name: str) -> str:
    """Return ``name`` when MLflow accepts it as a registered model name.

    MLflow's rules (``mlflow.utils.validation._validate_model_name``, not imported: importing
    MLflow takes over a second): not blank, no ``/`` or ``:``, and the name of one file.

    Raises:
        ValueError: what is expected, for the settings error line.
    """
    if not name.strip():
        raise ValueError("must not be empty: expected the name of a registered model, e.g. fusion.")
    # As MLflow's path_not_unique: the name must be one file name, as it is.
    unique = posixpath.normpath(name) == name and name != "." and not name.startswith("..")
    if "/" in name or ":" in name or not unique:
        raise ValueError(
            f'"{name}" is not a registered model name MLflow accepts: expected a name without '
            '"/" or ":" (e.g. fusion).'
        )
    return name


def check_model_alias(alias: str, example: str = "production") -> str:
    """Return ``alias`` when MLflow accepts it as a registered model alias a version can hold.

    MLflow's rules (``mlflow.utils.validation._validate_model_alias_name`` and
    ``_validate_model_alias_name_reserved``): letters, digits, ``_`` and ``-``, at most 255
    characters, and not ``v`` followed by digits (reserved for versions). ``latest``, reserved
    too, is accepted: MLflow resolves ``models:/name@latest`` to the latest version.

    Args:
        alias: The alias to check.
        example: A valid alias, for the error message.

    Raises:
        ValueError: what is expected, for the settings error line.
    """
    if not MODEL_ALIAS_PATTERN.fullmatch(alias) or len(alias) > MAX_MODEL_ALIAS_LENGTH:
        raise ValueError(
            f'"{alias}" is not an MLflow model alias: expected 1 to {MAX_MODEL_ALIAS_LENGTH} '
            f"letters, digits, underscores (_) or dashes (-), e.g. {example}."
        )
    if MODEL_VERSION_ALIAS.fullmatch(alias):
        raise ValueError(
            f'"{alias}" is reserved by MLflow for version {alias[1:]}: no version can hold it '
            f"as an alias; expected another alias, e.g. {example}."
        )
    return alias


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
    """Registered model the API serves (MLflow's rules for names: :func:`check_model_name`)."""
    MODEL_ALIAS: str = "production"
    """Alias of the served version (MLflow's rules for aliases: :func:`check_model_alias`)."""
    MLFLOW_PORT: int = 5000

    SQLALCHEMY_DATABASE_URI: str = ""
    """Full URL of the API's database (SQLite or PostgreSQL: :func:`check_database_url`); empty
    means the ``POSTGRES_*`` variables, or else SQLite."""
    POSTGRES_SERVER: str = ""
    POSTGRES_PORT: int = 5432
    POSTGRES_USER: str = "postgres"
    POSTGRES_PASSWORD: str = ""
    POSTGRES_DB: str = "app"

    IMAGE_STORE_ENABLED: bool = True
    """Whether the API keeps every uploaded image (content-addressed by its SHA-256)."""
    IMAGE_STORE_URL: str = ""
    """Where uploaded images are kept: a folder (relative paths from the repository root) or
    any fsspec URL (``s3://bucket/prefix``, ``memory://name``); empty: ``STATE_DIR/images``.
    Checked by :func:`check_image_store_url`."""
    IMAGE_STORE_RETENTION_DAYS: int = Field(default=0, ge=0, le=MAX_IMAGE_RETENTION_DAYS)
    """Keep a stored image while a prediction younger than this many days refers to it;
    0 keeps every image; at most 36,500 (a century: longer overflows the date arithmetic)."""

    @field_validator("STATE_DIR", mode="before")
    @classmethod
    def _refuse_empty_state_dir(cls, value: object) -> object:
        # Path("") is the current folder, resolved as the repository root.
        if isinstance(value, str) and not value.strip():
            raise ValueError(
                "must not be empty: expected a folder of its own for the runtime state, e.g. "
                "var (an empty path is the repository root, where app.db and secret_key are not "
                "git-ignored)."
            )
        return value

    @field_validator("STATE_DIR")
    @classmethod
    def _resolve_state_dir(cls, value: Path) -> Path:
        folder = resolve_from_root(value)
        if folder == REPOSITORY_ROOT:
            raise ValueError(
                f'"{value}" is the repository root: expected a folder of its own, e.g. var '
                "(the databases and keys it holds must stay out of Git)."
            )
        existing = next((path for path in (folder, *folder.parents) if path.exists()), None)
        if existing is not None and not existing.is_dir():
            raise ValueError(
                f'"{value}" cannot be a folder: {existing} is a file. Expected a folder for the '
                "runtime state (created when missing), e.g. var."
            )
        return folder

    @field_validator("MODEL_NAME")
    @classmethod
    def _check_model_name(cls, value: str) -> str:
        return check_model_name(value)

    @field_validator("MODEL_ALIAS")
    @classmethod
    def _check_model_alias(cls, value: str) -> str:
        return check_model_alias(value)

    @field_validator("SQLALCHEMY_DATABASE_URI")
    @classmethod
    def _use_psycopg2(cls, value: str) -> str:
        return normalize_database_url(value) if value else value

    @field_validator("IMAGE_STORE_URL")
    @classmethod
    def _check_image_store_url(cls, value: str) -> str:
        if value:
            check_image_store_url(value)
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


def normalize_database_url(url: str) -> str:
    """``url`` with ``postgres://`` and ``postgresql://`` read as psycopg2, then checked.

    Raises:
        ValueError: the URL is not one the project can open (:func:`check_database_url`).
    """
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            url = "postgresql+psycopg2://" + url.removeprefix(prefix)
    check_database_url(url)
    return url


def check_database_url(url: str) -> None:
    """Check that ``url`` is an application database URL the project can open.

    SQLite or PostgreSQL through psycopg2 (:data:`SUPPORTED_DATABASES`), with the driver
    installed. The URL is not echoed when it cannot be parsed (it may hold a password).

    Raises:
        ValueError: what is expected, for the settings error line.
    """
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        raise ValueError(
            f"cannot be read as a database URL: expected {DATABASE_URL_FORMS}."
        ) from None
    shown = parsed.render_as_string(hide_password=True)
    kind = (parsed.get_backend_name(), parsed.get_driver_name())
    if kind not in SUPPORTED_DATABASES:
        raise ValueError(
            f'"{shown}" ({"+".join(kind)}) is not supported: expected {DATABASE_URL_FORMS}.'
        )
    try:
        parsed.get_dialect().import_dbapi()
    except ImportError as error:
        raise ValueError(
            f'"{shown}" needs the {kind[1]} driver, which is not installed ({error}).'
        ) from None


def check_image_store_url(url: str) -> None:
    """Check that fsspec can open the image store ``url`` (a folder or an fsspec URL).

    Every protocol of the URL (``simplecache::s3://...`` chains several) must be one fsspec
    knows, with its package installed; a local path must not be (or be under) a file.

    Raises:
        ValueError: what is expected, for the settings error line.
    """
    import fsspec  # noqa: PLC0415 - only when the store is not the default folder
    from fsspec.implementations.local import LocalFileSystem  # noqa: PLC0415

    links = url.split("::")
    local = False
    for position, link in enumerate(links):
        if "://" in link:
            protocol = fsspec.core.split_protocol(link)[0] or "file"
        else:  # a bare protocol in a chain, or the last link: a local path
            protocol = link if position < len(links) - 1 else "file"
        try:
            local = issubclass(fsspec.get_filesystem_class(protocol), LocalFileSystem)
        except ImportError as error:
            raise ValueError(
                f"{protocol}:// needs a package that is not installed: {error}."
            ) from None
        except ValueError:
            raise ValueError(
                f'"{protocol}://" is not a protocol fsspec knows: expected a folder or an fsspec '
                "URL such as s3://bucket/prefix (with s3fs installed)."
            ) from None
    if len(links) > 1 or not local:
        return
    folder = resolve_from_root(url) if "://" not in url else Path(fsspec.core.strip_protocol(url))
    existing = next((path for path in (folder, *folder.parents) if path.exists()), None)
    if existing is not None and not existing.is_dir():
        raise ValueError(
            f'"{existing}" is not a folder: expected a folder (created when missing) or an '
            "fsspec URL such as s3://bucket/prefix."
        )


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
