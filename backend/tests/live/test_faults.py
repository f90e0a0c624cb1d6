"""Fault tests on a real API process: its database or its model registry becomes unreachable.

The API (``python -m app.serve``) serves a model from a real ``mlflow server`` and stores in a
PostgreSQL database of its own, each reached through a :class:`~tests.helpers.tcp_proxy.TcpProxy`
on loopback that the tests cut and restore (the shared PostgreSQL cannot be restarted):

- the database cut under a steady prediction load, twice (connections refused, then a black
  hole that never answers): requests get ``503 {"detail"}`` with ``Retry-After`` within
  ``DATABASE_TIMEOUT_SECONDS`` plus a margin, never hang; the service recovers by itself when the
  proxy forwards again; every prediction answered 200 is stored as answered;
- the registry cut: the loaded model keeps serving, ``/health/ready`` stays 200 and says the
  registry is unreachable, and stops saying so once it answers again.

The outage → 503 latency and the recovery time are printed (``-s`` shows them).
"""

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy.engine import make_url

from app.core.config import Settings
from tests.browser.live_api import LiveApi, ServerSpec, run_live_apis
from tests.conftest import SESSION_HOME, Account, migrated_database, seed_admin
from tests.helpers.integrity import AnsweredPrediction, assert_predictions_stored
from tests.helpers.mlflow_server import TrackingServer, run_tracking_server
from tests.helpers.models import TrainedModels
from tests.helpers.tcp_proxy import CutMode, TcpProxy

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

MODEL = "faulty"
DATABASE_TIMEOUT_SECONDS = 2.0
"""The API's ``DATABASE_TIMEOUT_SECONDS`` here (libpq's smallest ``connect_timeout``)."""
ANSWER_MARGIN_SECONDS = 4.0
"""What a 503 may take beyond the timeout on a busy 2-core machine (one reconnection attempt,
the thread pool, the model call of a request already past its database reads)."""
OUTAGE_SECONDS = 5.0
RECOVERY_TIMEOUT_SECONDS = 30.0
CLIENTS = 4
API_START_TIMEOUT_SECONDS = 300.0


@dataclass(frozen=True)
class FaultedApi:
    """The API process and the proxies in front of its database and its registry."""

    api: LiveApi
    database_url: str
    """The database itself (not through the proxy), for checks."""
    database_proxy: TcpProxy
    registry_proxy: TcpProxy
    admin: Account


@pytest.fixture(scope="module")
def tracking_server(trained_text: TrainedModels, tracking_uri: str) -> Iterator[TrackingServer]:
    """A real ``mlflow server`` holding ``faulty@production``."""
    with run_tracking_server(
        SESSION_HOME / "faults-mlflow", trained_text, tracking_uri, model=MODEL, versions=1
    ) as server:
        yield server


@pytest.fixture(scope="module")
def faulted(
    tracking_server: TrackingServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[FaultedApi]:
    """The API serving ``faulty@production`` on PostgreSQL, both through cuttable proxies."""
    folder = tmp_path_factory.mktemp("faults")
    with migrated_database("postgresql", "faults") as database_url:
        admin = seed_admin(database_url, Settings())
        database = make_url(database_url)
        registry_port = urlsplit(tracking_server.url).port
        with (
            TcpProxy(database.host or "127.0.0.1", database.port or 5432) as database_proxy,
            TcpProxy("127.0.0.1", int(registry_port or 0)) as registry_proxy,
        ):
            environment = {
                "SQLALCHEMY_DATABASE_URI": database.set(
                    host="127.0.0.1", port=database_proxy.port
                ).render_as_string(hide_password=False),
                "DATABASE_TIMEOUT_SECONDS": str(DATABASE_TIMEOUT_SECONDS),
                "MLFLOW_TRACKING_URI": f"http://127.0.0.1:{registry_proxy.port}",
                # Fail a registry check at once: the API asks again every reload interval.
                "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0",
                "MLFLOW_HTTP_REQUEST_TIMEOUT": "5",
                "MODEL_NAME": MODEL,
                "MODEL_ALIAS": "production",
                "MODEL_RELOAD_INTERVAL_SECONDS": "0.5",
                "STATE_DIR": str(folder / "state"),
            }
            spec = ServerSpec(environment=environment, log_path=folder / "api.log")
            with run_live_apis({"api": spec}, API_START_TIMEOUT_SECONDS) as apis:
                yield FaultedApi(apis["api"], database_url, database_proxy, registry_proxy, admin)


@dataclass(frozen=True)
class Answer:
    """One request of the steady load: when it was sent and answered, and what came back."""

    started: float
    finished: float
    status: int | None
    """``None``: no HTTP answer at all (the connection failed)."""
    designation: str
    body: Any = None
    headers: dict[str, str] | None = None
    error: str | None = None


class SteadyLoad:
    """``CLIENTS`` threads sending predictions one after the other until stopped."""

    def __init__(self, api_url: str, headers: dict[str, str]) -> None:
        self.api_url = api_url
        self.headers = headers
        self.answers: list[Answer] = []
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._client, args=(number,), daemon=True)
            for number in range(CLIENTS)
        ]

    def _client(self, number: int) -> None:
        with httpx.Client(timeout=60.0) as http:
            sent = 0
            while not self._stop.is_set():
                designation = f"Lampe de chevet réglable {number}-{sent}"
                sent += 1
                started = time.monotonic()
                try:
                    response = http.post(
                        f"{self.api_url}/predict/",
                        json={"designation": designation},
                        params={"limit": 3},
                        headers=self.headers,
                    )
                except httpx.TransportError as error:
                    self.answers.append(
                        Answer(started, time.monotonic(), None, designation, error=repr(error))
                    )
                    continue
                self.answers.append(
                    Answer(
                        started,
                        time.monotonic(),
                        response.status_code,
                        designation,
                        response.json(),
                        dict(response.headers),
                    )
                )
                time.sleep(0.02)

    def __enter__(self) -> "SteadyLoad":
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(90)

    def wait_for(self, condition: Any, timeout: float) -> bool:
        """Wait until ``condition(answers)`` holds (or ``timeout`` seconds passed)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition(list(self.answers)):
                return True
            time.sleep(0.05)
        return False


def _cut_and_restore(load: SteadyLoad, proxy: TcpProxy, mode: CutMode) -> dict[str, float]:
    """Cut the database for ``OUTAGE_SECONDS`` under ``load``; return the measured timings."""
    assert load.wait_for(lambda answers: sum(a.status == 200 for a in answers) >= 8, 60)
    cut_at = time.monotonic()
    proxy.cut(mode)
    time.sleep(OUTAGE_SECONDS)
    restored_at = time.monotonic()
    proxy.restore()
    recovered = load.wait_for(
        lambda answers: any(a.status == 200 and a.started >= restored_at for a in answers),
        RECOVERY_TIMEOUT_SECONDS,
    )
    answers = list(load.answers)
    assert recovered, f"no 200 within {RECOVERY_TIMEOUT_SECONDS} s of the restore ({mode})"
    during = [a for a in answers if cut_at <= a.started < restored_at]
    refused = [a for a in answers if a.status == 503 and a.finished >= cut_at]
    assert refused, f"no 503 while the database was cut ({mode})"
    first_503 = min(a.finished for a in refused)
    first_200 = min(a.finished for a in answers if a.status == 200 and a.started >= restored_at)
    return {
        "outage_to_503_s": first_503 - cut_at,
        "slowest_answer_during_outage_s": max(a.finished - a.started for a in during),
        "answers_during_outage": len(during),
        "503_during_outage": sum(a.status == 503 for a in during),
        "recovery_s": first_200 - restored_at,
    }


def test_database_outage_under_load_answers_503_and_recovers(faulted: FaultedApi) -> None:
    timings: dict[str, dict[str, float]] = {}
    with SteadyLoad(faulted.api.api_url, faulted.admin.headers) as load:
        for mode in ("refuse", "blackhole"):
            timings[mode] = _cut_and_restore(load, faulted.database_proxy, mode)
        # Served normally again.
        count = len(load.answers)
        assert load.wait_for(lambda answers: len(answers) >= count + 8, 60)
    answers = load.answers
    for mode, figures in timings.items():
        print(
            f"database cut ({mode}, DATABASE_TIMEOUT_SECONDS={DATABASE_TIMEOUT_SECONDS}): "
            + ", ".join(f"{key}={value:.2f}" for key, value in figures.items())
        )
    print(
        f"{len(answers)} requests: {sum(a.status == 200 for a in answers)} answered 200, "
        f"{sum(a.status == 503 for a in answers)} answered 503"
    )
    log = faulted.api.log_tail()
    assert all(a.status is not None for a in answers), (
        [a.error for a in answers if a.status is None][:5],
        log,
    )
    assert {a.status for a in answers} <= {200, 503}, (
        [(a.status, a.body) for a in answers if a.status not in {200, 503}][:5],
        log,
    )
    for answer in answers:
        if answer.status == 503:
            assert answer.headers is not None
            assert int(answer.headers["retry-after"]) >= 1
            assert answer.body == {"detail": answer.body["detail"]}
            assert "database is unavailable" in answer.body["detail"]
    for mode, figures in timings.items():
        # Nobody waits much longer than the configured timeout: no hang.
        assert (
            figures["slowest_answer_during_outage_s"]
            <= DATABASE_TIMEOUT_SECONDS + ANSWER_MARGIN_SECONDS
        ), (mode, figures)
        assert figures["outage_to_503_s"] <= DATABASE_TIMEOUT_SECONDS + ANSWER_MARGIN_SECONDS
    # No acknowledged loss: every 200 is stored, as answered.
    answered = {
        int(a.headers["x-prediction-id"]): AnsweredPrediction(
            a.designation, a.body, a.headers["x-model-version"]
        )
        for a in answers
        if a.status == 200 and a.headers is not None
    }
    assert len(answered) == sum(a.status == 200 for a in answers)
    assert_predictions_stored(faulted.database_url, answered)
    ready = httpx.get(f"{faulted.api.api_url}/health/ready", timeout=30)
    assert ready.status_code == 200, ready.text


def _ready(api: LiveApi) -> httpx.Response:
    return httpx.get(f"{api.api_url}/health/ready", timeout=30)


def _wait_for_registry(api: LiveApi, reachable: bool, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    body: dict[str, Any] = {}
    while time.monotonic() < deadline:
        response = _ready(api)
        body = response.json()
        if response.status_code == 200 and body["registry"]["reachable"] is reachable:
            return body
        time.sleep(0.2)
    pytest.fail(f"the registry is not reported reachable={reachable}: {body}\n{api.log_tail()}")


def test_registry_outage_keeps_serving_and_ready_says_why(faulted: FaultedApi) -> None:
    api = faulted.api
    headers = faulted.admin.headers
    assert _ready(api).json()["warnings"] == []
    faulted.registry_proxy.cut("refuse")
    try:
        cut_at = time.monotonic()
        body = _wait_for_registry(api, reachable=False)
        print(f"registry cut: reported by /health/ready after {time.monotonic() - cut_at:.1f} s")
        # Still ready, serving the loaded model, and saying what is wrong.
        assert body["status"] == "ready"
        assert body["model"] == f"{MODEL}@production (version 1)"
        (warning,) = body["warnings"]
        assert warning.startswith("model registry unreachable since ")
        assert body["registry"]["error"] in warning
        assert body["registry"]["unreachable_since"]
        current = httpx.get(f"{api.api_url}/models/current", timeout=30).json()
        assert current["version"] == "1"
        assert current["registry"] == body["registry"]
        # The alias target is the last one the registry told, still the served version.
        assert current["alias_target"]["version"] == "1"
        for number in range(5):
            response = httpx.post(
                f"{api.api_url}/predict/",
                json={"designation": f"Coussin brodé {number}"},
                headers=headers,
                timeout=60,
            )
            assert response.status_code == 200, response.text
            assert response.headers["X-Model-Version"] == "1"
    finally:
        faulted.registry_proxy.restore()
    body = _wait_for_registry(api, reachable=True)
    assert body["warnings"] == []
    assert body["registry"] == {"reachable": True, "error": None, "unreachable_since": None}
