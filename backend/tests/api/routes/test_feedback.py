"""Feedback: one per product and model version (enforced by the database), listing, stats."""

import threading
import uuid
from collections import Counter
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sklearn.metrics import accuracy_score, f1_score

from app.db.models import Feedback

API = "/api/v1"


def new_product_id() -> int:
    return uuid.uuid4().int % 10**12


def send(client: TestClient, headers: dict[str, str], **body: object) -> Any:
    return client.post(f"{API}/feedback/", json=body, headers=headers)


def test_feedback_from_a_prediction_takes_its_model_version(client, user, db):
    prediction = client.post(
        f"{API}/predict/", params={"designation": "Lot de 3 cahiers"}, headers=user.headers
    )
    prediction_id = int(prediction.headers["X-Prediction-Id"])
    top = prediction.json()[0]["category_id"]
    product_id = new_product_id()
    response = send(
        client,
        user.headers,
        product_id=product_id,
        real_category_id=2522,
        pred_category_id=top,
        prediction_id=prediction_id,
    )
    assert response.status_code == 201
    body = response.json()
    assert body["model_version"] == prediction.headers["X-Model-Version"]
    assert body["prediction_id"] == prediction_id
    assert body["product_id"] == product_id
    row = db.get(Feedback, body["id"])
    assert row is not None
    assert (row.real_category_id, row.pred_category_id, row.user_id) == (2522, top, user.id)


def test_model_version_defaults_to_the_served_one(client, user):
    response = send(
        client, user.headers, product_id=new_product_id(), real_category_id=10, pred_category_id=10
    )
    assert response.status_code == 201
    assert response.json()["model_version"] == "1"


def test_second_feedback_for_the_same_product_and_version_is_400(client, user, db):
    body = {
        "product_id": new_product_id(),
        "model_version": "1",
        "real_category_id": 10,
        "pred_category_id": 40,
    }
    assert send(client, user.headers, **body).status_code == 201
    again = send(client, user.headers, **{**body, "real_category_id": 50})
    assert again.status_code == 400
    assert again.json() == {
        "detail": "A prediction feedback with this product id already exists in the system."
    }
    # The database keys it by product and version: another version of the product is fine.
    db.add(Feedback(**{**body, "model_version": "2"}))
    db.commit()


def test_concurrent_feedbacks_for_one_product_one_wins(client, user):
    """Two simultaneous requests per product: one 201, one 400, never a 500."""
    for _ in range(5):
        body = {
            "product_id": new_product_id(),
            "model_version": "1",
            "real_category_id": 10,
            "pred_category_id": 10,
        }
        barrier = threading.Barrier(2)
        statuses: list[int] = []

        def post(body=body, barrier=barrier, statuses=statuses):
            barrier.wait()
            statuses.append(send(client, user.headers, **body).status_code)

        threads = [threading.Thread(target=post) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert sorted(statuses) == [201, 400]


def test_concurrent_feedbacks_on_one_prediction_are_answered_as_sequential_ones(client, user):
    """Every loser gets the prediction's duplicate message, on PostgreSQL as on SQLite.

    The feedbacks break both unique constraints (same prediction, same product and version):
    without the prediction's row lock, PostgreSQL reported whichever it checked first.
    """
    for _ in range(3):
        product = {"designation": "Lampe de chevet", "product_id": str(new_product_id())}
        batch = client.post(f"{API}/predict/batch", json=[product], headers=user.headers)
        prediction_id = batch.json()[0]["prediction_id"]
        barrier = threading.Barrier(6)
        answers: list[tuple[int, Any]] = []

        def post(category, prediction_id=prediction_id, barrier=barrier, answers=answers):
            barrier.wait()
            response = send(
                client, user.headers, prediction_id=prediction_id, real_category_id=category
            )
            answers.append((response.status_code, response.json()))

        threads = [
            threading.Thread(target=post, args=(category,))
            for category in (10, 40, 50, 60, 1140, 1160)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert sorted(status for status, _ in answers) == [201, 400, 400, 400, 400, 400]
        refusals = {body["detail"] for status, body in answers if status == 400}
        assert refusals == {"A feedback already exists for this prediction."}


def test_an_administrator_deletes_a_bogus_feedback_and_the_real_one_then_fits(
    client, user, admin, db
):
    """A feedback without a prediction is taken as stated; one that squats a product's slot
    can be deleted by an administrator, and the seller's real feedback then goes in."""
    product_id = new_product_id()
    bogus = send(
        client, admin.headers, product_id=product_id, real_category_id=10, pred_category_id=10
    )
    assert bogus.status_code == 201
    product = {"designation": "Lampe de chevet", "product_id": str(product_id)}
    batch = client.post(f"{API}/predict/batch", json=[product], headers=user.headers)
    prediction_id = batch.json()[0]["prediction_id"]
    real = {"prediction_id": prediction_id, "real_category_id": 2060}
    assert send(client, user.headers, **real).status_code == 400  # the slot is taken

    path = f"{API}/feedback/{bogus.json()['id']}"
    assert client.delete(path, headers=user.headers).status_code == 403  # administrators only
    deleted = client.delete(path, headers=admin.headers)
    assert (deleted.status_code, deleted.content) == (204, b"")
    assert db.get(Feedback, bogus.json()["id"]) is None
    assert client.delete(path, headers=admin.headers).status_code == 404
    assert client.delete(f"{API}/feedback/{2**31 - 1}", headers=admin.headers).status_code == 404
    assert send(client, user.headers, **real).status_code == 201


@pytest.mark.parametrize(
    "body",
    [
        {"product_id": 1, "real_category_id": 11, "pred_category_id": 10},
        {"product_id": 1, "real_category_id": 10, "pred_category_id": 99999},
        {"product_id": -1, "real_category_id": 10, "pred_category_id": 10},
        {"real_category_id": 10, "pred_category_id": 10},
        {"product_id": "abc", "real_category_id": 10, "pred_category_id": 10},
    ],
)
def test_invalid_feedback_is_422(client, user, body):
    assert send(client, user.headers, **body).status_code == 422


def test_unknown_prediction_is_404(client, user):
    response = send(
        client,
        user.headers,
        product_id=new_product_id(),
        real_category_id=10,
        pred_category_id=10,
        prediction_id=10**9,
    )
    assert response.status_code == 404
    assert response.json() == {"detail": "Prediction not found"}


def stored_feedback(db, version: str, real: int = 10, pred: int = 10) -> dict[str, Any]:
    """A feedback of an invented version, written directly (the API takes registered ones)."""
    row = Feedback(
        product_id=new_product_id(),
        model_version=version,
        real_category_id=real,
        pred_category_id=pred,
    )
    db.add(row)
    db.commit()
    return {
        "id": row.id,
        "product_id": row.product_id,
        "model_version": version,
        "real_category_id": real,
        "pred_category_id": pred,
        "prediction_id": None,
    }


def unused_version() -> str:
    """A version number no other test stores (the filters take versions as MLflow writes them)."""
    return str(10**9 + uuid.uuid4().int % (9 * 10**9))


def test_admin_lists_feedback_by_model_version(client, admin, db):
    version = unused_version()
    sent = [stored_feedback(db, version) for _ in range(3)]
    listed = client.get(
        f"{API}/feedback/", params={"model_version": version}, headers=admin.headers
    )
    assert listed.status_code == 200
    assert listed.json() == sent
    page = client.get(
        f"{API}/feedback/",
        params={"model_version": version, "skip": 1, "limit": 1},
        headers=admin.headers,
    )
    assert page.json() == sent[1:2]
    everything = client.get(f"{API}/feedback/", params={"limit": 1000}, headers=admin.headers)
    assert len(everything.json()) >= 3


def test_stats_per_model_version_match_scikit_learn(client, admin, db):
    version = f"stats-{uuid.uuid4().hex[:8]}"
    pairs = [(10, 10), (10, 10), (10, 40), (40, 40), (50, 10), (60, 60), (60, 50)]
    for real, pred in pairs:
        stored_feedback(db, version, real, pred)
    stats = client.get(f"{API}/feedback/stats", headers=admin.headers)
    assert stats.status_code == 200
    mine = [row for row in stats.json() if row["model_version"] == version]
    real_ids = [real for real, _ in pairs]
    pred_ids = [pred for _, pred in pairs]
    assert mine == [
        {
            "model_version": version,
            "count": len(pairs),
            "accuracy": pytest.approx(accuracy_score(real_ids, pred_ids)),
            "weighted_f1": pytest.approx(f1_score(real_ids, pred_ids, average="weighted")),
        }
    ]
    assert Counter(row["model_version"] for row in stats.json())[version] == 1
