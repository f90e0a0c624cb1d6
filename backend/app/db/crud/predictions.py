"""Data access for stored predictions."""

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db.models import Prediction


def add_predictions(session: Session, predictions: Sequence[Prediction]) -> None:
    """Insert predictions in one flush, filling their ids (the caller commits)."""
    session.add_all(predictions)
    session.flush()


def get_prediction(session: Session, prediction_id: int) -> Prediction | None:
    """Return the prediction with this id, if any."""
    return session.get(Prediction, prediction_id)


def list_predictions(
    session: Session, *, model_version: str | None = None, skip: int = 0, limit: int = 100
) -> Sequence[Prediction]:
    """Return predictions, newest first, optionally of one model version, paged."""
    query = select(Prediction)
    if model_version is not None:
        query = query.where(Prediction.model_version == model_version)
    query = query.order_by(Prediction.id.desc()).offset(skip).limit(limit)
    return session.scalars(query).all()
