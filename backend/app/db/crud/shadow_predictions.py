"""Data access for the challenger's shadow predictions (the caller commits)."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db.crud.predictions import top_category
from app.db.models import Feedback, Prediction, ShadowPrediction


def add_shadow_predictions(session: Session, rows: Sequence[ShadowPrediction]) -> None:
    """Add shadow predictions in one flush, filling their ids."""
    session.add_all(rows)
    session.flush()


def get_shadow_prediction(session: Session, prediction_id: int) -> ShadowPrediction | None:
    """The shadow prediction of the champion's prediction ``prediction_id``, if any."""
    query = select(ShadowPrediction).where(ShadowPrediction.prediction_id == prediction_id)
    return session.scalars(query).first()


@dataclass(frozen=True, slots=True)
class ShadowedPrediction:
    """A champion's prediction, its challenger's shadow and the seller's category, if sent."""

    champion_version: str
    champion_category: int | None
    challenger_version: str
    challenger_category: int | None
    real_category: int | None


def shadowed_predictions(
    session: Session, model_name: str, start: datetime, end: datetime
) -> list[ShadowedPrediction]:
    """Every prediction of ``model_name`` made in [start, end) that has a shadow prediction.

    Each with both models' most probable category and the feedback's real category (``None``
    without feedback), oldest first.
    """
    query = (
        select(
            Prediction.model_version,
            Prediction.results,
            ShadowPrediction.model_version,
            ShadowPrediction.results,
            Feedback.real_category_id,
        )
        .join(ShadowPrediction, ShadowPrediction.prediction_id == Prediction.id)
        .outerjoin(Feedback, Feedback.prediction_id == Prediction.id)
        .where(
            Prediction.model_name == model_name,
            Prediction.created_at >= start,
            Prediction.created_at < end,
        )
        .order_by(Prediction.id)
    )
    return [
        ShadowedPrediction(
            champion_version=champion_version,
            champion_category=top_category(champion_results),
            challenger_version=challenger_version,
            challenger_category=top_category(challenger_results),
            real_category=real,
        )
        for champion_version, champion_results, challenger_version, challenger_results, real in (
            session.execute(query)
        )
    ]
