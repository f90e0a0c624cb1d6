"""Live quality from stored feedback and predictions, over a time window.

The feedback tells, for a predicted product, which category the seller finally chose: accuracy
and weighted F1 per model version (same definitions as ``GET /feedback/stats``, restricted to
the feedback received in the window), and the (predicted, real) pairs most often wrong.
"""

import itertools
from collections import defaultdict
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from app.db.crud.feedback import feedback_pair_counts
from app.db.crud.predictions import prediction_counts
from app.monitoring.classification import accuracy, weighted_f1
from app.schemas.feedback import FeedbackStats
from app.schemas.monitoring import (
    ErrorPair,
    ErrorsReport,
    PredictionVolume,
    QualityReport,
    QualityTimeline,
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


def version_quality(
    session: Session, window: TimeWindow | None = None, model_version: str | None = None
) -> list[VersionQuality]:
    """Accuracy and weighted F1 of every model version with feedback (in ``window`` if given).

    The one quality computation behind ``/feedback/stats``, ``/monitoring/quality`` and the
    Prometheus feedback metrics.
    """
    pairs_by_version = feedback_pair_counts(
        session,
        start=window.start if window else None,
        end=window.end if window else None,
        model_version=model_version,
    )
    return [
        VersionQuality(
            model_version=version,
            feedback_count=sum(pairs.values()),
            correct=sum(n for (real, predicted), n in pairs.items() if real == predicted),
            accuracy=accuracy(pairs),
            weighted_f1=weighted_f1(pairs),
        )
        for version, pairs in sorted(pairs_by_version.items())
    ]


def quality_by_version(
    session: Session, window: TimeWindow, model_version: str | None = None
) -> QualityReport:
    """Accuracy and weighted F1 of every model version with feedback in ``window``."""
    return QualityReport(window=window, versions=version_quality(session, window, model_version))


def quality_timeline(session: Session, window: TimeWindow, slices: int) -> QualityTimeline:
    """:func:`quality_by_version` in ``slices`` consecutive equal slices of ``window``."""
    step = (window.end - window.start) / slices
    bounds = [window.start + step * index for index in range(slices)] + [window.end]
    return QualityTimeline(
        window=window,
        slices=[
            quality_by_version(session, TimeWindow(start=start, end=end))
            for start, end in itertools.pairwise(bounds)
        ],
    )


def feedback_stats(session: Session) -> list[FeedbackStats]:
    """Count, accuracy and weighted F1 of every model version, from all the feedback received."""
    return [
        FeedbackStats(
            model_version=row.model_version,
            count=row.feedback_count,
            accuracy=row.accuracy,
            weighted_f1=row.weighted_f1,
        )
        for row in version_quality(session)
    ]


def frequent_errors(
    session: Session, window: TimeWindow, model_version: str | None = None, limit: int = 10
) -> ErrorsReport:
    """The ``limit`` (predicted, real) pairs most often wrong in ``window``, most frequent first.

    Ties are ordered by predicted then real category code.
    """
    totals: dict[tuple[int, int], int] = defaultdict(int)
    pairs_by_version = feedback_pair_counts(
        session, start=window.start, end=window.end, model_version=model_version
    )
    for pairs in pairs_by_version.values():
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
    return [
        PredictionVolume(model_name=name, model_version=version, count=count)
        for name, version, count in prediction_counts(session, window.start, window.end)
    ]
