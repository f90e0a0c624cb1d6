"""Point MLflow at the configured store and create one experiment per model kind."""

import logging
from typing import Final
from urllib.parse import urlparse

import mlflow
import requests
from mlflow.tracking import MlflowClient

from product_classifier.settings import PlatformSettings, get_platform_settings
from product_classifier.tracking.registry import RegistryError

logger = logging.getLogger(__name__)

REMOTE_SCHEMES: Final = frozenset({"http", "https", "databricks"})
"""Tracking URIs whose server chooses where artifacts go."""


PROBE_TIMEOUT_SECONDS: Final = 10.0
"""How long a tracking server has to answer its health check before a command gives up."""


class TrackingServerUnreachableError(RegistryError):
    """The configured tracking server does not answer (a message for a person, one line)."""


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
    if urlparse(tracking_uri).scheme not in {"http", "https"}:
        return
    try:
        requests.get(f"{tracking_uri.rstrip('/')}/health", timeout=timeout)
    except requests.RequestException as error:
        reason = type(error).__name__
        raise TrackingServerUnreachableError(
            f"The MLflow tracking server {tracking_uri} does not answer ({reason} within "
            f"{timeout:g} s): start it, or point MLFLOW_TRACKING_URI at a running one."
        ) from None


def configure_tracking(settings: PlatformSettings | None = None) -> str:
    """Point MLflow (tracking and registry) at the configured store and return its URI.

    Raises:
        TrackingServerUnreachableError: The store is a tracking server that does not answer.
    """
    tracking_uri = (settings or get_platform_settings()).configure_mlflow()
    check_tracking_server(tracking_uri)
    return tracking_uri


def uses_local_artifacts(settings: PlatformSettings) -> bool:
    """Tell whether this process chooses the artifact location (no tracking server does)."""
    return urlparse(settings.tracking_uri).scheme not in REMOTE_SCHEMES


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
