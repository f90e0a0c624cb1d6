"""Check after a fault or a load test that every acknowledged answer is in the database."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from app.db.models import Feedback, Prediction
from app.db.session import create_db_engine, create_session_factory


@dataclass(frozen=True)
class AnsweredPrediction:
    """What a 200 told the caller about one product."""

    designation: str
    categories: list[dict[str, Any]]
    model_version: str


def assert_predictions_stored(
    database_url: str, answered: Mapping[int, AnsweredPrediction], chunk: int = 500
) -> None:
    """Assert every answered prediction id is stored once, with the text and categories answered.

    Args:
        database_url: The API's database (read directly, not through the API).
        answered: Prediction id (``X-Prediction-Id``) → what the answer said.
        chunk: Ids per ``IN (...)`` query.
    """
    engine = create_db_engine(database_url)
    try:
        with create_session_factory(engine)() as session:
            ids = sorted(answered)
            stored: dict[int, Prediction] = {}
            for start in range(0, len(ids), chunk):
                rows = session.scalars(
                    select(Prediction).where(Prediction.id.in_(ids[start : start + chunk]))
                )
                stored.update({row.id: row for row in rows})
    finally:
        engine.dispose()
    missing = sorted(set(ids) - set(stored))
    assert not missing, f"{len(missing)} answered predictions are not stored: {missing[:20]}"
    for prediction_id, answer in answered.items():
        row = stored[prediction_id]
        assert row.designation == answer.designation, prediction_id
        assert row.results == answer.categories, prediction_id
        assert row.model_version == answer.model_version, prediction_id


def assert_feedback_stored_once(database_url: str, created: Mapping[int, int]) -> None:
    """Assert every 201 feedback exists, once per prediction it cites.

    Args:
        database_url: The API's database.
        created: Feedback id (from the 201 body) → the prediction id it was sent for.
    """
    engine = create_db_engine(database_url)
    try:
        with create_session_factory(engine)() as session:
            rows = session.execute(
                select(Feedback.id, Feedback.prediction_id).where(
                    Feedback.prediction_id.in_(set(created.values()))
                )
            ).all()
            per_prediction = dict(
                session.execute(
                    select(Feedback.prediction_id, func.count())
                    .where(Feedback.prediction_id.in_(set(created.values())))
                    .group_by(Feedback.prediction_id)
                ).all()
            )
    finally:
        engine.dispose()
    assert {row.id: row.prediction_id for row in rows} == dict(created)
    assert set(per_prediction.values()) <= {1}, per_prediction
