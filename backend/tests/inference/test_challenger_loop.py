"""The whole loop on a tiny generated dataset: production data trains and judges the next model.

v1 (the session's text model, registered again as ``loop``) serves products of a fresh sample,
with their images, and sellers send their categories. The feedback is exported, merged with the
session's sample and trains v2, which becomes the challenger: it shadows the next products
(stored, linked, the answers unchanged) and ``/monitoring/challenger`` compares both on them.
``evaluate_challenger`` replays those production rows; the gate refuses v3 (trained on shuffled
labels) against v1, and once v3 holds ``production`` lets v2, better than it, take the alias (the
API follows without a restart).
"""

import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from mlflow.tracking import MlflowClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.db.models import ShadowPrediction
from app.inference.model_server import ModelServer
from app.inference.shadow import ShadowPredictor
from app.main import create_app
from product_classifier.data.dataset_folder import image_paths, split_file_names
from product_classifier.data.original import read_original
from tests.conftest import Account, make_account, make_settings, seeded_database, sessions_on
from tests.helpers import models as model_helpers
from tests.helpers.models import run_cli

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]

API = "/api/v1"
NAME = "loop"
TRAFFIC_PRODUCTS = 80
"""Products of the fresh sample: the first half trains v2, the second half judges it."""


@pytest.fixture(scope="module")
def database_url() -> Iterator[str]:
    """A database of this module only (the export reads every feedback since a time)."""
    with seeded_database("sqlite", "loop_test") as url:
        yield url


@pytest.fixture(scope="module")
def session_factory(database_url: str) -> Iterator[sessionmaker[Session]]:
    """Sessions on this module's database."""
    with sessions_on(database_url) as factory:
        yield factory


@pytest.fixture(scope="module")
def registry(tracking_uri: str) -> MlflowClient:
    """The session's MLflow registry."""
    return MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)


def traffic(root: Path, tracking_uri: str) -> tuple[pd.DataFrame, "pd.Series[int]", list[Path]]:
    """A fresh generated sample (another seed than the session's): features, labels, images."""
    run_cli(
        "scripts.make_sample_dataset",
        *("--output-dir", str(root), "--n-products", str(TRAFFIC_PRODUCTS)),
        *("--seed", "11", "--workers", "1"),
        tracking_uri=tracking_uri,
    )
    data = read_original(root)
    return data.X, data.y, image_paths(root, data.X)


def send(
    client: TestClient, user: Account, rows: pd.DataFrame, images: list[Path]
) -> list[tuple[int, object]]:
    """Predict each row (texts and image); return (prediction id, answer) per row."""
    answers = []
    for row, image in zip(rows.itertuples(), images, strict=True):
        response = client.post(
            f"{API}/predict/",
            data={"designation": row.designation, "description": row.description},
            files={"image": (image.name, image.read_bytes(), "image/jpeg")},
            headers=user.headers,
        )
        assert response.status_code == 200, response.text
        answers.append((int(response.headers["X-Prediction-Id"]), response.json()))
    return answers


def send_feedback(
    client: TestClient, user: Account, prediction_ids: list[int], labels: list[int]
) -> None:
    """The sellers' categories for these predictions (product ids of this run only)."""
    base = 10**12 + uuid.uuid4().int % 10**9
    for offset, (prediction_id, label) in enumerate(zip(prediction_ids, labels, strict=True)):
        body = {
            "product_id": base + offset,
            "real_category_id": int(label),
            "prediction_id": prediction_id,
        }
        response = client.post(f"{API}/feedback/", json=body, headers=user.headers)
        assert response.status_code == 201, response.text


def wait_for_version(server: ModelServer, version: str, timeout: float = 120) -> None:
    """Wait until ``server`` serves ``version`` (it follows its alias by itself)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        served = server.current
        if served is not None and served.version == version:
            return
        time.sleep(0.2)
    pytest.fail(f"{server.model_uri} did not load version {version} in {timeout:.0f} s")


def train(dataset: Path, output: Path, epochs: int, tracking_uri: str) -> str:
    """Train a text model on ``dataset`` into ``loop``; return its version."""
    run_cli(
        "scripts.train_text_model",
        *("--input-dir", str(dataset), "--output-dir", str(output), "--epochs", str(epochs)),
        *("--batch-size", "32", "--no-refit", "--registered-model", NAME),
        tracking_uri=tracking_uri,
        timeout=900,  # a few seconds on an idle machine, minutes on a loaded one
    )
    return model_helpers.latest_version(NAME, tracking_uri)


def shuffled_labels(dataset: Path, folder: Path) -> Path:
    """A copy of ``dataset`` whose training labels are shuffled (a deliberately worse model)."""
    import shutil

    shutil.copytree(dataset, folder)
    y_name = split_file_names("train")[1]
    targets = pd.read_csv(folder / y_name, index_col=0)
    targets["prdtypecode"] = np.random.default_rng(3).permutation(targets["prdtypecode"].to_numpy())
    targets.to_csv(folder / y_name)
    return folder


def test_production_feedback_trains_a_challenger_that_shadows_then_passes_the_gate(  # noqa: PLR0917
    database_url: str,
    session_factory: sessionmaker[Session],
    registry: MlflowClient,
    trained_text: model_helpers.TrainedModels,
    tracking_uri: str,
    tmp_path: Path,
) -> None:
    v1 = model_helpers.register_copy(NAME, "text", trained_text.versions["text"][0], tracking_uri)
    registry.set_registered_model_alias(NAME, "production", v1)
    store = tmp_path / "images"
    settings = make_settings(
        database_url,
        MODEL_NAME=NAME,
        MODEL_ALIAS="production",
        MODEL_RELOAD_INTERVAL_SECONDS=0.5,
        IMAGE_STORE_URL=str(store),
    )
    user = make_account(session_factory, settings)
    admin = make_account(session_factory, settings, is_admin=True)
    features, labels, images = traffic(tmp_path / "traffic", tracking_uri)
    half = TRAFFIC_PRODUCTS // 2
    first, second = slice(0, half), slice(half, None)

    with TestClient(create_app(settings)) as client:
        app_state = client.app.state  # type: ignore[attr-defined]
        champion: ModelServer = app_state.model_server
        shadow: ShadowPredictor = app_state.shadow
        assert champion.current is not None
        assert champion.current.version == v1

        # 1. v1 serves the first half of the products, with images; sellers answer.
        served = send(client, user, features.iloc[first], images[first])
        send_feedback(client, user, [i for i, _ in served], list(labels.iloc[first]))
        with session_factory() as session:
            assert not session.scalars(select(ShadowPrediction)).all(), "no challenger yet"

        # 2. The feedback becomes a dataset, merged with the session's sample; v2 learns on it.
        export = tmp_path / "feedback"
        exported = run_cli(
            "scripts.export_feedback_dataset",
            *("--output-dir", str(export), "--database-url", database_url),
            *("--image-store-url", str(store)),
            tracking_uri=tracking_uri,
        )
        assert f"{half} rows" in exported
        merged, dataset = tmp_path / "merged", tmp_path / "dataset"
        run_cli(
            "scripts.merge_original_folders",
            *("--input-dir", str(trained_text.original_dir), "--input-dir", str(export)),
            *("--output-dir", str(merged)),
            tracking_uri=tracking_uri,
        )
        run_cli(
            "scripts.create_datasets",
            *("--input-dir", str(merged), "--output-dir", str(dataset), "--mixed"),
            *("--image-size", "32", "--workers", "1", "--train-size", "0.8", "--test-size", "0.2"),
            tracking_uri=tracking_uri,
        )
        v2 = train(dataset, tmp_path / "v2", 3, tracking_uri)

        # 3. v2 becomes the challenger: the API loads it without a restart and shadows.
        registry.set_registered_model_alias(NAME, "challenger", v2)
        wait_for_version(shadow.challenger, v2)
        judged_from = datetime.now(UTC)
        shadowed = send(client, user, features.iloc[second], images[second])
        shadow.join()
        send_feedback(client, user, [i for i, _ in shadowed], list(labels.iloc[second]))
        with session_factory() as session:
            rows = session.scalars(select(ShadowPrediction)).all()
        assert sorted(row.prediction_id for row in rows) == sorted(i for i, _ in shadowed)
        assert {row.model_version for row in rows} == {v2}

        # The answers are v1's, as without a challenger: the same products again, no shadow.
        registry.delete_registered_model_alias(NAME, "challenger")
        time.sleep(1.5)  # the challenger's server sees the alias gone
        again = send(client, user, features.iloc[second], images[second])
        assert [answer for _, answer in again] == [answer for _, answer in shadowed]
        registry.set_registered_model_alias(NAME, "challenger", v2)

        # 4. The monitoring compares both on the shadowed predictions with feedback.
        response = client.get(
            f"{API}/monitoring/challenger", params={"days": 1}, headers=admin.headers
        )
        assert response.status_code == 200, response.text
        (pair,) = response.json()["comparisons"]
        assert (pair["champion_version"], pair["challenger_version"]) == (v1, v2)
        assert pair["shadowed"] == pair["labelled"] == TRAFFIC_PRODUCTS - half
        assert 0.0 <= pair["agreement_rate"] <= 1.0
        for name in ("accuracy", "weighted_f1"):
            difference = pair[f"{name}_difference"]
            expected = pair[f"challenger_{name}"] - pair[f"champion_{name}"]
            assert difference["value"] == pytest.approx(expected)
            assert difference["low"] <= difference["value"] <= difference["high"]

        # 5. Replay the production rows neither version trained on: both tables are the
        # evaluation's, whichever way it goes (v2 is not always better on 40 rows).
        source = ("--database-url", database_url, "--image-store-url", str(store))
        since = ("--from-feedback", "--since", judged_from.isoformat(), "--resamples", "200")
        replayed = f"on {TRAFFIC_PRODUCTS - half} rows (production feedback since"

        def evaluate(version: str) -> str:
            return run_cli(
                "scripts.evaluate_challenger",
                *("--challenger", f"models:/{NAME}/{version}", *since, *source),
                tracking_uri=tracking_uri,
            )

        assert replayed in evaluate(v2)
        promote = ("scripts.promote_model", "--name", NAME, "--alias", "production", "--gate")

        # 6. A version trained on shuffled labels is refused against v1, the holder.
        worse = shuffled_labels(dataset, tmp_path / "shuffled")
        v3 = train(worse, tmp_path / "v3", 1, tracking_uri)
        assert replayed in evaluate(v3)
        assert float(registry.get_model_version(NAME, v3).tags["evaluation.weighted_f1_gain"]) < 0
        with pytest.raises(pytest.fail.Exception, match=r"failed \(3\)"):
            run_cli(*promote, "--version", v3, tracking_uri=tracking_uri)
        assert str(registry.get_registered_model(NAME).aliases["production"]) == v1

        # 7. Once the worse version holds the alias (moved without the gate), v2 beats it:
        # the gate accepts v2, and the API serves it without a restart.
        run_cli(*promote[:-1], "--version", v3, tracking_uri=tracking_uri)
        assert replayed in evaluate(v2)
        assert float(registry.get_model_version(NAME, v2).tags["evaluation.weighted_f1_gain"]) > 0
        run_cli(*promote, "--version", v2, tracking_uri=tracking_uri)
        wait_for_version(champion, v2)
        answer = client.post(
            f"{API}/predict/", params={"designation": "Stylo plume"}, headers=user.headers
        )
        assert answer.headers["X-Model-Version"] == v2
