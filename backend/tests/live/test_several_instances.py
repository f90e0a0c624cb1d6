"""Several API instances behind one PostgreSQL database and one MLflow tracking server.

The test starts what a scaled-out deployment runs: an ``mlflow server`` (SQLite backend store,
artifacts served through the server, one worker, no job runner) holding a registered model
``fleet`` with two versions, a new PostgreSQL database prepared by two prestarts running at
once, and two uvicorn processes on their own ports serving ``fleet@production`` and checking the
alias every second. Predictions and feedback sent to both land in the one database with
distinct ids; one product's feedback is accepted once whichever instance receives it; when the
alias moves, both instances serve the new version within the reload interval plus the time to
load it. The timings are printed (run with ``-s`` to see them).
"""

import os
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from mlflow.tracking import MlflowClient
from sqlalchemy import func, select

from app.db.models import Feedback, Prediction
from app.db.session import create_db_engine, create_session_factory
from tests.browser.live_api import ServerSpec, run_live_apis
from tests.conftest import SESSION_HOME, create_postgres_database, drop_postgres_database
from tests.helpers.mlflow_server import TrackingServer, run_tracking_server
from tests.helpers.models import TrainedModels
from tests.helpers.prestart import run_prestarts_together

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]

MODEL = "fleet"
ALIAS = "production"
RELOAD_INTERVAL_SECONDS = 1.0
LOAD_ALLOWANCE_SECONDS = 90.0
"""Loading a version (TensorFlow, the artifacts through the server) on a busy 2-core machine."""
API_START_TIMEOUT_SECONDS = 420.0
"""Two processes importing TensorFlow and loading a model at once, on a busy 2-core machine."""
PREDICTIONS = 24


@pytest.fixture(scope="module")
def tracking_server(trained_text: TrainedModels, tracking_uri: str) -> Iterator[TrackingServer]:
    """``mlflow server`` on a SQLite store of its own, serving its artifacts."""
    with run_tracking_server(
        SESSION_HOME / "fleet-mlflow", trained_text, tracking_uri, model=MODEL, alias=ALIAS
    ) as server:
        yield server


@pytest.fixture(scope="module")
def shared_database() -> Iterator[str]:
    """A new PostgreSQL database, prepared by two prestarts started at the same time."""
    url = create_postgres_database("instances")
    try:
        run_prestarts_together(url, 2)
        yield url
    finally:
        drop_postgres_database(url)


def _served_version(api_url: str) -> str | None:
    response = httpx.get(f"{api_url}/health/ready", timeout=5.0)
    if response.status_code != httpx.codes.OK:
        return None
    label = str(response.json().get("model", ""))
    return label.rpartition("(version ")[2].rstrip(")") or None


def _login(api_url: str) -> dict[str, str]:
    response = httpx.post(
        f"{api_url}/login/access-token",
        data={
            "username": os.environ["FIRST_ADMINUSER"],
            "password": os.environ["FIRST_ADMINUSER_PASSWORD"],
        },
        timeout=30.0,
    )
    assert response.status_code == httpx.codes.OK, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def _predict(api_url: str, headers: dict[str, str], number: int) -> tuple[int, str]:
    response = httpx.post(
        f"{api_url}/predict/",
        params={"designation": f"Peluche lapin numéro {number}", "limit": 3},
        headers=headers,
        timeout=60.0,
    )
    assert response.status_code == httpx.codes.OK, response.text
    return int(response.headers["X-Prediction-Id"]), response.headers["X-Model-Version"]


def test_instances_share_the_database_and_follow_the_alias_together(
    tracking_server: TrackingServer, shared_database: str, tmp_path: Path
) -> None:
    environment = {
        "SQLALCHEMY_DATABASE_URI": shared_database,
        "MLFLOW_TRACKING_URI": tracking_server.url,
        "MODEL_NAME": MODEL,
        "MODEL_ALIAS": ALIAS,
        "MODEL_RELOAD_INTERVAL_SECONDS": str(RELOAD_INTERVAL_SECONDS),
        "STATE_DIR": str(tmp_path / "state"),
    }
    specs = {
        name: ServerSpec(environment=environment, log_path=tmp_path / f"api-{name}.log")
        for name in ("a", "b")
    }
    started = time.monotonic()
    with run_live_apis(specs, API_START_TIMEOUT_SECONDS) as apis:
        print(f"two API instances ready in {time.monotonic() - started:.1f} s")
        urls = [api.api_url for api in apis.values()]
        assert len({api.base_url for api in apis.values()}) == 2
        first, second = tracking_server.versions
        assert [_served_version(url) for url in urls] == [first, first]

        # A token from one instance is valid on the other: they share the signing key.
        headers = _login(urls[0])
        with ThreadPoolExecutor(max_workers=4) as pool:
            answers = list(
                pool.map(
                    lambda number: _predict(urls[number % 2], headers, number), range(PREDICTIONS)
                )
            )
        prediction_ids = [prediction_id for prediction_id, _ in answers]
        assert len(set(prediction_ids)) == PREDICTIONS
        assert {version for _, version in answers} == {first}

        # Feedback for each prediction, sent to the instance that did not predict it.
        for number, prediction_id in enumerate(prediction_ids):
            response = httpx.post(
                f"{urls[(number + 1) % 2]}/feedback/",
                json={
                    "product_id": 900_000 + number,
                    "real_category_id": 1280,
                    "prediction_id": prediction_id,
                },
                headers=headers,
                timeout=30.0,
            )
            assert response.status_code == httpx.codes.CREATED, response.text
        # The same product's feedback again, on either instance: the one database refuses it.
        duplicate = {
            "product_id": 900_000,
            "model_version": first,
            "real_category_id": 10,
            "pred_category_id": 1280,
        }
        for url in urls:
            response = httpx.post(f"{url}/feedback/", json=duplicate, headers=headers, timeout=30)
            assert response.status_code == httpx.codes.BAD_REQUEST, response.text

        engine = create_db_engine(shared_database)
        try:
            with create_session_factory(engine)() as session:
                stored = session.scalars(select(Prediction.id)).all()
                assert sorted(stored) == sorted(prediction_ids)
                feedback_ids = session.scalars(select(Feedback.id)).all()
                assert len(feedback_ids) == len(set(feedback_ids)) == PREDICTIONS
                linked = session.scalar(
                    select(func.count()).where(Feedback.prediction_id.in_(prediction_ids))
                )
                assert linked == PREDICTIONS
        finally:
            engine.dispose()

        # Move the alias: both instances must serve the new version, without a restart.
        MlflowClient(
            tracking_uri=tracking_server.url, registry_uri=tracking_server.url
        ).set_registered_model_alias(MODEL, ALIAS, second)
        moved = time.monotonic()
        followed: dict[str, float] = {}
        deadline = moved + RELOAD_INTERVAL_SECONDS + LOAD_ALLOWANCE_SECONDS
        while len(followed) < len(urls) and time.monotonic() < deadline:
            for url in urls:
                if url not in followed and _served_version(url) == second:
                    followed[url] = time.monotonic() - moved
            time.sleep(0.2)
        logs = "\n".join(api.log_tail(1500) for api in apis.values())
        assert len(followed) == len(urls), f"not every instance serves version {second}:\n{logs}"
        print(
            "alias moved; instances serve version "
            f"{second} after {', '.join(f'{seconds:.1f} s' for seconds in followed.values())} "
            f"(reload interval {RELOAD_INTERVAL_SECONDS:.0f} s)"
        )
        for number, url in enumerate(urls):
            assert _predict(url, headers, 1000 + number)[1] == second
