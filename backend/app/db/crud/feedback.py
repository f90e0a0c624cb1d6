"""Data access for feedback, and the quality figures computed from it (the caller commits)."""

from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.core.quality import accuracy, weighted_f1
from app.db.models import Feedback
from app.schemas.feedback import FeedbackStats


def add_feedback(session: Session, feedback: Feedback) -> Feedback:
    """Add a feedback and flush it.

    The database keeps one feedback per (product, model version) and one per prediction: a
    second one raises :class:`~sqlalchemy.exc.IntegrityError` here or at commit, which the
    request's unit of work answers (:mod:`app.api.unit_of_work`).
    """
    session.add(feedback)
    session.flush()
    return feedback


def list_feedback(
    session: Session, *, model_version: str | None = None, skip: int = 0, limit: int = 100
) -> Sequence[Feedback]:
    """Return feedback by id, optionally of one model version, paged."""
    query = select(Feedback)
    if model_version is not None:
        query = query.where(Feedback.model_version == model_version)
    return session.scalars(query.order_by(Feedback.id).offset(skip).limit(limit)).all()


def feedback_stats(session: Session) -> list[FeedbackStats]:
    """Return count, accuracy and weighted F1 of every model version with feedback."""
    rows = session.execute(
        select(
            Feedback.model_version,
            Feedback.real_category_id,
            Feedback.pred_category_id,
            func.count(),
        ).group_by(Feedback.model_version, Feedback.real_category_id, Feedback.pred_category_id)
    ).all()
    pairs_by_version: dict[str, dict[tuple[int, int], int]] = defaultdict(dict)
    for version, real, pred, count in rows:
        pairs_by_version[version][(real, pred)] = count
    return [
        FeedbackStats(
            model_version=version,
            count=sum(pairs.values()),
            accuracy=accuracy(pairs),
            weighted_f1=weighted_f1(pairs),
        )
        for version, pairs in sorted(pairs_by_version.items())
    ]
