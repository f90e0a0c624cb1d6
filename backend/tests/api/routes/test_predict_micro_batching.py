"""Micro-batching through the API: concurrent requests share one model call, same answers.

The applications here wait up to seconds for a full batch (``MICRO_BATCH_MAX_WAIT_MS``), so that
the requests sent at once are gathered deterministically; the answers must be those of the
same requests sent one by one to an application without micro-batching, and the gathered
call must be counted in ``/metrics``.
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

from app.main import create_app
from tests.conftest import Account, make_settings
from tests.helpers import models as model_helpers
from tests.helpers.images import image_bytes

API = "/api/v1"
TITLES = ["Jeu de société", "Livre de cuisine", "Figurine Star Wars", "Piscine gonflable"]


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


def micro_batch_figures(client: TestClient) -> tuple[float, float]:
    """How many gathered calls ``/metrics`` counted so far, and their products."""
    response = client.get("/metrics")
    assert response.status_code == 200
    figures = {
        sample.name: sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
        if sample.name in ("micro_batch_rows_count", "micro_batch_rows_sum")
    }
    return figures["micro_batch_rows_count"], figures["micro_batch_rows_sum"]


def test_concurrent_text_requests_share_one_call_and_answer_as_alone(
    database_url: str, trained_text: model_helpers.TrainedModels, user: Account, unbatched_text
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

    with gathering_client(database_url, "text", rows=4) as client:
        calls_before, rows_before = micro_batch_figures(client)
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
    assert empty.status_code == 400  # refused before the model: the others are not affected
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
