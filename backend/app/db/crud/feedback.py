"""Data access for feedback (the caller commits)."""

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.db.models import Feedback


def add_feedback(session: Session, feedback: Feedback) -> Feedback:
    """Add a feedback and flush it.

    The database keeps one feedback per (product, model version) and one per prediction: a
    second one raises :class:`~sqlalchemy.exc.IntegrityError` here or at commit, which the
    request's unit of work answers (:mod:`app.api.unit_of_work`).
    """
    session.add(feedback)
    session.flush()
    return feedback


def delete_feedback(session: Session, feedback_id: int) -> bool:
    """Delete a feedback (flushed); ``False`` when there is none with this id."""
    feedback = session.get(Feedback, feedback_id)
    if feedback is None:
        return False
    session.delete(feedback)
    session.flush()
    return True


def has_feedback_for_prediction(session: Session, prediction_id: int) -> bool:
    """Whether the prediction already received its (one) feedback."""
    query = select(Feedback.id).where(Feedback.prediction_id == prediction_id).limit(1)
    return session.scalar(query) is not None


def list_feedback(
    session: Session, *, model_version: str | None = None, skip: int = 0, limit: int = 100
) -> Sequence[Feedback]:
    """Return feedback by id, optionally of one model version, paged."""
    query = select(Feedback)
    if model_version is not None:
        query = query.where(Feedback.model_version == model_version)
    return session.scalars(query.order_by(Feedback.id).offset(skip).limit(limit)).all()


def feedback_pair_counts(
    session: Session,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    model_version: str | None = None,
) -> dict[str, dict[tuple[int, int], int]]:
    """(real, predicted) category counts per model version of the feedback received.

    Args:
        session: The unit of work.
        start: Only feedback received at or after this time.
        end: Only feedback received before this time.
        model_version: Only this model version.

    Returns:
        ``{model_version: {(real, predicted): count}}``.
    """
    query = select(
        Feedback.model_version,
        Feedback.real_category_id,
        Feedback.pred_category_id,
        func.count(),
    )
    if start is not None:
        query = query.where(Feedback.created_at >= start)
    if end is not None:
        query = query.where(Feedback.created_at < end)
    if model_version is not None:
        query = query.where(Feedback.model_version == model_version)
    query = query.group_by(
        Feedback.model_version, Feedback.real_category_id, Feedback.pred_category_id
    )
    pairs: dict[str, dict[tuple[int, int], int]] = defaultdict(dict)
    for version, real, predicted, count in session.execute(query):
        pairs[version][(int(real), int(predicted))] = int(count)
    return pairs
