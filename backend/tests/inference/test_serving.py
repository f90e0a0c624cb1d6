"""Serving: no model yet (503), a model registered later, hot reload when the alias moves."""

import logging
import threading
import time
import uuid
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from mlflow.artifacts import download_artifacts
from mlflow.tracking import MlflowClient

from app.main import create_app
from tests.conftest import make_settings
from tests.helpers.models import promote

API = "/api/v1"
PRODUCT = {"designation": "Figurine Dragon Ball Z Goku 18 cm"}


def registry(tracking_uri: str) -> MlflowClient:
    return MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)


def copy_of_text_v1(client: MlflowClient, name: str = "text") -> str:
    """Register another version of ``name`` with the artifacts of text version 1."""
    source = client.get_model_version("text", "1")
    assert source.source is not None
    if name != "text":
        client.create_registered_model(name)
    version = client.create_model_version(name, source=source.source, run_id=source.run_id)
    return str(version.version)


def wait_for(condition, timeout: float = 60.0, interval: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return False


def served_version(client: TestClient) -> str | None:
    response = client.get(f"{API}/models/current")
    return response.json()["version"] if response.status_code == 200 else None


def test_without_a_registered_model_the_api_starts_and_says_how_to_train(
    database_url, tracking_uri, trained_text, user
):
    name = f"late-{uuid.uuid4().hex[:8]}"
    settings = make_settings(
        database_url, MODEL_NAME=name, MODEL_ALIAS="production", MODEL_RELOAD_INTERVAL_SECONDS=0.3
    )
    with TestClient(create_app(settings)) as client:
        assert client.get(f"{API}/health/live").status_code == 200
        ready = client.get(f"{API}/health/ready")
        assert ready.status_code == 503
        assert "no model is loaded" in ready.json()["detail"]
        for response in (
            client.post(f"{API}/predict/", params=PRODUCT, headers=user.headers),
            client.post(f"{API}/predict/batch", json=[PRODUCT], headers=user.headers),
            client.get(f"{API}/models/current"),
        ):
            assert response.status_code == 503
            detail = response.json()["detail"]
            assert f"models:/{name}@production" in detail
            assert f"python -m scripts.train_{name}_model" in detail
        feedback = client.post(
            f"{API}/feedback/",
            json={"product_id": 1, "real_category_id": 10, "pred_category_id": 10},
            headers=user.headers,
        )
        assert feedback.status_code == 400

        # A model registered while the API runs is served without a restart.
        mlflow = registry(tracking_uri)
        version = copy_of_text_v1(mlflow, name)
        mlflow.set_registered_model_alias(name, "production", version)
        assert wait_for(lambda: served_version(client) == version)
        response = client.post(f"{API}/predict/", params=PRODUCT, headers=user.headers)
        assert response.status_code == 200
        assert response.headers["X-Model-Name"] == name
        assert client.get(f"{API}/health/ready").status_code == 200


@pytest.mark.slow
def test_hot_reload_when_the_alias_moves(database_url, tracking_uri, trained_text, user, caplog):
    caplog.set_level(logging.INFO, logger="app.inference.model_server")
    mlflow = registry(tracking_uri)
    alias = f"reload-{uuid.uuid4().hex[:6]}"
    mlflow.set_registered_model_alias("text", alias, "1")
    next_version = copy_of_text_v1(mlflow)
    settings = make_settings(
        database_url, MODEL_NAME="text", MODEL_ALIAS=alias, MODEL_RELOAD_INTERVAL_SECONDS=0.3
    )
    with TestClient(create_app(settings)) as client:
        assert served_version(client) == "1"
        answers: list[tuple[int, str | None]] = []
        stop = threading.Event()

        def hammer() -> None:
            while not stop.is_set():
                response = client.post(f"{API}/predict/", params=PRODUCT, headers=user.headers)
                answers.append((response.status_code, response.headers.get("X-Model-Version")))

        thread = threading.Thread(target=hammer)
        thread.start()
        try:
            assert wait_for(lambda: len(answers) >= 3)
            # The promotion a data scientist runs (the MLflow UI does the same).
            promote("text", next_version, alias, tracking_uri)
            assert wait_for(lambda: served_version(client) == next_version)
            count = len(answers)
            assert wait_for(lambda: len(answers) >= count + 3)
            swapped = len(answers)

            # Under the same load, the alias moves to a version that cannot load: it is logged
            # and skipped, the previous one keeps serving, and no request fails.
            broken = mlflow.create_model_version(
                "text", source=str(trained_text.root / "no-such-model"), run_id=None
            )
            broken_version = str(broken.version)
            mlflow.set_registered_model_alias("text", alias, broken_version)
            assert wait_for(lambda: "failed to load" in caplog.text)
            count = len(answers)
            assert wait_for(lambda: len(answers) >= count + 3)
        finally:
            stop.set()
            thread.join(60)
        assert {status for status, _ in answers} == {200}, answers
        versions = [version for _, version in answers]
        assert versions[0] == "1"
        assert versions[swapped - 1] == next_version
        # Once swapped, never back, and never the broken version.
        first_new = versions.index(next_version)
        assert set(versions[first_new:]) == {next_version}
        assert len(versions) - swapped >= 3
        assert f"Version {broken_version} of text failed to load" in caplog.text
        assert f"still serving text@{alias} (version {next_version})" in caplog.text

        # Both probes tell what is served and what the alias points at, with the load error.
        current = client.get(f"{API}/models/current").json()
        assert (current["version"], current["alias"]) == (next_version, alias)
        target = current["alias_target"]
        assert (target["version"], target["state"]) == (broken_version, "failed")
        assert "cannot load models:/text/" + broken_version in target["load_error"]
        assert current["registry"] == {
            "reachable": True,
            "error": None,
            "unreachable_since": None,
        }
        ready = client.get(f"{API}/health/ready")
        assert ready.status_code == 200
        body = ready.json()
        assert body["model"] == f"text@{alias} (version {next_version})"
        # The model server polls every 0.3 s: only the time of its last check may differ.
        assert {**body["alias_target"], "checked_at": None} == {**target, "checked_at": None}
        (warning,) = body["warnings"]
        assert f"points at version {broken_version}, which failed to load" in warning
        assert f"still serving version {next_version}" in warning

        # Promoting a good version again clears the warning.
        mlflow.set_registered_model_alias("text", alias, "1")
        assert wait_for(lambda: served_version(client) == "1")
        body = client.get(f"{API}/health/ready").json()
        assert body["warnings"] == []
        assert body["alias_target"]["state"] == "served"


@pytest.mark.slow
def test_a_version_that_failed_to_load_is_tried_again_later(
    database_url, tracking_uri, trained_text, tmp_path
):
    mlflow = registry(tracking_uri)
    alias = f"retry-{uuid.uuid4().hex[:6]}"
    mlflow.set_registered_model_alias("text", alias, "1")
    # A version registered before its artifacts are where it says (copied late, or a store
    # that was unreachable while the API loaded it).
    late_path = tmp_path / "late-model"
    late = str(mlflow.create_model_version("text", source=str(late_path), run_id=None).version)
    settings = make_settings(
        database_url,
        MODEL_NAME="text",
        MODEL_ALIAS=alias,
        MODEL_RELOAD_INTERVAL_SECONDS=0.3,
        MODEL_LOAD_RETRY_SECONDS=1.0,
    )
    with TestClient(create_app(settings)) as client:
        assert served_version(client) == "1"
        mlflow.set_registered_model_alias("text", alias, late)

        def target_state() -> str | None:
            target = client.get(f"{API}/models/current").json()["alias_target"]
            return target["state"] if target["version"] == late else None

        assert wait_for(lambda: target_state() == "failed")
        assert served_version(client) == "1"
        # The artifacts arrive (in one rename): the next try loads them, without a restart.
        downloaded = download_artifacts(
            artifact_uri="models:/text/1",
            dst_path=str(tmp_path / "download"),
            tracking_uri=tracking_uri,
        )
        Path(downloaded).rename(late_path)
        assert wait_for(lambda: served_version(client) == late)
        body = client.get(f"{API}/health/ready").json()
        assert body["alias_target"]["state"] == "served"
        assert body["warnings"] == []
        # The earlier failure is not reported beside the version that now serves, at once
        # and after the next checks of the alias.
        assert body["alias_target"]["load_error"] is None
        time.sleep(1.0)
        target = client.get(f"{API}/models/current").json()["alias_target"]
        assert (target["state"], target["load_error"]) == ("served", None)


def test_ready_warns_of_a_removed_alias_and_of_a_challenger_that_failed_to_load(
    database_url, tracking_uri, trained_text
):
    mlflow = registry(tracking_uri)
    alias, challenger = f"gone-{uuid.uuid4().hex[:6]}", f"ch-{uuid.uuid4().hex[:6]}"
    mlflow.set_registered_model_alias("text", alias, "1")
    settings = make_settings(
        database_url,
        MODEL_NAME="text",
        MODEL_ALIAS=alias,
        MODEL_CHALLENGER_ALIAS=challenger,
        MODEL_RELOAD_INTERVAL_SECONDS=0.3,
    )
    with TestClient(create_app(settings)) as client:
        assert served_version(client) == "1"
        assert client.get(f"{API}/health/ready").json()["warnings"] == []
        broken = mlflow.create_model_version(
            "text", source=str(trained_text.root / "no-such-model"), run_id=None
        )
        mlflow.set_registered_model_alias("text", challenger, str(broken.version))
        mlflow.delete_registered_model_alias("text", alias)

        def warnings() -> list[str]:
            return list(client.get(f"{API}/health/ready").json()["warnings"])

        assert wait_for(lambda: len(warnings()) == 2), warnings()
        removed, failed = warnings()
        assert f"models:/text@{alias} points at no version any more" in removed
        assert "still serving version 1" in removed
        assert f"models:/text@{challenger} points at version {broken.version}" in failed
        assert "no challenger is shadowing" in failed
        assert served_version(client) == "1"  # the removed alias changes nothing served
