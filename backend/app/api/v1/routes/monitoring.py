"""Live model monitoring for administrators: quality, frequent errors and data drift.

Every route looks at a time window, the last ``days`` days (default 7). Drift compares the
recent predictions of one model version (default: the one being served) with the profile of
the data it was trained on; see :mod:`app.monitoring.drift` for the statistics and thresholds.
"""

from dataclasses import dataclass
from typing import Annotated, Final

from fastapi import APIRouter, Depends, HTTPException, Query, status

from app.api.deps import ModelServerDep, SessionDep, SettingsDep, ShadowDep, require_admin
from app.api.params import DecimalNumber, MonitoredVersionQuery, VersionQuery, WholeNumber
from app.monitoring.challenger import challenger_report
from app.monitoring.drift import MIN_PREDICTIONS
from app.monitoring.quality import frequent_errors, last_days, quality_by_version, quality_timeline
from app.monitoring.reference import Reference, reference_cache
from app.monitoring.service import (
    drift_report,
    monitoring_report,
    resolve_version,
    unknown_version_message,
    version_is_unknown,
)
from app.schemas.common import ErrorResponse
from app.schemas.monitoring import (
    ChallengerReport,
    DriftReport,
    ErrorsReport,
    MonitoringReport,
    QualityReport,
    QualityTimeline,
)

DEFAULT_DAYS: Final = 7.0

router = APIRouter(prefix="/monitoring", tags=["monitoring"], dependencies=[Depends(require_admin)])

DaysQuery = Annotated[
    float,
    Query(
        gt=0,
        le=3660,
        allow_inf_nan=False,
        description="Window: the last `days` days (fractions allowed).",
    ),
    DecimalNumber,
]
NameQuery = Annotated[
    str | None,
    Query(max_length=255, description="Registered model name (default: the one served)."),
]
MinPredictionsQuery = Annotated[
    int,
    Query(ge=1, le=1_000_000, description="Fewest predictions in the window to flag drift."),
    WholeNumber,
]
NOT_FOUND: Final[dict[int | str, dict[str, object]]] = {
    status.HTTP_404_NOT_FOUND: {
        "model": ErrorResponse,
        "description": "No model version served, registered or predicted; or the "
        "model_version asked for is neither registered nor predicted.",
    }
}


@dataclass(frozen=True)
class MonitoredModel:
    """The model version a drift or report route looks at, and its training-data profile."""

    name: str
    version: str
    reference: Reference


def monitored_model(
    server: ModelServerDep,
    settings: SettingsDep,
    session: SessionDep,
    model_name: NameQuery = None,
    model_version: MonitoredVersionQuery = None,
) -> MonitoredModel:
    """The (name, version) asked for, else the served one, the alias's or the last predicted.

    Raises:
        HTTPException: 404 when no version can be found, or when ``model_version`` names one
            that is neither registered in MLflow nor in the stored predictions.
    """
    served = server.current
    name = model_name or (served.name if served else settings.MODEL_NAME)
    version = model_version
    is_served = served is not None and (served.name, served.version) == (name, version)
    if (
        version
        and not is_served
        and version_is_unknown(session, server.tracking_uri, name, version)
    ):
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, detail=unknown_version_message(name, version)
        )
    if not version and served is not None and served.name == name:
        version = served.version
    if not version:
        version = resolve_version(session, server.tracking_uri, name, settings.MODEL_ALIAS)
    if version is None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND,
            detail=f"No version of model {name!r} is served, registered as "
            f"{name}@{settings.MODEL_ALIAS} or found in the predictions: pass model_version.",
        )
    return MonitoredModel(name, version, reference_cache(server.tracking_uri).get(name, version))


MonitoredModelDep = Annotated[MonitoredModel, Depends(monitored_model)]


@router.get("/quality")
def get_quality(
    session: SessionDep, days: DaysQuery = DEFAULT_DAYS, model_version: VersionQuery = None
) -> QualityReport:
    """Accuracy and weighted F1 per model version, from the feedback received in the window."""
    return quality_by_version(session, last_days(days), model_version)


@router.get("/quality/timeline")
def get_quality_timeline(
    session: SessionDep,
    days: DaysQuery = DEFAULT_DAYS,
    slices: Annotated[
        int,
        Query(ge=1, le=90, description="Consecutive slices the window is cut into."),
        WholeNumber,
    ] = 7,
) -> QualityTimeline:
    """Accuracy and weighted F1 per model version in each slice of the window (for charts)."""
    return quality_timeline(session, last_days(days), slices)


@router.get("/challenger")
def get_challenger(
    session: SessionDep,
    server: ModelServerDep,
    shadow: ShadowDep,
    settings: SettingsDep,
    days: DaysQuery = DEFAULT_DAYS,
) -> ChallengerReport:
    """The served version against the challenger (`MODEL_CHALLENGER_ALIAS`) that shadows it.

    Per (champion, challenger) version pair seen in the window: the agreement rate on the
    predictions the challenger shadowed, and on those that received feedback, accuracy and
    weighted F1 of each with a 95% paired bootstrap interval on the difference (challenger
    minus champion), with the number of rows behind each figure.
    """
    served = server.current
    challenger = shadow.active_challenger(served.version) if shadow and served else None
    return challenger_report(
        session,
        last_days(days),
        model_name=served.name if served else settings.MODEL_NAME,
        champion_alias=server.model_alias,
        challenger_alias=settings.MODEL_CHALLENGER_ALIAS or None,
        champion_version=served.version if served else None,
        challenger_version=challenger.version if challenger else None,
    )


@router.get("/errors")
def get_errors(
    session: SessionDep,
    days: DaysQuery = DEFAULT_DAYS,
    model_version: VersionQuery = None,
    limit: Annotated[int, Query(ge=1, le=100), WholeNumber] = 10,
) -> ErrorsReport:
    """The (predicted, real) category pairs most often wrong in the window, most frequent first."""
    return frequent_errors(session, last_days(days), model_version, limit)


@router.get("/drift", responses=NOT_FOUND)
def get_drift(
    *,
    session: SessionDep,
    model: MonitoredModelDep,
    days: DaysQuery = DEFAULT_DAYS,
    min_predictions: MinPredictionsQuery = MIN_PREDICTIONS,
) -> DriftReport:
    """Recent predictions against the training data of a model version (default: served).

    Statistics: designation and description length (PSI, threshold 0.2), empty-description and
    image rates (absolute difference, threshold 0.10), predicted categories against training
    labels (PSI, threshold 0.2). `drift_detected` is true when one is past its threshold with at
    least `min_predictions` predictions in the window.
    """
    return drift_report(
        session,
        model.reference,
        model.name,
        model.version,
        last_days(days),
        min_predictions=min_predictions,
    )


@router.get("/report", responses=NOT_FOUND)
def get_report(
    *,
    session: SessionDep,
    model: MonitoredModelDep,
    days: DaysQuery = DEFAULT_DAYS,
    min_predictions: MinPredictionsQuery = MIN_PREDICTIONS,
    limit: Annotated[int, Query(ge=1, le=100, description="Error pairs listed."), WholeNumber] = 10,
) -> MonitoringReport:
    """Everything at once: quality of every version, errors and drift of one, volumes.

    `python -m scripts.monitoring_report` (from backend/) writes the same as an HTML page.
    """
    return monitoring_report(
        session,
        model.reference,
        model.name,
        model.version,
        last_days(days),
        min_predictions=min_predictions,
        errors_limit=limit,
    )
