"""The API settings a benchmark serves with: a temporary SQLite database, the chosen model."""

import os
import secrets
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.core.config import Settings


def benchmark_settings(
    prefix: str, model_name: str | None = None, model_alias: str | None = None
) -> "Settings":
    """Settings with a fresh SQLite database in a temporary folder named ``prefix...``.

    Also turns MLflow's telemetry off and sets a random ``SECRET_KEY`` (the placeholder would
    make PyJWT warn on every request of the server), in this process's environment, which the
    servers started by the benchmark inherit.

    Args:
        prefix: Prefix of the temporary folder.
        model_name: Registered model to serve (default: ``MODEL_NAME``).
        model_alias: Alias to serve (default: ``MODEL_ALIAS``).
    """
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    os.environ["SECRET_KEY"] = secrets.token_urlsafe(32)
    from app.core.config import Settings  # noqa: PLC0415 - after the environment is set

    folder = Path(tempfile.mkdtemp(prefix=prefix))
    overrides: dict[str, object] = {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'app.db'}"}
    if model_name:
        overrides["MODEL_NAME"] = model_name
    if model_alias:
        overrides["MODEL_ALIAS"] = model_alias
    return Settings(**overrides)  # type: ignore[arg-type]
