"""Data access for stored predictions."""

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, Final

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from app.db.models import Prediction, utc_now
from app.db.session import mark_written

DIGESTS_PER_QUERY: Final = 500
"""Digests looked up per database query (well under every database's parameter limit)."""
STREAM_ROWS: Final = 1000
"""Predictions read per round trip by :func:`iter_profile_rows`."""


_INSERTED_COLUMNS: Final = tuple(
    column.key for column in Prediction.__table__.columns if column.key != "id"
)
_INSERT_RETURNING_IDS: Final = insert(Prediction).returning(
    Prediction.id, sort_by_parameter_order=True
)
_INSERT_RETURNING_ID: Final = insert(Prediction).returning(Prediction.id)


def add_predictions(session: Session, predictions: Sequence[Prediction]) -> None:
    """Insert predictions in one statement, filling their ids and times (the caller commits).

    A Core ``INSERT ... RETURNING id`` on the session's connection, for all the rows at once
    (SQLAlchemy's "insertmanyvalues"); the objects are not added to the session: the ORM's unit
    of work cost more than the insert itself. The session is marked as written, so that its
    unit of work commits (:func:`app.db.session.mark_written`).
    """
    if not predictions:
        return
    now = utc_now()
    for prediction in predictions:
        if prediction.__dict__.get("created_at") is None:  # the column's default, as a flush
            prediction.created_at = now
    values = [
        {column: getattr(prediction, column) for column in _INSERTED_COLUMNS}
        for prediction in predictions
    ]
    connection = session.connection()
    if len(values) == 1:  # one row: a plain INSERT, without the batched insert's bookkeeping
        ids = [connection.execute(_INSERT_RETURNING_ID, values[0]).scalar_one()]
    else:
        ids = list(connection.execute(_INSERT_RETURNING_IDS, values).scalars())
    for prediction, prediction_id in zip(predictions, ids, strict=True):
        prediction.id = prediction_id
    mark_written(session)


def top_category(results: Sequence[Mapping[str, object]]) -> int | None:
    """The most probable category of stored results (they are sorted), ``None`` if empty."""
    return int(str(results[0]["category_id"])) if results else None


def get_prediction(
    session: Session, prediction_id: int, *, for_update: bool = False
) -> Prediction | None:
    """Return the prediction with this id, if any.

    Args:
        session: The request's session.
        prediction_id: The prediction's id.
        for_update: Lock its row until the transaction ends (``SELECT ... FOR UPDATE`` on
            PostgreSQL; SQLite, which has one writer at a time, takes no row lock).
    """
    return session.get(Prediction, prediction_id, with_for_update=for_update)


def list_predictions(
    session: Session, *, model_version: str | None = None, skip: int = 0, limit: int = 100
) -> Sequence[Prediction]:
    """Return predictions, newest first, optionally of one model version, paged."""
    query = select(Prediction)
    if model_version is not None:
        query = query.where(Prediction.model_version == model_version)
    query = query.order_by(Prediction.id.desc()).offset(skip).limit(limit)
    return session.scalars(query).all()


def iter_profile_rows(
    session: Session, model_name: str, model_version: str, start: datetime, end: datetime
) -> Iterator[tuple[str, str, bool, list[dict[str, Any]]]]:
    """Stream (designation, description, has image, results) of one version's predictions.

    Only the predictions made at or after ``start`` and before ``end``, read
    :data:`STREAM_ROWS` at a time.
    """
    query = (
        select(
            Prediction.designation,
            Prediction.description,
            Prediction.image_sha256.is_not(None),
            Prediction.results,
        )
        .where(
            Prediction.model_name == model_name,
            Prediction.model_version == model_version,
            Prediction.created_at >= start,
            Prediction.created_at < end,
        )
        .execution_options(yield_per=STREAM_ROWS)
    )
    for designation, description, has_image, results in session.execute(query):
        yield designation or "", description or "", bool(has_image), results


def latest_predicted_version(session: Session, model_name: str) -> str | None:
    """The model version of the most recent stored prediction of ``model_name``, if any."""
    query = (
        select(Prediction.model_version)
        .where(Prediction.model_name == model_name)
        .order_by(Prediction.id.desc())
        .limit(1)
    )
    return session.scalars(query).first()


def has_predictions(session: Session, model_name: str, model_version: str) -> bool:
    """Whether a prediction of ``model_name`` version ``model_version`` is stored."""
    query = (
        select(Prediction.id)
        .where(Prediction.model_name == model_name, Prediction.model_version == model_version)
        .limit(1)
    )
    return session.scalars(query).first() is not None


def prediction_counts(
    session: Session, start: datetime, end: datetime
) -> list[tuple[str, str, int]]:
    """(model name, version, predictions) made at or after ``start`` and before ``end``."""
    query = (
        select(Prediction.model_name, Prediction.model_version, func.count())
        .where(Prediction.created_at >= start, Prediction.created_at < end)
        .group_by(Prediction.model_name, Prediction.model_version)
        .order_by(Prediction.model_name, Prediction.model_version)
    )
    return [(name, version, int(count)) for name, version, count in session.execute(query)]


def recently_referenced_digests(session: Session, digests: list[str], cutoff: datetime) -> set[str]:
    """The image digests of ``digests`` that a prediction made at or after ``cutoff`` refers to."""
    recent: set[str] = set()
    for start in range(0, len(digests), DIGESTS_PER_QUERY):
        chunk = digests[start : start + DIGESTS_PER_QUERY]
        query = (
            select(Prediction.image_sha256)
            .where(Prediction.image_sha256.in_(chunk), Prediction.created_at >= cutoff)
            .distinct()
        )
        recent.update(digest for digest in session.scalars(query) if digest is not None)
    return recent
