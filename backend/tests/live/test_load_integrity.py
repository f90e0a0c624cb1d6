"""Load with integrity, and kept-alive connections after errors, on real API processes.

Two ``python -m app.serve`` processes serve the session's text model, one on SQLite and one on
PostgreSQL. On each:

- one kept-alive HTTP/1.1 connection carries several refused requests (422, 400, 404, 413 for a
  body over the limit) and then a good one, all answered on that same connection;
- 32 concurrent clients send at least 2,000 mixed requests (single predictions with the text in
  the JSON body or in the query, batches of three, feedback citing a prediction). Then every
  200 prediction is stored as answered and every 201 feedback exists once. The throughput is
  printed (``-s`` shows it).
"""

import http.client
import json
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from app.core.config import Settings
from tests.browser.live_api import LiveApi, ServerSpec, run_live_apis
from tests.conftest import Account, migrated_database, seed_admin
from tests.helpers.integrity import (
    AnsweredPrediction,
    assert_feedback_stored_once,
    assert_predictions_stored,
)
from tests.helpers.models import TrainedModels

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

DATABASES = ("sqlite", "postgresql")
CLIENTS = 32
REQUESTS_PER_CLIENT = 64
"""32 clients of 64 requests: 2,048 requests per database."""
BATCH_SIZE = 3
API_START_TIMEOUT_SECONDS = 300.0


@dataclass(frozen=True)
class RunningApi:
    """An API process, its database and its administrator."""

    api: LiveApi
    database_url: str
    admin: Account


@pytest.fixture(scope="module")
def apis(
    trained_text: TrainedModels, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, RunningApi]]:
    """One API per database, started together (their start-ups overlap)."""
    del trained_text  # registered as text@production in the session store
    folder = tmp_path_factory.mktemp("load")
    with (
        migrated_database("sqlite", "load") as sqlite_url,
        migrated_database("postgresql", "load") as postgres_url,
    ):
        urls = {"sqlite": sqlite_url, "postgresql": postgres_url}
        admins = {kind: seed_admin(url, Settings()) for kind, url in urls.items()}
        specs = {
            kind: ServerSpec(
                environment={
                    "SQLALCHEMY_DATABASE_URI": url,
                    "MODEL_NAME": "text",
                    "MODEL_ALIAS": "production",
                    "STATE_DIR": str(folder / f"state-{kind}"),
                },
                log_path=folder / f"api-{kind}.log",
            )
            for kind, url in urls.items()
        }
        with run_live_apis(specs, API_START_TIMEOUT_SECONDS) as live:
            yield {kind: RunningApi(live[kind], urls[kind], admins[kind]) for kind in DATABASES}


# --- one kept-alive connection ----------------------------------------------------------


def _exchange(
    connection: http.client.HTTPConnection,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, Any]:
    connection.request(method, path, body=body, headers=headers or {})
    response = connection.getresponse()
    payload = response.read()
    assert response.getheader("connection", "").lower() != "close", (method, path)
    return response.status, json.loads(payload)


@pytest.mark.parametrize("kind", DATABASES)
def test_one_kept_alive_connection_survives_refused_requests(
    apis: dict[str, RunningApi], kind: str
) -> None:
    running = apis[kind]
    address = urlsplit(running.api.base_url)
    auth = {**running.admin.headers}
    as_json = {**auth, "Content-Type": "application/json"}
    api = "/api/v1"
    connection = http.client.HTTPConnection(
        address.hostname or "127.0.0.1", address.port, timeout=60
    )
    try:
        connection.connect()
        sock = connection.sock
        body_limit = Settings().max_predict_body_bytes
        refused = [
            # 422: a limit out of its range, then a product id out of the column's range.
            ("POST", f"{api}/predict/?limit=0&designation=x", None, auth, 422),
            ("POST", f"{api}/feedback/", b'{"product_id": 9223372036854775808}', as_json, 422),
            # 422: invalid JSON, and a lone surrogate.
            ("POST", f"{api}/predict/batch", b'[{"designation": ', as_json, 422),
            ("POST", f"{api}/predict/batch", b'[{"designation":"a \\ud83d b"}]', as_json, 422),
            # 400: nothing to predict from.
            ("POST", f"{api}/predict/", b'{"designation": "  "}', as_json, 400),
            # 401 and 404.
            ("GET", f"{api}/users/me", None, {"Authorization": "Bearer nope"}, 401),
            ("GET", f"{api}/no-such-route", None, auth, 404),
            # 413: a body over the limit (sent in full; the server reads past it).
            ("POST", f"{api}/predict/", b"x" * (body_limit + 1), as_json, 413),
        ]
        for method, path, body, headers, expected in refused:
            status, payload = _exchange(connection, method, path, body, headers)
            assert status == expected, (method, path, status, payload)
            assert "detail" in payload
            assert connection.sock is sock, f"{method} {path} closed the connection"
        status, payload = _exchange(
            connection, "POST", f"{api}/predict/", b'{"designation": "Stylo plume"}', as_json
        )
        assert status == 200, payload
        assert connection.sock is sock
    finally:
        connection.close()


# --- load with integrity -----------------------------------------------------------------


@dataclass
class ClientRecord:
    """What one client was answered."""

    predictions: dict[int, AnsweredPrediction] = field(default_factory=dict)
    feedback: dict[int, int] = field(default_factory=dict)
    statuses: dict[str, list[int]] = field(default_factory=dict)
    unexpected: list[str] = field(default_factory=list)

    def count(self, kind: str, status: int) -> None:
        self.statuses.setdefault(kind, []).append(status)


def _predict(
    http: httpx.Client, record: ClientRecord, designation: str, *, in_query: bool
) -> int | None:
    if in_query:
        response = http.post("/predict/", params={"designation": designation, "limit": 5})
    else:
        response = http.post("/predict/", json={"designation": designation})
    record.count("predict", response.status_code)
    if response.status_code != 200:
        record.unexpected.append(f"predict {response.status_code} {response.text[:200]}")
        return None
    prediction_id = int(response.headers["X-Prediction-Id"])
    record.predictions[prediction_id] = AnsweredPrediction(
        designation, response.json(), response.headers["X-Model-Version"]
    )
    return prediction_id


def _batch(http: httpx.Client, record: ClientRecord, designations: list[str]) -> None:
    response = http.post("/predict/batch", json=[{"designation": d} for d in designations])
    record.count("batch", response.status_code)
    if response.status_code != 200:
        record.unexpected.append(f"batch {response.status_code} {response.text[:200]}")
        return
    version = response.headers["X-Model-Version"]
    for designation, result in zip(designations, response.json(), strict=True):
        record.predictions[result["prediction_id"]] = AnsweredPrediction(
            designation, result["categories"], version
        )


def _feedback(http: httpx.Client, record: ClientRecord, prediction_id: int, product: int) -> None:
    predicted = record.predictions[prediction_id].categories[0]["category_id"]
    response = http.post(
        "/feedback/",
        json={
            "product_id": product,
            "prediction_id": prediction_id,
            "real_category_id": 10,
            "pred_category_id": predicted,
        },
    )
    record.count("feedback", response.status_code)
    if response.status_code != 201:
        record.unexpected.append(f"feedback {response.status_code} {response.text[:200]}")
        return
    body = response.json()
    assert body["prediction_id"] == prediction_id
    record.feedback[body["id"]] = prediction_id


def _client(api_url: str, headers: dict[str, str], number: int, start: threading.Event) -> Any:
    record = ClientRecord()
    with httpx.Client(base_url=api_url, headers=headers, timeout=120.0) as http:
        start.wait()
        last_single: int | None = None
        for step in range(REQUESTS_PER_CLIENT):
            text = f"Peluche lapin {number}-{step} très douce, « édition » n°{step}"
            match step % 4:
                case 0 | 1:
                    last_single = _predict(http, record, text, in_query=step % 4 == 1)
                case 2:
                    _batch(http, record, [f"{text} / {item}" for item in range(BATCH_SIZE)])
                case _:
                    if last_single is not None:
                        _feedback(http, record, last_single, 1_000_000 * (number + 1) + step)
                        last_single = None
                    else:
                        _predict(http, record, text, in_query=False)
    return record


@pytest.mark.parametrize("kind", DATABASES)
def test_concurrent_mixed_load_loses_and_duplicates_nothing(
    apis: dict[str, RunningApi], kind: str
) -> None:
    running = apis[kind]
    start = threading.Event()
    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        futures = [
            pool.submit(_client, running.api.api_url, running.admin.headers, number, start)
            for number in range(CLIENTS)
        ]
        started = time.perf_counter()
        start.set()
        records: list[ClientRecord] = [future.result(timeout=600) for future in futures]
        seconds = time.perf_counter() - started
    requests = sum(len(s) for r in records for s in r.statuses.values())
    statuses: dict[str, dict[int, int]] = {}
    for record in records:
        for name, codes in record.statuses.items():
            for code in codes:
                statuses.setdefault(name, {}).setdefault(code, 0)
                statuses[name][code] += 1
    predictions = {pid: answer for r in records for pid, answer in r.predictions.items()}
    feedback = {fid: pid for r in records for fid, pid in r.feedback.items()}
    print(
        f"\n{kind}: {requests} requests from {CLIENTS} clients in {seconds:.1f} s "
        f"({requests / seconds:.0f} requests/s); statuses {statuses}; "
        f"{len(predictions)} predictions, {len(feedback)} feedback"
    )
    unexpected = [line for r in records for line in r.unexpected]
    assert not unexpected, (unexpected[:10], running.api.log_tail())
    assert requests == CLIENTS * REQUESTS_PER_CLIENT >= 2000
    # Distinct ids: no prediction id was answered twice.
    answered = sum(len(r.predictions) for r in records)
    assert len(predictions) == answered
    assert_predictions_stored(running.database_url, predictions)
    assert_feedback_stored_once(running.database_url, feedback)
    assert len(feedback) == statuses["feedback"][201]
