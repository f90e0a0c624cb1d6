"""Live quality from stored feedback and predictions, over a time window.

The feedback tells, for a predicted product, which category the seller finally chose: accuracy
and weighted F1 per model version (same definitions as ``GET /feedback/stats``, restricted to
the feedback received in the window), and the (predicted, real) pairs most often wrong.
"""

from collections import defaultdict
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.core.quality import accuracy, weighted_f1
from app.db.models import Feedback, Prediction
from app.schemas.monitoring import (
    ErrorPair,
    ErrorsReport,
    PredictionVolume,
    QualityReport,
    TimeWindow,
    VersionQuality,
)
from product_classifier.categories import category_name, is_category_code


def _name(code: int) -> str:
    return category_name(code) if is_category_code(code) else f"unknown category {code}"


def last_days(days: float, now: datetime | None = None) -> TimeWindow:
    """The window of the last ``days`` days up to ``now`` (default: the current time, UTC)."""
    end = now or datetime.now(UTC)
    return TimeWindow(start=end - timedelta(days=days), end=end)


def _pair_counts(
    session: Session, window: TimeWindow, model_version: str | None
) -> dict[str, dict[tuple[int, int], int]]:
    """(real, predicted) counts per model version of the feedback in ``window``."""
    query = select(
        Feedback.model_version,
        Feedback.real_category_id,
        Feedback.pred_category_id,
        func.count(),
    ).where(Feedback.created_at >= window.start, Feedback.created_at < window.end)
    if model_version is not None:
        query = query.where(Feedback.model_version == model_version)
    query = query.group_by(
        Feedback.model_version, Feedback.real_category_id, Feedback.pred_category_id
    )
    pairs: dict[str, dict[tuple[int, int], int]] = defaultdict(dict)
    for version, real, predicted, count in session.execute(query):
        pairs[version][(int(real), int(predicted))] = int(count)
    return pairs


def quality_by_version(
    session: Session, window: TimeWindow, model_version: str | None = None
) -> QualityReport:
    """Accuracy and weighted F1 of every model version with feedback in ``window``."""
    versions = [
        VersionQuality(
            model_version=version,
            feedback_count=sum(pairs.values()),
            correct=sum(n for (real, predicted), n in pairs.items() if real == predicted),
            accuracy=accuracy(pairs),
            weighted_f1=weighted_f1(pairs),
        )
        for version, pairs in sorted(_pair_counts(session, window, model_version).items())
    ]
    return QualityReport(window=window, versions=versions)


def frequent_errors(
    session: Session, window: TimeWindow, model_version: str | None = None, limit: int = 10
) -> ErrorsReport:
    """The ``limit`` (predicted, real) pairs most often wrong in ``window``, most frequent first.

    Ties are ordered by predicted then real category code.
    """
    totals: dict[tuple[int, int], int] = defaultdict(int)
    for pairs in _pair_counts(session, window, model_version).values():
        for pair, count in pairs.items():
            totals[pair] += count
    feedback_count = sum(totals.values())
    wrong = {(real, pred): n for (real, pred), n in totals.items() if real != pred}
    wrong_count = sum(wrong.values())
    ranked = sorted(wrong.items(), key=lambda item: (-item[1], item[0][1], item[0][0]))
    return ErrorsReport(
        window=window,
        model_version=model_version,
        feedback_count=feedback_count,
        wrong_count=wrong_count,
        pairs=[
            ErrorPair(
                predicted_category_id=predicted,
                predicted_category=_name(predicted),
                real_category_id=real,
                real_category=_name(real),
                count=count,
                share_of_errors=count / wrong_count,
            )
            for (real, predicted), count in ranked[:limit]
        ],
    )


def prediction_volume(session: Session, window: TimeWindow) -> list[PredictionVolume]:
    """Products predicted per model name and version in ``window``."""
    query = (
        select(Prediction.model_name, Prediction.model_version, func.count())
        .where(Prediction.created_at >= window.start, Prediction.created_at < window.end)
        .group_by(Prediction.model_name, Prediction.model_version)
        .order_by(Prediction.model_name, Prediction.model_version)
    )
    return [
        PredictionVolume(model_name=name, model_version=version, count=int(count))
        for name, version, count in session.execute(query)
    ]
