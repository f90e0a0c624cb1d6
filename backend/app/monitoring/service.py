"""Assemble the monitoring answers from the database and the model registry.

Shared by the admin routes (``/api/v1/monitoring/...``) and the HTML report command.
"""

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from app.db.crud.predictions import (
    has_predictions,
    iter_profile_rows,
    latest_predicted_version,
    top_category,
)
from app.monitoring.drift import MIN_PREDICTIONS, compare_profiles, summarise
from app.monitoring.quality import frequent_errors, prediction_volume, quality_by_version
from app.monitoring.reference import Reference
from app.schemas.monitoring import DriftReport, DriftStatus, MonitoringReport, TimeWindow
from product_classifier.drift_reference import DataProfile, ProfileBuilder


def recent_profile(
    session: Session,
    model_name: str,
    model_version: str,
    window: TimeWindow,
    like: DataProfile | None = None,
) -> DataProfile:
    """Profile the products predicted by one model version in ``window``.

    The category of a product is the most probable one returned. Lengths are binned like
    ``like`` (the reference) when given.
    """
    builder = ProfileBuilder.like(like) if like is not None else ProfileBuilder()
    rows = iter_profile_rows(session, model_name, model_version, window.start, window.end)
    for designation, description, has_image, results in rows:
        category = top_category(results)
        builder.add(designation, description, has_image=has_image, category=category)
    return builder.build(
        f"predictions of {model_name} version {model_version}, "
        f"{window.start:%Y-%m-%d %H:%M} to {window.end:%Y-%m-%d %H:%M} UTC"
    )


def drift_report(
    session: Session,
    reference: Reference,
    model_name: str,
    model_version: str,
    window: TimeWindow,
    *,
    min_predictions: int = MIN_PREDICTIONS,
) -> DriftReport:
    """Compare the recent predictions of a model version with its training-data profile."""
    recent = recent_profile(session, model_name, model_version, window, reference.profile)
    statistics = compare_profiles(reference.profile, recent, min_predictions)
    drifted = [statistic.name for statistic in statistics if statistic.drifted]
    status: DriftStatus
    if reference.profile is None:
        status, message = "no_reference", reference.source
    elif recent.rows < min_predictions:
        status = "insufficient_data"
        message = (
            f"{recent.rows} predictions in the window, fewer than the {min_predictions} needed "
            "to flag drift: the statistics are shown but not flagged."
        )
    elif drifted:
        status, message = "drift", "Drift past the threshold: " + ", ".join(drifted) + "."
    else:
        status, message = "ok", "No statistic past its threshold."
    return DriftReport(
        window=window,
        model_name=model_name,
        model_version=model_version,
        status=status,
        drift_detected=bool(drifted),
        message=message,
        min_predictions=min_predictions,
        reference_source=reference.source,
        reference=summarise(reference.profile) if reference.profile is not None else None,
        recent=summarise(recent),
        statistics=statistics,
    )


def resolve_version(session: Session, tracking_uri: str, model_name: str, alias: str) -> str | None:
    """The version ``model_name@alias`` points at in the registry, else the latest predicted."""
    from mlflow.exceptions import MlflowException  # noqa: PLC0415

    from product_classifier.tracking.registry import find_registered_version  # noqa: PLC0415

    try:
        found = find_registered_version(model_name, alias=alias, tracking_uri=tracking_uri)
    except MlflowException:
        found = None
    return found.version if found else latest_predicted_version(session, model_name)


def unknown_version_message(model_name: str, model_version: str) -> str:
    """Why a version asked for by name cannot be monitored: it exists nowhere."""
    return (
        f"Version {model_version!r} of model {model_name!r} is neither registered in MLflow "
        "nor found in the stored predictions."
    )


def version_is_unknown(
    session: Session, tracking_uri: str, model_name: str, model_version: str
) -> bool:
    """Whether ``model_version`` of ``model_name`` exists neither in predictions nor in MLflow.

    A version found in the stored predictions is known even when the registry has since
    deleted it. A registry that cannot be asked proves nothing: the version is not called
    unknown then.
    """
    from mlflow.exceptions import MlflowException  # noqa: PLC0415

    from product_classifier.tracking.registry import find_registered_version  # noqa: PLC0415

    if has_predictions(session, model_name, model_version):
        return False
    try:
        found = find_registered_version(
            model_name, version=model_version, tracking_uri=tracking_uri
        )
    except MlflowException:
        return False
    return found is None


def monitoring_report(
    session: Session,
    reference: Reference,
    model_name: str,
    model_version: str,
    window: TimeWindow,
    *,
    min_predictions: int = MIN_PREDICTIONS,
    errors_limit: int = 10,
) -> MonitoringReport:
    """Quality of every version, errors and drift of ``model_version``, predictions volume."""
    return MonitoringReport(
        generated_at=datetime.now(UTC),
        window=window,
        quality=quality_by_version(session, window),
        errors=frequent_errors(session, window, model_version, errors_limit),
        volume=prediction_volume(session, window),
        drift=drift_report(
            session, reference, model_name, model_version, window, min_predictions=min_predictions
        ),
    )
