"""Feedback counts for the model version that made the prediction, and only once (kind 7).

With a ``prediction_id`` the version is the stored prediction's (another one is a 422); without
one, only versions registered in MLflow for the served model are accepted; one feedback per
prediction. Invented versions never become a series of their own in the quality figures.
"""

import uuid
from collections.abc import Iterator
from typing import Any

import mlflow
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.db.models import Feedback
from app.main import create_app
from tests.conftest import make_settings
from tests.inference.test_serving import copy_of_text_v1, registry

API = "/api/v1"


def product_id() -> int:
    return uuid.uuid4().int % 10**12


def feedback(client: TestClient, headers: dict[str, str], **fields: Any) -> Any:
    body = {"product_id": product_id(), "real_category_id": 10, **fields}
    if "prediction_id" not in fields:  # with one, the prediction's top category is the default
        body["pred_category_id"] = 10
    return client.post(f"{API}/feedback/", json=body, headers=headers)


def predicted(client: TestClient, headers: dict[str, str]) -> tuple[int, str]:
    response = client.post(f"{API}/predict/", params={"designation": "Stylo"}, headers=headers)
    assert response.status_code == 200
    return int(response.headers["X-Prediction-Id"]), response.headers["X-Model-Version"]


def refused(response: Any, error_type: str) -> None:
    assert response.status_code == 422, response.text
    (error,) = response.json()["detail"]
    assert (error["loc"], error["type"]) == (["body", "model_version"], error_type)


def feedback_count(db) -> int:
    db.expire_all()
    return int(db.scalar(select(func.count()).select_from(Feedback)))


def test_a_version_other_than_the_predictions_is_refused(client, user, db):
    # The example: "7" beside a prediction of version 1 was stored as version 7.
    prediction_id, version = predicted(client, user.headers)
    before = feedback_count(db)
    response = feedback(client, user.headers, model_version="7", prediction_id=prediction_id)
    refused(response, "model_version_mismatch")
    assert f"made by model version {version}, not 7" in response.json()["detail"][0]["msg"]
    assert feedback_count(db) == before
    accepted = feedback(client, user.headers, model_version=version, prediction_id=prediction_id)
    assert accepted.status_code == 201
    assert accepted.json()["model_version"] == version


@pytest.mark.parametrize("version", ["", "1.0", "v1", " 1", "01", "1" * 11])
def test_malformed_versions_are_refused(client, user, version):
    response = feedback(client, user.headers, model_version=version)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "model_version"]


def test_an_unregistered_version_is_refused(client, user, db):
    before = feedback_count(db)
    refused(feedback(client, user.headers, model_version="999"), "unknown_model_version")
    assert feedback_count(db) == before


def test_one_feedback_per_prediction(client, user):
    prediction_id, _ = predicted(client, user.headers)
    assert feedback(client, user.headers, prediction_id=prediction_id).status_code == 201
    again = feedback(client, user.headers, prediction_id=prediction_id, real_category_id=40)
    assert again.status_code == 400
    assert again.json() == {"detail": "A feedback already exists for this prediction."}


@pytest.fixture(scope="module")
def two_versions(database_url, tracking_uri, trained_text) -> Iterator[TestClient]:
    """An API serving version 1 of a model that also has a version 2 in the registry."""
    name = f"feedback-{uuid.uuid4().hex[:8]}"
    mlflow = registry(tracking_uri)
    first = copy_of_text_v1(mlflow, name)
    source = mlflow.get_model_version(name, first)
    assert source.source is not None
    mlflow.create_model_version(name, source=source.source, run_id=source.run_id)
    mlflow.set_registered_model_alias(name, "production", first)
    settings = make_settings(database_url, MODEL_NAME=name, MODEL_ALIAS="production")
    with TestClient(create_app(settings)) as client:
        yield client


def test_a_registered_version_that_is_not_served_is_accepted(two_versions, user):
    response = feedback(two_versions, user.headers, model_version="2")
    assert response.status_code == 201, response.text
    assert response.json()["model_version"] == "2"
    refused(feedback(two_versions, user.headers, model_version="3"), "unknown_model_version")


def test_without_a_version_the_served_one_is_used(two_versions, user):
    response = feedback(two_versions, user.headers)
    assert response.status_code == 201
    assert response.json()["model_version"] == "1"


def test_registry_unreachable_is_503(database_url, tracking_uri, user, monkeypatch):
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "2")
    settings = make_settings(database_url, MLFLOW_TRACKING_URI="http://127.0.0.1:9")
    try:
        with TestClient(create_app(settings)) as client:
            response = feedback(client, user.headers, model_version="1")
    finally:  # the app pointed MLflow's process-wide URIs elsewhere
        mlflow.set_tracking_uri(tracking_uri)
        mlflow.set_registry_uri(tracking_uri)
    assert response.status_code == 503
    assert "registry" in response.json()["detail"]
