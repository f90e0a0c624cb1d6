"""Check that what the API stored is exactly what the caller received."""

import hashlib
from typing import Any

from sqlalchemy.orm import Session

from app.db.models import Prediction


def assert_stored(
    db: Session,
    prediction_id: int,
    *,
    results: list[dict[str, Any]],
    model_name: str,
    model_version: str,
    user_id: int,
    designation: str = "",
    description: str = "",
    image: bytes | None = None,
    product_id: str | None = None,
) -> Prediction:
    """Assert the stored prediction ``prediction_id`` matches the response and the inputs."""
    db.expire_all()
    row = db.get(Prediction, prediction_id)
    assert row is not None, f"prediction {prediction_id} was not stored"
    assert row.results == results
    assert row.model_name == model_name
    assert row.model_version == model_version
    assert row.user_id == user_id
    assert row.designation == designation
    assert row.description == description
    assert row.product_id == product_id
    assert row.latency_ms > 0
    if image is None:
        assert row.image_sha256 is None
        assert row.image_size_bytes is None
    else:
        assert row.image_sha256 == hashlib.sha256(image).hexdigest()
        assert row.image_size_bytes == len(image)
        assert row.image_width is not None
        assert row.image_height is not None
    return row


def assert_answer_stored(
    db: Session, response: Any, user_id: int, *, model_name: str = "text", **inputs: Any
) -> Prediction:
    """Assert that a 200 of ``POST /predict/`` (served by version 1) was stored as answered.

    Args:
        db: A session on the application's database.
        response: The HTTP answer.
        user_id: Who asked.
        model_name: The served model's name.
        **inputs: ``designation``, ``description``, ``image`` as sent.
    """
    assert response.status_code == 200, response.text
    return assert_stored(
        db,
        int(response.headers["X-Prediction-Id"]),
        results=response.json(),
        model_name=model_name,
        model_version="1",
        user_id=user_id,
        **inputs,
    )
