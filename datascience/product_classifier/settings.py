"""Settings shared by the training CLIs and the API, read once from the environment.

Environment variables win; the repository's ``.env`` is the fallback. The API's own settings
extend :class:`PlatformSettings`, so the MLflow and state-folder settings are defined once.
"""

import os
from functools import lru_cache
from pathlib import Path

from pydantic import field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from product_classifier.paths import DEFAULT_STATE_DIR, REPOSITORY_ROOT, resolve_from_root


class PlatformSettings(BaseSettings):
    """Where the runtime state lives and how to reach MLflow."""

    model_config = SettingsConfigDict(
        env_file=REPOSITORY_ROOT / ".env", env_file_encoding="utf-8", extra="ignore"
    )

    STATE_DIR: Path = DEFAULT_STATE_DIR
    """Git-ignored folder holding databases, the MLflow store, datasets, models and logs."""
    MLFLOW_TRACKING_URI: str = ""
    """Any MLflow tracking URI; empty means the embedded SQLite store under ``STATE_DIR``."""
    MODEL_NAME: str = "fusion"
    MODEL_ALIAS: str = "production"
    MLFLOW_PORT: int = 5000

    @field_validator("STATE_DIR")
    @classmethod
    def _resolve_state_dir(cls, value: Path) -> Path:
        return resolve_from_root(value)

    @property
    def mlflow_dir(self) -> Path:
        """Folder of the embedded MLflow store (database and artifacts)."""
        return self.STATE_DIR / "mlflow"

    @property
    def mlflow_artifacts_dir(self) -> Path:
        """Artifact root used for experiments created by this project."""
        return self.mlflow_dir / "artifacts"

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
            self.mlflow_artifacts_dir.mkdir(parents=True, exist_ok=True)
        mlflow.set_tracking_uri(self.tracking_uri)
        mlflow.set_registry_uri(self.tracking_uri)
        return self.tracking_uri


@lru_cache(maxsize=1)
def get_platform_settings() -> PlatformSettings:
    """Return the settings, read once per process."""
    return PlatformSettings()
