"""A feedback that names a prediction agrees with it, or is refused with nothing stored.

The quality figures compare the category the model answered with the one the seller chose:
with a ``prediction_id``, the feedback's ``pred_category_id`` is the prediction's most probable
category (by default; another one is a 422) and its ``product_id`` the one the prediction was
made for, if any (another one is a 422), as its ``model_version`` is the prediction's.
"""

import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.db.models import Feedback

API = "/api/v1"


def new_product_id() -> int:
    return uuid.uuid4().int % 10**12


def predicted(client: TestClient, headers: dict[str, str], title: str) -> tuple[int, int]:
    """The prediction id and most probable category of a one-product /predict."""
    response = client.post(f"{API}/predict/", params={"designation": title}, headers=headers)
    assert response.status_code == 200, response.text
    return int(response.headers["X-Prediction-Id"]), response.json()[0]["category_id"]


def batch(client: TestClient, headers: dict[str, str], products: list[dict[str, Any]]) -> Any:
    response = client.post(f"{API}/predict/batch", json=products, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def send(client: TestClient, headers: dict[str, str], **body: object) -> Any:
    return client.post(f"{API}/feedback/", json=body, headers=headers)


def other_than(code: int) -> int:
    return 2522 if code != 2522 else 10


def feedback_count(db) -> int:
    db.expire_all()
    return int(db.scalar(select(func.count()).select_from(Feedback)))


def refused(response: Any, field: str, error_type: str) -> str:
    assert response.status_code == 422, response.text
    (error,) = response.json()["detail"]
    assert (error["loc"], error["type"]) == (["body", field], error_type)
    return str(error["msg"])


def test_without_pred_category_the_predictions_top_one_is_stored(client, user, db):
    prediction_id, top = predicted(client, user.headers, "Lot de 3 cahiers")
    response = send(
        client,
        user.headers,
        product_id=new_product_id(),
        real_category_id=other_than(top),
        prediction_id=prediction_id,
    )
    assert response.status_code == 201, response.text
    assert response.json()["pred_category_id"] == top
    row = db.get(Feedback, response.json()["id"])
    assert (row.pred_category_id, row.real_category_id) == (top, other_than(top))


def test_another_pred_category_than_the_predictions_is_refused(client, user, db):
    prediction_id, top = predicted(client, user.headers, "Stylo plume bleu")
    body = {"product_id": new_product_id(), "real_category_id": 10, "prediction_id": prediction_id}
    before = feedback_count(db)
    message = refused(
        send(client, user.headers, **body, pred_category_id=other_than(top)),
        "pred_category_id",
        "pred_category_id_mismatch",
    )
    assert f"most probable category is {top}, not {other_than(top)}" in message
    assert feedback_count(db) == before
    accepted = send(client, user.headers, **body, pred_category_id=top)
    assert accepted.status_code == 201, accepted.text


def test_each_batch_product_is_checked_against_its_own_prediction(client, user, db):
    titles = ["Peluche lapin", "Jeu de société famille", "Piscine gonflable ronde"]
    answers = batch(client, user.headers, [{"designation": title} for title in titles])
    for answer in answers:
        top = answer["categories"][0]["category_id"]
        prediction_id = answer["prediction_id"]
        body = {"product_id": new_product_id(), "real_category_id": 40}
        wrong = send(
            client,
            user.headers,
            **body,
            prediction_id=prediction_id,
            pred_category_id=other_than(top),
        )
        refused(wrong, "pred_category_id", "pred_category_id_mismatch")
        right = send(client, user.headers, **body, prediction_id=prediction_id)
        assert right.status_code == 201, right.text
        assert right.json()["pred_category_id"] == top
    stored = db.scalars(
        select(Feedback.pred_category_id)
        .where(Feedback.prediction_id.in_([answer["prediction_id"] for answer in answers]))
        .order_by(Feedback.prediction_id)
    ).all()
    assert stored == [answer["categories"][0]["category_id"] for answer in answers]


@pytest.mark.parametrize(
    "case", [("{}", 0, True), ("0{}", 0, True), ("000{}", 0, True), ("{}", 1, False)]
)
def test_the_product_must_be_the_predictions(client, user, db, case):
    stored, sent_offset, accepted = case
    product_id = new_product_id()
    products = [{"product_id": stored.format(product_id), "designation": "Cahier"}]
    (answer,) = batch(client, user.headers, products)
    sent = product_id + sent_offset
    body = {"product_id": sent, "real_category_id": 10, "prediction_id": answer["prediction_id"]}
    before = feedback_count(db)
    response = send(client, user.headers, **body)
    if accepted:
        assert response.status_code == 201, response.text
        assert response.json()["product_id"] == sent
    else:
        message = refused(response, "product_id", "product_id_mismatch")
        assert "made for another product" in message
        assert feedback_count(db) == before


@pytest.mark.parametrize("stored", ["{}", "00{}"])
def test_the_product_defaults_to_the_predictions(client, user, db, stored):
    product_id = new_product_id()
    products = [{"product_id": stored.format(product_id), "designation": "Cahier"}]
    (answer,) = batch(client, user.headers, products)
    response = send(
        client, user.headers, real_category_id=10, prediction_id=answer["prediction_id"]
    )
    assert response.status_code == 201, response.text
    assert response.json()["product_id"] == product_id
    filed = db.scalars(
        select(Feedback.product_id).where(Feedback.prediction_id == answer["prediction_id"])
    ).all()
    assert filed == [product_id]


def test_a_prediction_without_product_needs_one_in_the_feedback(client, user, db):
    prediction_id, _ = predicted(client, user.headers, "Stylo plume")
    before = feedback_count(db)
    response = send(client, user.headers, real_category_id=10, prediction_id=prediction_id)
    message = refused(response, "product_id", "missing")
    assert f"prediction {prediction_id} was made without one" in message
    assert feedback_count(db) == before


@pytest.mark.parametrize("missing", ["product_id", "pred_category_id"])
def test_without_a_prediction_product_and_category_are_required(client, user, db, missing):
    body = {"product_id": new_product_id(), "real_category_id": 10, "pred_category_id": 10}
    del body[missing]
    before = feedback_count(db)
    message = refused(send(client, user.headers, **body), missing, "missing")
    assert "required without a prediction_id" in message
    assert feedback_count(db) == before


def test_a_prediction_without_product_takes_any_product(client, user):
    prediction_id, _ = predicted(client, user.headers, "Cartouche d'encre")
    product_id = new_product_id()
    response = send(
        client,
        user.headers,
        product_id=product_id,
        real_category_id=10,
        prediction_id=prediction_id,
    )
    assert response.status_code == 201, response.text
    assert response.json()["product_id"] == product_id


@pytest.mark.parametrize(
    "case",
    [
        ("product_id", True, "int_type"),
        ("product_id", 1.0, "int_type"),
        ("product_id", "0042", "int_type"),
        ("real_category_id", "2522", "int_type"),
        ("real_category_id", 2522.0, "int_type"),
        ("pred_category_id", False, "int_type"),
        ("prediction_id", True, "int_type"),
        ("predictionid", 3, "extra_forbidden"),
        ("product", 42, "extra_forbidden"),
    ],
)
def test_feedback_fields_are_read_strictly(client, user, db, case):
    field, value, error_type = case
    body: dict[str, Any] = {
        "product_id": new_product_id(),
        "real_category_id": 2522,
        "pred_category_id": 10,
        field: value,
    }
    before = feedback_count(db)
    refused(send(client, user.headers, **body), field, error_type)
    assert feedback_count(db) == before


def test_a_second_feedback_on_a_prediction_gets_the_same_answer_on_both_databases(client, user):
    prediction_id, _ = predicted(client, user.headers, "Classeur à levier")
    first = send(
        client,
        user.headers,
        product_id=new_product_id(),
        real_category_id=2522,
        prediction_id=prediction_id,
    )
    assert first.status_code == 201, first.text
    # The same product and version too: both unique rules are broken, one answer is given.
    again = send(
        client,
        user.headers,
        product_id=first.json()["product_id"],
        real_category_id=10,
        prediction_id=prediction_id,
    )
    assert (again.status_code, again.json()) == (
        400,
        {"detail": "A feedback already exists for this prediction."},
    )
