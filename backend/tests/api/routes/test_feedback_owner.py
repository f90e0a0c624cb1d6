"""Only the user who asked for a prediction (or an administrator) may file its feedback.

Prediction ids are sequential: before, any user could take the one feedback of every other
user's prediction, write any category into the quality figures and the training export, and
read back the prediction's category. Another user's prediction is now answered as an unknown
one (404), single or batch, and nothing is stored.
"""

import uuid

import pytest
from sqlalchemy import func, select

from app.db.models import Feedback
from tests.conftest import make_account

API = "/api/v1"


def _prediction(client, headers, *, batch: bool) -> int:
    """A prediction of the user: a batch one names its product, a single one does not."""
    if batch:
        products = [{"product_id": str(uuid.uuid4().int % 10**12), "designation": "Stylo bille"}]
        response = client.post(f"{API}/predict/batch", json=products, headers=headers)
        assert response.status_code == 200, response.text
        return int(response.json()[0]["prediction_id"])
    response = client.post(f"{API}/predict/", params={"designation": "Stylo"}, headers=headers)
    assert response.status_code == 200, response.text
    return int(response.headers["X-Prediction-Id"])


def _feedback(client, headers, prediction_id: int, *, batch: bool):
    body = {"prediction_id": prediction_id, "real_category_id": 2522}
    if not batch:  # a batch prediction's feedback takes its product
        body["product_id"] = uuid.uuid4().int % 10**12
    return client.post(f"{API}/feedback/", json=body, headers=headers)


def _filed(db, prediction_id: int) -> int:
    db.expire_all()
    query = (
        select(func.count()).select_from(Feedback).where(Feedback.prediction_id == prediction_id)
    )
    return int(db.scalar(query))


@pytest.fixture
def owner(session_factory, app_settings):
    """Another plain user, who asks for the predictions."""
    return make_account(session_factory, app_settings)


@pytest.mark.parametrize("batch", [False, True])
def test_another_users_prediction_is_unknown_to_a_plain_user(client, user, owner, db, batch):
    prediction_id = _prediction(client, owner.headers, batch=batch)
    response = _feedback(client, user.headers, prediction_id, batch=batch)
    assert response.status_code == 404, response.text
    assert response.json() == {"detail": "Prediction not found"}
    assert _filed(db, prediction_id) == 0
    # The owner's own feedback is still theirs to give.
    assert _feedback(client, owner.headers, prediction_id, batch=batch).status_code == 201
    assert _filed(db, prediction_id) == 1


def test_an_administrator_may_file_any_users_prediction(client, user, admin, db):
    prediction_id = _prediction(client, user.headers, batch=False)
    response = _feedback(client, admin.headers, prediction_id, batch=False)
    assert response.status_code == 201, response.text
    assert _filed(db, prediction_id) == 1
