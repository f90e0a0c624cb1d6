"""The challenger in shadow: every request predicted twice, stored linked, the caller unaffected.

Both versions of the registered model ``shadowtext`` hold the session's text model (version 1
is the champion, version 2 the challenger), so both answer the same: agreement is complete and
the quality difference is zero, figures a test can check exactly.
"""

import base64
import uuid
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.db.models import Prediction, ShadowPrediction
from app.inference.shadow import ShadowJob, ShadowPredictor
from app.main import create_app
from product_classifier.serving.contract import ProductInput
from tests.conftest import Account, make_settings
from tests.helpers import models as model_helpers
from tests.helpers.images import image_bytes

API = "/api/v1"
NAME = "shadowtext"


@pytest.fixture(scope="module")
def shadow_versions(
    trained_text: model_helpers.TrainedModels, tracking_uri: str
) -> tuple[str, str]:
    """``shadowtext@production`` and ``shadowtext@challenger``: two copies of the text model."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
    text_version = trained_text.versions["text"][0]
    champion = model_helpers.register_copy(NAME, "text", text_version, tracking_uri)
    challenger = model_helpers.register_copy(NAME, "text", text_version, tracking_uri)
    client.set_registered_model_alias(NAME, "production", champion)
    client.set_registered_model_alias(NAME, "challenger", challenger)
    return champion, challenger


@pytest.fixture(scope="module")
def shadow_client(database_url: str, shadow_versions: tuple[str, str]) -> Iterator[TestClient]:
    """The API serving ``shadowtext@production`` with ``shadowtext@challenger`` in shadow."""
    settings = make_settings(database_url, MODEL_NAME=NAME, MODEL_ALIAS="production")
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def plain_client(database_url: str, shadow_versions: tuple[str, str]) -> Iterator[TestClient]:
    """The same API without a challenger (``MODEL_CHALLENGER_ALIAS`` empty)."""
    settings = make_settings(
        database_url, MODEL_NAME=NAME, MODEL_ALIAS="production", MODEL_CHALLENGER_ALIAS=""
    )
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def shadow_of(client: TestClient) -> ShadowPredictor:
    shadow = client.app.state.shadow  # type: ignore[attr-defined]
    assert isinstance(shadow, ShadowPredictor)
    return shadow


def metric(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def _requests(client: TestClient, user: Account) -> tuple[list[object], list[int]]:
    """One text prediction, one with an image, one batch; their answers and prediction ids."""
    image = image_bytes(size=(64, 48))
    single = client.post(
        f"{API}/predict/", params={"designation": "Stylo plume"}, headers=user.headers
    )
    with_image = client.post(
        f"{API}/predict/",
        params={"designation": "Table de jardin"},
        files={"image": ("p.jpg", image, "image/jpeg")},
        headers=user.headers,
    )
    batch = client.post(
        f"{API}/predict/batch",
        json=[
            {"designation": "Roman policier", "description": "Poche"},
            {"designation": "Piscine", "image": base64.b64encode(image).decode()},
        ],
        headers=user.headers,
    )
    for response in (single, with_image, batch):
        assert response.status_code == 200, response.text
    ids = [int(single.headers["X-Prediction-Id"]), int(with_image.headers["X-Prediction-Id"])]
    ids += [row["prediction_id"] for row in batch.json()]
    answers = [single.json(), with_image.json(), [row["categories"] for row in batch.json()]]
    return answers, ids


def test_every_prediction_is_shadowed_and_linked(
    shadow_client: TestClient,
    plain_client: TestClient,
    shadow_versions: tuple[str, str],
    user: Account,
    session_factory: sessionmaker[Session],
) -> None:
    champion, challenger = shadow_versions
    stored_before = metric(
        "shadow_predictions_total", model_name=NAME, model_version=challenger, outcome="stored"
    )
    answers, ids = _requests(shadow_client, user)
    shadow_of(shadow_client).join()
    plain_answers, _ = _requests(plain_client, user)
    assert answers == plain_answers  # the caller's answers do not change
    with session_factory() as session:
        rows = session.scalars(
            select(ShadowPrediction).where(ShadowPrediction.prediction_id.in_(ids))
        ).all()
        predictions = {
            row.id: row for row in session.scalars(select(Prediction).where(Prediction.id.in_(ids)))
        }
    assert sorted(row.prediction_id for row in rows) == sorted(ids)
    for row in rows:
        assert (row.model_name, row.model_version) == (NAME, challenger)
        assert predictions[row.prediction_id].model_version == champion
        assert len(row.results) == 27
        assert (
            row.results[0]["category_id"]
            == predictions[row.prediction_id].results[0]["category_id"]
        )
        assert row.latency_ms > 0
    stored_after = metric(
        "shadow_predictions_total", model_name=NAME, model_version=challenger, outcome="stored"
    )
    assert stored_after - stored_before == len(ids)
    exposed = shadow_client.get("/metrics").text
    assert "shadow_prediction_duration_seconds_count" in exposed
    assert "shadow_requests_dropped_total" in exposed


def test_without_challenger_nothing_is_shadowed(
    plain_client: TestClient, user: Account, session_factory: sessionmaker[Session]
) -> None:
    assert plain_client.app.state.shadow is None  # type: ignore[attr-defined]
    _, ids = _requests(plain_client, user)
    with session_factory() as session:
        query = select(ShadowPrediction).where(ShadowPrediction.prediction_id.in_(ids))
        assert session.scalars(query).all() == []


def test_a_full_queue_drops_and_counts(
    shadow_client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    challenger = shadow_of(shadow_client).challenger
    idle = ShadowPredictor(challenger, session_factory, queue_size=1)  # no thread: nothing runs
    job = ShadowJob("1", (1,), (ProductInput(designation="Stylo"),))
    dropped_before = metric("shadow_requests_dropped_total")
    assert idle.submit(job) is True
    assert idle.submit(job) is False
    assert metric("shadow_requests_dropped_total") - dropped_before == 1


def test_a_failing_shadow_is_counted_and_stores_nothing(
    shadow_client: TestClient,
    shadow_versions: tuple[str, str],
    session_factory: sessionmaker[Session],
) -> None:
    challenger = shadow_versions[1]
    shadow = shadow_of(shadow_client)
    failed_before = metric(
        "shadow_predictions_total", model_name=NAME, model_version=challenger, outcome="failed"
    )
    missing = 2_000_000_000 - uuid.uuid4().int % 1000  # no such prediction: the link fails
    job = ShadowJob("1", (missing,), (ProductInput(designation="Stylo"),))
    assert shadow.run_one(job) == 0
    failed_after = metric(
        "shadow_predictions_total", model_name=NAME, model_version=challenger, outcome="failed"
    )
    assert failed_after - failed_before == 1


def test_challenger_report(
    shadow_client: TestClient,
    shadow_versions: tuple[str, str],
    user: Account,
    admin: Account,
) -> None:
    champion, challenger = shadow_versions
    _, ids = _requests(shadow_client, user)
    shadow_of(shadow_client).join()
    for position, prediction_id in enumerate(ids[:3]):
        body = {
            "product_id": 10**12 + uuid.uuid4().int % 10**9,
            "real_category_id": (10, 2522, 40)[position],
            "prediction_id": prediction_id,
        }
        response = shadow_client.post(f"{API}/feedback/", json=body, headers=user.headers)
        assert response.status_code == 201, response.text

    assert shadow_client.get(f"{API}/monitoring/challenger").status_code == 401
    forbidden = shadow_client.get(f"{API}/monitoring/challenger", headers=user.headers)
    assert forbidden.status_code == 403
    response = shadow_client.get(f"{API}/monitoring/challenger", headers=admin.headers)
    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["champion_version"], report["challenger_version"]) == (champion, challenger)
    assert report["challenger_alias"] == "challenger"
    (pair,) = [
        row
        for row in report["comparisons"]
        if (row["champion_version"], row["challenger_version"]) == (champion, challenger)
    ]
    assert pair["shadowed"] >= len(ids)
    assert pair["agreement_rate"] == 1.0  # the same model twice
    assert pair["labelled"] >= 3
    assert pair["champion_accuracy"] == pair["challenger_accuracy"]
    assert pair["weighted_f1_difference"] == {"value": 0.0, "low": 0.0, "high": 0.0}
