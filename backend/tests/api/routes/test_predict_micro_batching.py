"""Micro-batching through the API: concurrent requests are served together, same answers.

The applications here wait up to seconds for a full batch (``MICRO_BATCH_MAX_WAIT_MS``), so that
the requests sent at once are gathered deterministically; the answers must be those of the
same requests sent one by one to an application without micro-batching, each request stored
with its own prediction, a refused request refused alone, and the gathered call counted in
``/metrics``. A database failing in the middle of a batch answers each request with its error
and writes nothing of the failed unit of work.
"""

import base64
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from app.db.models import Prediction
from app.main import create_app
from tests.conftest import Account, bearer, make_settings
from tests.helpers import models as model_helpers
from tests.helpers.images import image_bytes
from tests.helpers.predictions import assert_answer_stored

API = "/api/v1"
TITLES = ["Jeu de société", "Livre de cuisine", "Figurine Star Wars", "Piscine gonflable"]
NO_DATA = "You must provide either designation/description or an image to get a result."


def gathering_client(database_url: str, model: str, rows: int, **overrides: object) -> TestClient:
    """An application gathering up to ``rows`` products, waiting up to 5 s for them."""
    settings = make_settings(
        database_url,
        MODEL_NAME=model,
        MODEL_ALIAS="production",
        MICRO_BATCHING_ENABLED=True,
        MICRO_BATCH_MAX_SIZE=rows,
        MICRO_BATCH_MAX_WAIT_MS=5000,
        **overrides,
    )
    return TestClient(create_app(settings))


@pytest.fixture(scope="module")
def unbatched_text(
    database_url: str, trained_text: model_helpers.TrainedModels
) -> Iterator[TestClient]:
    """The text model without micro-batching: the reference answers."""
    settings = make_settings(
        database_url, MODEL_NAME="text", MODEL_ALIAS="production", MICRO_BATCHING_ENABLED=False
    )
    with TestClient(create_app(settings)) as client:
        yield client


def at_once(calls: list[Callable[[], httpx.Response]]) -> list[httpx.Response]:
    """Run every call at the same time, from threads; return the responses in order."""
    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(lambda call: call(), calls))


def as_probabilities(categories: list[dict[str, Any]]) -> dict[int, float]:
    return {entry["category_id"]: entry["probabilities"] for entry in categories}


Answer = list[dict[str, Any]]
"""The categories of one product, as the API answers them."""


def assert_same_answers(gathered: list[Answer], alone: list[Answer]) -> None:
    assert len(gathered) == len(alone)
    for together, single in zip(gathered, alone, strict=True):
        assert together[0]["category_id"] == single[0]["category_id"]
        expected = as_probabilities(single)
        assert as_probabilities(together) == pytest.approx(expected, abs=1e-3)


def micro_batch_figures(client: TestClient, name: str = "micro_batch_rows") -> tuple[float, float]:
    """How many gathered calls (or batches) ``/metrics`` counted so far, and their products.

    ``name``: ``micro_batch_rows`` (model calls, products) or ``micro_batch_requests``
    (batches, requests).
    """
    response = client.get("/metrics")
    assert response.status_code == 200
    figures = {
        sample.name: sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
        if sample.name in (f"{name}_count", f"{name}_sum")
    }
    return figures.get(f"{name}_count", 0.0), figures.get(f"{name}_sum", 0.0)


def test_concurrent_text_requests_share_one_call_and_answer_as_alone(
    database_url: str,
    trained_text: model_helpers.TrainedModels,
    user: Account,
    unbatched_text,
    db: Session,
) -> None:
    del trained_text
    alone = []
    for title in TITLES:
        response = unbatched_text.post(
            f"{API}/predict/", params={"designation": title}, headers=user.headers
        )
        assert response.status_code == 200, response.text
        alone.append(response.json())

    with gathering_client(database_url, "text", rows=len(TITLES)) as client:
        calls_before, rows_before = micro_batch_figures(client)
        url = f"{API}/predict/"
        responses = at_once(
            [
                partial(client.post, url, params={"designation": t}, headers=user.headers)
                for t in TITLES
            ]
        )
        calls_after, rows_after = micro_batch_figures(client)
    assert [response.status_code for response in responses] == [200] * len(TITLES)
    assert_same_answers([response.json() for response in responses], alone)
    ids = {response.headers["X-Prediction-Id"] for response in responses}
    assert len(ids) == len(TITLES)  # each request stored its own prediction
    assert calls_after - calls_before == 1
    assert rows_after - rows_before == len(TITLES)
    for title, response in zip(TITLES, responses, strict=True):
        assert_answer_stored(db, response, user.id, designation=title)


def test_single_and_batch_routes_share_a_call_and_a_bad_request_fails_alone(
    database_url: str, trained_text: model_helpers.TrainedModels, user: Account, unbatched_text
) -> None:
    del trained_text
    batch = [{"designation": title, "product_id": str(i)} for i, title in enumerate(TITLES[:3])]
    alone = unbatched_text.post(f"{API}/predict/batch", json=batch, headers=user.headers)
    single = unbatched_text.post(
        f"{API}/predict/", params={"designation": TITLES[3]}, headers=user.headers
    )
    assert alone.status_code == single.status_code == 200

    with gathering_client(database_url, "text", rows=5) as client:
        calls_before, rows_before = micro_batch_figures(client)
        batches_before, requests_before = micro_batch_figures(client, "micro_batch_requests")
        batch_response, single_response, empty = at_once(
            [
                lambda: client.post(f"{API}/predict/batch", json=batch, headers=user.headers),
                lambda: client.post(
                    f"{API}/predict/", params={"designation": TITLES[3]}, headers=user.headers
                ),
                lambda: client.post(f"{API}/predict/", headers=user.headers),
            ]
        )
        calls_after, rows_after = micro_batch_figures(client)
        batches_after, requests_after = micro_batch_figures(client, "micro_batch_requests")
    # In the same batch, the empty request is refused alone: the others are not affected.
    assert (batches_after - batches_before, requests_after - requests_before) == (1, 3)
    assert (empty.status_code, empty.json()) == (400, {"detail": NO_DATA})
    assert batch_response.status_code == single_response.status_code == 200
    assert_same_answers(
        [row["categories"] for row in batch_response.json()],
        [row["categories"] for row in alone.json()],
    )
    assert [row["product_id"] for row in batch_response.json()] == ["0", "1", "2"]
    assert_same_answers([single_response.json()], [single.json()])
    assert (calls_after - calls_before, rows_after - rows_before) == (1, 4)


def test_text_and_image_requests_are_gathered_with_the_fusion_model(
    database_url: str, trained_fusion: model_helpers.TrainedModels, user: Account
) -> None:
    del trained_fusion
    jpeg = image_bytes(size=(96, 80))
    encoded = base64.b64encode(jpeg).decode()

    def send_image(client: TestClient) -> httpx.Response:
        response: httpx.Response = client.post(
            f"{API}/predict/",
            params={"designation": TITLES[0]},
            files={"image": ("product.jpg", jpeg, "image/jpeg")},
            headers=user.headers,
        )
        return response

    def send_batch(client: TestClient) -> httpx.Response:
        products = [{"designation": TITLES[1]}, {"designation": TITLES[2], "image": encoded}]
        response: httpx.Response = client.post(
            f"{API}/predict/batch", json=products, headers=user.headers
        )
        return response

    alone_settings = make_settings(
        database_url, MODEL_NAME="fusion", MODEL_ALIAS="production", MICRO_BATCHING_ENABLED=False
    )
    with TestClient(create_app(alone_settings)) as unbatched:
        alone_image, alone_batch = send_image(unbatched), send_batch(unbatched)
    with gathering_client(database_url, "fusion", rows=3) as client:
        calls_before, rows_before = micro_batch_figures(client)
        image_response, batch_response = at_once(
            [lambda: send_image(client), lambda: send_batch(client)]
        )
        calls_after, rows_after = micro_batch_figures(client)
    assert image_response.status_code == batch_response.status_code == 200
    assert_same_answers([image_response.json()], [alone_image.json()])
    assert_same_answers(
        [row["categories"] for row in batch_response.json()],
        [row["categories"] for row in alone_batch.json()],
    )
    assert (calls_after - calls_before, rows_after - rows_before) == (1, 3)


def stored_count(db: Session, designations: list[str]) -> int:
    """Predictions stored with one of ``designations``."""
    db.expire_all()
    query = select(func.count()).where(Prediction.designation.in_(designations))
    return int(db.scalar(query) or 0)


# Designations no other test sends, so that a refused request's row would be seen.
REFUSED = ("Refusé : utilisateur inactif", "Refusé : utilisateur disparu", "R" * 41)


def test_refused_users_and_products_in_a_batch_are_refused_alone(
    database_url: str,
    trained_text: model_helpers.TrainedModels,
    user: Account,
    inactive_user: Account,
    db: Session,
) -> None:
    del trained_text
    settings = make_settings(database_url)
    url = f"{API}/predict/"
    batch = [{"designation": TITLES[0]}, {"designation": TITLES[1]}]
    # Six products in all: the batch is full once every request has arrived.
    with gathering_client(database_url, "text", rows=6, MAX_TEXT_LENGTH=40) as client:
        calls_before, rows_before = micro_batch_figures(client)
        good, good_batch, inactive, gone, too_long = at_once(
            [
                partial(client.post, url, params={"designation": TITLES[2]}, headers=user.headers),
                partial(client.post, f"{API}/predict/batch", json=batch, headers=user.headers),
                partial(
                    client.post,
                    url,
                    params={"designation": REFUSED[0]},
                    headers=inactive_user.headers,
                ),
                partial(
                    client.post,
                    url,
                    params={"designation": REFUSED[1]},
                    headers=bearer(10**9, settings),
                ),
                partial(client.post, url, params={"designation": REFUSED[2]}, headers=user.headers),
            ]
        )
        calls_after, rows_after = micro_batch_figures(client)
    assert (inactive.status_code, inactive.json()) == (403, {"detail": "Inactive user"})
    assert (gone.status_code, gone.json()) == (401, {"detail": "Could not validate credentials"})
    assert too_long.status_code == 422
    assert too_long.json()["detail"][0]["type"] == "string_too_long"
    assert_answer_stored(db, good, user.id, designation=TITLES[2])
    assert good_batch.status_code == 200, good_batch.text
    stored_ids = [row["prediction_id"] for row in good_batch.json()]
    assert len(set(stored_ids)) == 2
    assert (calls_after - calls_before, rows_after - rows_before) == (1, 3)
    assert stored_count(db, list(REFUSED)) == 0


def _install_refusing_trigger(database_url: str, designation: str) -> Callable[[], None]:
    """Make the database refuse to insert a prediction of ``designation``; return the undo."""
    engine = create_engine(database_url)
    if make_url(database_url).get_backend_name() == "sqlite":
        install = [
            "CREATE TRIGGER refuse_prediction BEFORE INSERT ON predictions "
            f"WHEN NEW.designation = '{designation}' BEGIN SELECT RAISE(ABORT, 'refused'); END"
        ]
        remove = ["DROP TRIGGER refuse_prediction"]
    else:
        install = [
            "CREATE FUNCTION refuse_prediction() RETURNS trigger AS $$ BEGIN "
            f"IF NEW.designation = '{designation}' THEN RAISE EXCEPTION 'refused'; END IF; "
            "RETURN NEW; END $$ LANGUAGE plpgsql",
            "CREATE TRIGGER refuse_prediction BEFORE INSERT ON predictions "
            "FOR EACH ROW EXECUTE FUNCTION refuse_prediction()",
        ]
        remove = [
            "DROP TRIGGER refuse_prediction ON predictions",
            "DROP FUNCTION refuse_prediction()",
        ]

    def run(statements: list[str]) -> None:
        with engine.begin() as connection:
            for statement in statements:
                connection.execute(text(statement))

    run(install)

    def undo() -> None:
        run(remove)
        engine.dispose()

    return undo


def test_a_row_the_database_refuses_fails_its_request_alone(
    database_url: str, trained_text: model_helpers.TrainedModels, user: Account, db: Session
) -> None:
    del trained_text
    refused = "Produit refusé par la base"
    undo = _install_refusing_trigger(database_url, refused)
    try:
        client = TestClient(
            gathering_client(database_url, "text", rows=3).app, raise_server_exceptions=False
        )
        url = f"{API}/predict/"
        titles = [TITLES[0], refused, TITLES[1]]
        with client:
            calls_before, rows_before = micro_batch_figures(client)
            responses = at_once(
                [
                    partial(client.post, url, params={"designation": t}, headers=user.headers)
                    for t in titles
                ]
            )
            calls_after, rows_after = micro_batch_figures(client)
    finally:
        undo()
    assert (calls_after - calls_before, rows_after - rows_before) == (1, 3)  # one batch
    first, refused_response, last = responses
    assert (refused_response.status_code, refused_response.json()) == (
        500,
        {"detail": "Internal server error"},
    )
    assert_answer_stored(db, first, user.id, designation=TITLES[0])
    assert_answer_stored(db, last, user.id, designation=TITLES[1])
    assert stored_count(db, [refused]) == 0


def test_a_database_failing_mid_batch_answers_503_to_each_and_writes_nothing(
    database_url: str, trained_text: model_helpers.TrainedModels, user: Account, db: Session
) -> None:
    """PostgreSQL: the predictions table is locked, so the batch's insert times out."""
    del trained_text
    if make_url(database_url).get_backend_name() != "postgresql":
        pytest.skip("needs PostgreSQL's statement_timeout (SQLite waits 30 s for a lock)")
    titles = [f"{title} (verrouillé)" for title in TITLES[:3]]
    url = f"{API}/predict/"
    client = gathering_client(
        database_url,
        "text",
        rows=3,
        DATABASE_STATEMENT_TIMEOUT_SECONDS=1,
        DATABASE_TIMEOUT_SECONDS=2,
    )
    locker = create_engine(database_url)
    with client, locker.connect() as connection:
        transaction = connection.begin()
        # Users stay readable: the batch passes its checks and fails at its insert.
        connection.execute(text("LOCK TABLE predictions IN ACCESS EXCLUSIVE MODE"))
        responses = at_once(
            [
                partial(client.post, url, params={"designation": t}, headers=user.headers)
                for t in titles
            ]
        )
        transaction.rollback()
        after = client.post(url, params={"designation": TITLES[3]}, headers=user.headers)
    locker.dispose()
    for response in responses:
        assert response.status_code == 503, response.text
        assert response.json() == {
            "detail": "The database is unavailable right now; this request was not completed. "
            "Retry later."
        }
        assert response.headers["Retry-After"] == "2"
    assert stored_count(db, titles) == 0
    assert_answer_stored(db, after, user.id, designation=TITLES[3])  # and it serves again
