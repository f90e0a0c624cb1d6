"""Data access for feedback, and the quality figures computed from it."""

from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.core.quality import accuracy, weighted_f1
from app.db.models import Feedback
from app.schemas.feedback import FeedbackStats


class DuplicateFeedbackError(Exception):
    """A feedback already exists for this (product_id, model_version)."""


def create_feedback(session: Session, feedback: Feedback) -> Feedback:
    """Insert a feedback and commit; the database enforces one per product and version.

    Raises:
        DuplicateFeedbackError: the (product_id, model_version) pair already has a feedback.
    """
    session.add(feedback)
    try:
        session.commit()
    except IntegrityError as error:
        session.rollback()
        raise DuplicateFeedbackError from error
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
